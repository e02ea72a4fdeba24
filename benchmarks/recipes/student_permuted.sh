#!/usr/bin/env bash
# Lever (docs/experiments/017): does character permutation (plates permute: the character cells of
# real crops recombined into new plates, the province drawn uniformly over the provinces present,
# half the other cells' characters uniformly, from any position) read more of plates-real-val?
# BASE (default: the run of student_geometry.sh) pseudo-labels plates-real-unlabelled; those
# labels plus the real training half of plates-real-dev are permuted into PERMUTED (default 20000)
# plates, and BASE is fine-tuned on its usual sources plus them (PERM_X times, default 1), with the
# same augmentation.
# The control is one more round without them (docs/experiments/016: a second self-training round
# on a model's own labels reads no more). EXTRA: more training flags (e.g. EXTRA="--blur 0.4").
# DONORS (e.g. runs/synth-donors-10k, made here with plates synth -n 10000 --seed 7): plates that give
# province cells only (plates permute --province-donors), for the provinces the real crops lack;
# DONOR_SHARE: the share of plates whose province they give (default: uniform over all provinces).
# Selection on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
EPOCHS=${EPOCHS:-6}
BASE=${BASE:-$R/student-geometry}
PERMUTED=${PERMUTED:-20000}
RUN=${RUN:-$R/student-permuted}
UNL=../shared/data/plates-real-unlabelled
pseudo=$R/pseudo-$(basename $BASE).txt perm=$R/permuted-$(basename $BASE) donate=()
if [ -n "${DONORS:-}" ]; then
  [ -d $DONORS ] || step $B/plates synth --out $DONORS -n 10000 --seed 7 --quiet
  perm=$R/permuted-donors${DONOR_SHARE:-}-$(basename $BASE) donate=(--province-donors $DONORS)
  [ -z "${DONOR_SHARE:-}" ] || donate+=(--donor-share $DONOR_SHARE)
fi
[ -f $pseudo ] || step $B/teacher pseudo-label $BASE --unlabelled $UNL --out $pseudo --threshold 0.9 \
  --head-threshold char1=0.99
[ -d $perm ] || step $B/plates permute $R/real-dev-split/train.txt $pseudo --out $perm -n $PERMUTED "${donate[@]}"
done_run $RUN || step $B/student train --train $R/synth-v6-100k --train "$R/real-dev-split/train.txt*10" \
  --train "$pseudo*4" --train "$perm*${PERM_X:-1}" --val ../shared/data/plates-real-val --batch-size 64 --quiet --run $RUN \
  "${S1_A05[@]}" --input-size 32x128 --epochs $EPOCHS --lr 1.5e-3 --warmup-epochs 0.25 --zoom-out 0.15 \
  --zoom-in 0.04 --rotate 5 --shear 5 --init $BASE ${EXTRA:-}

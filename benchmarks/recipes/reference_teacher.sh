#!/usr/bin/env bash
# #18 / #19: the reference teacher, a ResNet-18 at width 32 (3M parameters, 12 MB as a Keras folder:
# models/ stays under 40 MB), trained on what the shipped student's last round trains on: the v6
# synthetic plates, the real-dev training half x10, the pseudo-labels that BASE (default: the last
# run of reference_models.sh, the shipped student) gives plates-real-unlabelled, and the
# character-permuted plates made from those labels and the real half (plates permute), with the
# same crop geometry (looser, tighter, tilted, sheared) at the student's 32x128 input. Best epoch
# picked on plates-real-val (never trained or calibrated on). Resumable: rerun to continue.
#   round 1: EPOCHS (default 8) x 800 steps of batch 64 from scratch (runs/ref-teacher)
#   round k = 2..ROUNDS (default 4): fine-tune round k-1, EPOCHS2 (6) x 800 steps at lr 1.5e-3
#            (runs/ref-teacher-rK): a ResNet from scratch is still far from converged after round 1
source "$(dirname "$0")/setup.sh"
EPOCHS=${EPOCHS:-8}
EPOCHS2=${EPOCHS2:-6}
ROUNDS=${ROUNDS:-4}
BASE=${BASE:-$R/student-permuted-r2}
pseudo_sources $BASE
T=(--train $R/synth-v6-100k --train "$R/real-dev-split/train.txt*10" --train "$pseudo*4" --train $perm "${REF_TEACHER[@]}")
run_of() { [ $1 = 1 ] && echo $R/ref-teacher || echo $R/ref-teacher-r$1; }
done_run $(run_of 1) || step $B/teacher train "${T[@]}" --run $(run_of 1) --epochs $EPOCHS --lr 2e-3
for k in $(seq 2 $ROUNDS); do
  done_run $(run_of $k) || step $B/teacher train "${T[@]}" --run $(run_of $k) --init $(run_of $((k - 1))) \
    --epochs $EPOCHS2 --lr 1.5e-3 --warmup-epochs 0.25
done

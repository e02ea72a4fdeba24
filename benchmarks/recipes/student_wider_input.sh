#!/usr/bin/env bash
# Lever probe (docs/experiments/016): does a wider input (32x128 instead of 32x96: a third more
# pixels per character across) read more of plates-real-val? The student's round 6 at 32x128: its
# convolutions kept (--init-partial), the heads, which read the flattened and now wider feature
# map, start afresh; then the round recipe (its pseudo-labels x4, --zoom-out 0.15), EPOCHS (default
# 6) x 800 steps. Selection on plates-real-val, never trained on. Run reference_student.sh first.
source "$(dirname "$0")/setup.sh"
EPOCHS=${EPOCHS:-6}
S=("${S1_A05[@]}" --input-size 32x128)
SRC=(--train $R/synth-v6-100k --train "$R/real-dev-split/train.txt*10" --train "$R/pseudo-r6.txt*4"
  --val ../shared/data/plates-real-val --batch-size 64 --quiet)
RUN=$R/ref-student-w128
done_run $RUN || step $B/student train "${SRC[@]}" --run $RUN "${S[@]}" --init $R/ref-student-r6 --init-partial \
  --epochs $EPOCHS --lr 1.5e-3 --warmup-epochs 0.25 --zoom-out 0.15

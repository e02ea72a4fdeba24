#!/usr/bin/env bash
# Lever (docs/experiments/016): does a wider input (32x128 instead of 32x96: a third more pixels
# per character across) read more of plates-real-val? Round 1: the student's round 6 at 32x128,
# its convolutions kept (--init-partial), the heads, which read the flattened and now wider
# feature map, start afresh; trained as a round of reference_student.sh (round 6's pseudo-labels
# x4, --zoom-out 0.15). Rounds 2..ROUNDS (default 2): the previous round pseudo-labels
# plates-real-unlabelled and is fine-tuned with them. EPOCHS (default 6) x 800 steps each.
# Selection on plates-real-val, never trained on. Run reference_student.sh first.
source "$(dirname "$0")/setup.sh"
EPOCHS=${EPOCHS:-6}
ROUNDS=${ROUNDS:-2}
UNL=../shared/data/plates-real-unlabelled
S=("${S1_A05[@]}" --input-size 32x128 --epochs $EPOCHS --lr 1.5e-3 --warmup-epochs 0.25 --zoom-out 0.15)
SRC=(--train $R/synth-v6-100k --train "$R/real-dev-split/train.txt*10" --val ../shared/data/plates-real-val
  --batch-size 64 --quiet)
run_of() { [ $1 = 1 ] && echo $R/ref-student-w128 || echo $R/ref-student-w128-r$1; }
[ -f $R/pseudo-r6.txt ] || step $B/teacher pseudo-label $R/ref-student-r6 --unlabelled $UNL --out $R/pseudo-r6.txt \
  --threshold 0.9 --head-threshold char1=0.99
done_run $(run_of 1) || step $B/student train "${SRC[@]}" --train "$R/pseudo-r6.txt*4" --run $(run_of 1) "${S[@]}" \
  --init $R/ref-student-r6 --init-partial
for k in $(seq 2 $ROUNDS); do
  prev=$(run_of $((k - 1))) pseudo=$R/pseudo-w128-r$((k - 1)).txt
  [ -f $pseudo ] || step $B/teacher pseudo-label $prev --unlabelled $UNL --out $pseudo --threshold 0.9 \
    --head-threshold char1=0.99
  done_run $(run_of $k) || step $B/student train "${SRC[@]}" --train "$pseudo*4" --run $(run_of $k) "${S[@]}" \
    --init $prev
done

#!/usr/bin/env bash
# #18 / #19: the reference teacher, a ResNet-18 at width 32 (3M parameters, 3x the shipped
# student's MACs, 12 MB as a Keras folder: models/ stays under 40 MB), trained on what the
# student's recipe trains on: the v6 synthetic plates, the real-dev training half x10, and the
# pseudo-labels that the student's round STUDENT (default 6) gives plates-real-unlabelled, with
# crops up to 15% looser. Best epoch picked on plates-real-val (never trained or calibrated on).
# Run benchmarks/recipes/reference_student.sh first. Resumable: rerun to continue.
#   round 1: EPOCHS (default 8) x 800 steps of batch 64 from scratch (runs/ref-teacher)
#   round k = 2..ROUNDS (default 4): fine-tune round k-1, EPOCHS2 (6) x 800 steps at lr 1.5e-3
#            (runs/ref-teacher-rK): a ResNet from scratch is still far from converged after round 1
source "$(dirname "$0")/setup.sh"
EPOCHS=${EPOCHS:-8}
EPOCHS2=${EPOCHS2:-6}
ROUNDS=${ROUNDS:-4}
STUDENT=${STUDENT:-6}
SYN=$R/synth-v6-100k
UNL=../shared/data/plates-real-unlabelled
PSEUDO=$R/pseudo-r$STUDENT.txt
[ -f $PSEUDO ] || step $B/teacher pseudo-label $R/ref-student-r$STUDENT --unlabelled $UNL --out $PSEUDO --threshold 0.9 \
  --head-threshold char1=0.99
T=(--train $SYN --train "$R/real-dev-split/train.txt*10" --train "$PSEUDO*4" --val ../shared/data/plates-real-val
  --batch-size 64 --quiet --input-size 32x96 --width 32 --strides 1,2,2,2x1 --steps-per-epoch 800 --loss ce
  --label-smoothing 0 --ema 0.999 --zoom-out 0.15 --checkpoint-every 200)
run_of() { [ $1 = 1 ] && echo $R/ref-teacher || echo $R/ref-teacher-r$1; }
done_run $(run_of 1) || step $B/teacher train "${T[@]}" --run $(run_of 1) --epochs $EPOCHS --lr 2e-3
for k in $(seq 2 $ROUNDS); do
  done_run $(run_of $k) || step $B/teacher train "${T[@]}" --run $(run_of $k) --init $(run_of $((k - 1))) \
    --epochs $EPOCHS2 --lr 1.5e-3 --warmup-epochs 0.25
done

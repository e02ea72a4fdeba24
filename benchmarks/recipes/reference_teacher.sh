#!/usr/bin/env bash
# #18 / #19: the reference teacher, a ResNet-18 at width 32 (3M parameters, 3x the shipped
# student's MACs, 12 MB as a Keras folder: models/ stays under 40 MB), trained on what the
# student's recipe trains on: the v6 synthetic plates, the real-dev training half x10, and the
# pseudo-labels that the student's round STUDENT (default 6) gives plates-real-unlabelled, with
# crops up to 15% looser. Best epoch picked on plates-real-val (never trained or calibrated on).
# Run benchmarks/recipes/reference_student.sh first. Resumable: rerun to continue.
# EPOCHS (default 8) x 800 steps of batch 64.
source "$(dirname "$0")/setup.sh"
EPOCHS=${EPOCHS:-8}
STUDENT=${STUDENT:-6}
SYN=$R/synth-v6-100k
UNL=../shared/data/plates-real-unlabelled
PSEUDO=$R/pseudo-r$STUDENT.txt
[ -f $PSEUDO ] || step $B/teacher pseudo-label $R/ref-student-r$STUDENT --unlabelled $UNL --out $PSEUDO --threshold 0.9 \
  --head-threshold char1=0.99
RUN=$R/ref-teacher
done_run $RUN || step $B/teacher train --train $SYN --train "$R/real-dev-split/train.txt*10" --train "$PSEUDO*4" \
  --val ../shared/data/plates-real-val --batch-size 64 --quiet --run $RUN --input-size 32x96 --width 32 \
  --strides 1,2,2,2x1 --epochs $EPOCHS --steps-per-epoch 800 --lr 2e-3 --loss ce --label-smoothing 0 --ema 0.999 \
  --zoom-out 0.15 --checkpoint-every 200

#!/usr/bin/env bash
# Lever (docs/experiments/017): does training on tilted, sheared and tighter crops (real cameras'
# geometry; the generator's and CCPD's crops are straight and tight) read more of plates-real-val?
# BASE (default: the widened student of student_wider_input.sh, shipped until 017) is fine-tuned
# once with its own pseudo-labels on plates-real-unlabelled (PSEUDO, default: the file that recipe's
# round 2 wrote from it), as that round 2 was (the control: same data, same length, none of the new
# augmentation), now with --rotate, --shear and --zoom-in on top of --zoom-out 0.15. EPOCHS
# (default 6) x 800 steps. Selection on plates-real-val, never trained on. Run student_wider_input.sh
# first, or start from its shipped copy: BASE=models/student/keras PSEUDO=runs/pseudo-ship.txt.
source "$(dirname "$0")/setup.sh"
EPOCHS=${EPOCHS:-6}
ROTATE=${ROTATE:-5} SHEAR=${SHEAR:-5} ZOOM_IN=${ZOOM_IN:-0.04}
BASE=${BASE:-$R/ref-student-w128}
RUN=${RUN:-$R/student-geometry}
UNL=../shared/data/plates-real-unlabelled
pseudo=${PSEUDO:-$R/pseudo-w128-r1.txt}
[ -f $pseudo ] || step $B/teacher pseudo-label $BASE --unlabelled $UNL --out $pseudo --threshold 0.9 \
  --head-threshold char1=0.99
done_run $RUN || step $B/student train --train $R/synth-v6-100k --train "$R/real-dev-split/train.txt*10" \
  --train "$pseudo*4" --val ../shared/data/plates-real-val --batch-size 64 --quiet --run $RUN \
  "${S1_A05[@]}" --input-size 32x128 --epochs $EPOCHS --lr 1.5e-3 --warmup-epochs 0.25 --zoom-out 0.15 \
  --zoom-in $ZOOM_IN --rotate $ROTATE --shear $SHEAR --init $BASE

#!/usr/bin/env bash
# The reference teacher, further rounds on what the student of student_plate_glyphs.sh trains on
# (docs/experiments/020, 022): the synthetic plates with the plate's round letters on ROUNDED (0.5)
# of them and their Hanzi from FACES (e.g. all: plates synth --hanzi-faces; unset: the default
# set), the real-dev training half x10, the pseudo-labels that LABELLER (default: the student of
# 022) gives plates-real-unlabelled, and the plates permuted from them. TEACHER (default: the
# last round of reference_teacher.sh, which the teacher of 022 started from) fine-tuned ROUNDS
# (default 2) x EPOCHS (6) x 800 steps at lr 1.5e-3, each round from the one before (RUN-rK; RUN
# default runs/teacher-glyphs). Selection on plates-real-val, never trained on. Resumable: rerun
# to continue.
source "$(dirname "$0")/setup.sh"
TEACHER=${TEACHER:-$R/ref-teacher-r4}
LABELLER=${LABELLER:-$R/student-faces}
ROUNDED=${ROUNDED:-0.5}
ROUNDS=${ROUNDS:-2}
UNL=../shared/data/plates-real-unlabelled
SYN=$R/synth-rounded$ROUNDED-100k faces=()
[ -z "${FACES:-}" ] || { faces=(--hanzi-faces "$FACES"); SYN=$SYN-faces-${FACES//,/-}; }
pseudo=$R/pseudo-$(basename $LABELLER).txt perm=$R/permuted-$(basename $LABELLER)
[ -f $SYN/labels.txt ] || step $B/plates synth --out $SYN -n 100000 --rounded-share $ROUNDED "${faces[@]}" --quiet
[ -f $pseudo ] || step $B/teacher pseudo-label $LABELLER --unlabelled $UNL --out $pseudo --threshold 0.9 \
  --head-threshold char1=0.99
[ -d $perm ] || step $B/plates permute $R/real-dev-split/train.txt $pseudo --out $perm -n ${PERMUTED:-20000}
T=(--train $SYN --train "$R/real-dev-split/train.txt*10" --train "$pseudo*4" --train $perm
  --val ../shared/data/plates-real-val --batch-size 64 --quiet --input-size 32x128 --width 32 --strides 1,2,2,2x1
  --steps-per-epoch 800 --loss ce --label-smoothing 0 --ema 0.999 --zoom-out 0.15 --zoom-in 0.04 --rotate 5
  --shear 5 --checkpoint-every 200)
prev=$TEACHER
for k in $(seq 1 $ROUNDS); do
  run=${RUN:-$R/teacher-glyphs}-r$k
  done_run $run || step $B/teacher train "${T[@]}" --run $run --init $prev --epochs ${EPOCHS:-6} --lr 1.5e-3 \
    --warmup-epochs 0.25
  prev=$run
done

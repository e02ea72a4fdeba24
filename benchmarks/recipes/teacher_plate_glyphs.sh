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
SYN=$R/synth-rounded$ROUNDED-100k faces=()
[ -z "${FACES:-}" ] || { faces=(--hanzi-faces "$FACES"); SYN=$SYN-faces-${FACES//,/-}; }
[ -f $SYN/labels.txt ] || step $B/plates synth --out $SYN -n 100000 --rounded-share $ROUNDED "${faces[@]}" --quiet
pseudo_sources $LABELLER
T=(--train $SYN --train "$R/real-dev-split/train.txt*10" --train "$pseudo*4" --train $perm "${REF_TEACHER[@]}")
prev=$TEACHER
for k in $(seq 1 $ROUNDS); do
  run=${RUN:-$R/teacher-glyphs}-r$k
  done_run $run || step $B/teacher train "${T[@]}" --run $run --init $prev --epochs ${EPOCHS:-6} --lr 1.5e-3 \
    --warmup-epochs 0.25
  prev=$run
done

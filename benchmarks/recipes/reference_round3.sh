#!/usr/bin/env bash
# Round 3 after reference_attention.sh (docs/experiments/028), each stage resumable (rerun to continue):
#   labeller: compress ensemble of TEACHER_START (default: the teacher soup of reference_soups.sh)
#     and START (default: the round-2 student of reference_attention.sh) -> $R/teacher-student-ensemble
#     (027: the teacher adds to an ensemble of students); LABELLER (unset): another labeller instead, e.g.
#     round 3's teacher ensemble for a round 4 (docs/experiments/030)
#   student, round 3: START fine-tuned EPOCHS (6) x 800 steps on that ensemble's pseudo-labels of
#     plates-real-unlabelled and the plates permuted from them, crops tilted up to ROTATE (5) and
#     sheared up to SHEAR (5) degrees, one end up to PERSPECTIVE (0) shorter -> RUN (default: $R/student-attention-r3)
#   teacher: compress ensemble of TEACHER_START and that student -> RUN-teacher-ensemble (the teacher to
#     ship beside it: at least as accurate as the student)
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
START=${START:-$R/student-attention-r2}
RUN=${RUN:-$R/student-attention-r3}
if [ -z "${LABELLER:-}" ]; then
  LABELLER=$R/teacher-student-ensemble
  done_run $LABELLER || step $B/compress ensemble $TEACHER_START $START --val $VAL --out $LABELLER
fi
FACES=all FORGET=none PROVINCE_POWER=0.5 MIN_COLOUR_SHARE=0.05 POOLING=attention BASE=$START \
  LABELLER=$LABELLER RUN=$RUN EPOCHS=${EPOCHS:-6} SEED=${SEED:-0} \
  benchmarks/recipes/student_plate_glyphs.sh
done_run $RUN-teacher-ensemble || step $B/compress ensemble $TEACHER_START $RUN --val $VAL --out $RUN-teacher-ensemble

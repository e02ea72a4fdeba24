#!/usr/bin/env bash
# The shipped models with attention heads (docs/experiments/026, 027), after reference_soups.sh,
# in stages that are each resumable (rerun to continue; about 2 hours on 2 cores):
#   students: from START (default: the student soup of reference_soups.sh) with its pseudo-labels
#     - the flatten control and a seed-1 attention student, 6 x 800 steps each (026)
#     - the attention student, 12 x 800 steps -> $R/student-attention-12ep
#   ensembles (compress ensemble): the three students -> $R/students-ensemble; TEACHER_START
#     (default: the teacher soup of reference_soups.sh) and the three -> $R/teacher-ensemble
#     (measured, not shipped: docs/experiments/027)
#   student, round 2: the 12-epoch student fine-tuned 6 x 800 steps more on the pseudo-labels of
#     the three students' ensemble -> $R/student-attention-r2 (the shipped student)
# then MODEL=$R/student-attention-r2 TEACHER=none benchmarks/recipes/ship_models.sh (the teacher
# stays the soup). Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
G=benchmarks/recipes/student_plate_glyphs.sh
START=${START:-$R/student-soup}
export FACES=all FORGET=none PROVINCE_POWER=0.5 MIN_COLOUR_SHARE=0.05
BASE=$START RUN=$R/student-flatten-control $G
BASE=$START POOLING=attention SEED=1 RUN=$R/student-attention-seed1 $G
BASE=$START POOLING=attention EPOCHS=12 RUN=$R/student-attention-12ep $G
students=($R/student-flatten-control $R/student-attention-seed1 $R/student-attention-12ep)
done_run $R/teacher-ensemble || step $B/compress ensemble $TEACHER_START "${students[@]}" --val $VAL --out $R/teacher-ensemble
done_run $R/students-ensemble || step $B/compress ensemble "${students[@]}" --val $VAL --out $R/students-ensemble
BASE=$R/student-attention-12ep LABELLER=$R/students-ensemble POOLING=attention RUN=$R/student-attention-r2 $G

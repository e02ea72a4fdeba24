#!/usr/bin/env bash
# The shipped models as model soups (docs/experiments/024): fine-tunes of one start averaged weight
# by weight (compress soup) into one model of the same size and latency, which can read more
# plates than any one of them.
# After reference_models.sh (START: its last run) and reference_teacher.sh, in stages that are each
# resumable (rerun to continue; each fine-tune is about 30 minutes on 2 cores, about 4 hours in all):
#   student: seven fine-tunes of START with the levers of 022-024 (Hanzi faces, province
#            threshold, colour check, province power), two of them a second round; then the greedy
#            soup of START and the seven, picked on plates-real-val -> $R/student-soup
#   teacher: the two rounds of teacher_plate_glyphs.sh, and their uniform soup -> $R/teacher-soup
# then MODEL=$R/student-soup TEACHER=$R/teacher-soup benchmarks/recipes/ship_models.sh. Selection
# is on plates-real-val, never trained on; the greedy soup's accuracy there is optimistic (it was
# picked on it), the held-out plates-real-dev half is not.
source "$(dirname "$0")/setup.sh"
RECIPES=benchmarks/recipes
START=${START:-$R/student-rounded-r2}
G=$RECIPES/student_plate_glyphs.sh
BASE=$START FACES=all FORGET=none RUN=$R/student-faces $G
BASE=$R/student-faces FACES=all FORGET=none RUN=$R/student-faces-r2 $G
BASE=$START FORGET=none PROVINCE_T=0.9 RUN=$R/student-province0.9 $G
BASE=$START FACES=all FORGET=none MIN_COLOUR_SHARE=0.05 RUN=$R/student-colour $G
BASE=$START FACES=all FORGET=none PROVINCE_POWER=0.5 RUN=$R/student-power0.5 $G
BASE=$R/student-power0.5 FACES=all FORGET=none PROVINCE_POWER=0.5 MIN_COLOUR_SHARE=0.05 RUN=$R/student-power0.5-r2 $G
BASE=$START FACES=all FORGET=none PROVINCE_POWER=0.25 RUN=$R/student-power0.25 $G
ingredients=($START $R/student-faces $R/student-faces-r2 $R/student-province0.9 $R/student-colour $R/student-power0.5
  $R/student-power0.5-r2 $R/student-power0.25)
done_run $R/student-soup || step $B/compress soup "${ingredients[@]}" --recipe greedy --val $VAL --out $R/student-soup
FACES=all LABELLER=$R/student-faces ROUNDS=2 $RECIPES/teacher_plate_glyphs.sh
done_run $R/teacher-soup || step $B/compress soup $R/teacher-glyphs-r1 $R/teacher-glyphs-r2 --val $VAL --out $R/teacher-soup

#!/usr/bin/env bash
# Round 5 after reference_round4.sh (docs/experiments/031), each stage resumable (rerun to continue): more
# ingredients for the student soup, since a soup of two seeds read more than any single-run lever (030):
#   r4-mask, seed 1: reference_round4.sh's r4-mask (the province pseudo-labelled except 苏) with SEED=1
#   r3-noprov, seed 2: reference_round3.sh's r3-noprov (no province pseudo-labels) with SEED=2
#   student: compress soup (uniform) of the four round-4 students and these two, all fine-tuned from the
#     round-2 student -> $R/student-soup-r5
#   teacher: compress ensemble of TEACHER_START (default: the teacher soup of reference_soups.sh) and that soup at
#     weights 1,2 -> $R/round5-teacher: two members, so the main job slims it in minutes; the soup counts as the
#     fine-tunes it averages, the ResNet-18 soup adds what they all miss (031)
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
MASKED=(START=$R3 LABELLER=$R3-teacher-ensemble MASK=char1=苏)
env "${GEOMETRY[@]}" "${MASKED[@]}" SEED=1 RUN=$R4-mask-s1 benchmarks/recipes/reference_round3.sh
env "${GEOMETRY[@]}" PROVINCE_T=1.0 SEED=2 RUN=$R3-s2 benchmarks/recipes/reference_round3.sh
STUDENTS=("${SOUP_R5[@]}")
done_run $R/student-soup-r5 || step $B/compress soup "${STUDENTS[@]}" --recipe uniform --val $VAL --out $R/student-soup-r5
done_run $R/round5-teacher || step $B/compress ensemble $TEACHER_START $R/student-soup-r5 --weights 1,2 --val $VAL \
  --out $R/round5-teacher

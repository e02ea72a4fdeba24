#!/usr/bin/env bash
# Round 4 after reference_round3.sh (docs/experiments/030), each stage resumable (rerun to continue). All
# students crop-tilted and sheared up to 12 degrees, one end up to 20% shorter (028's geometry):
#   r3-noprov, seed 1: reference_round3.sh's r3-noprov (no province pseudo-labels) with SEED=1
#   r4-mask: r3-noprov fine-tuned 6 x 800 steps on the pseudo-labels of round 3's teacher ensemble, the
#     province labelled except 苏 (MASK=char1=苏: most crops that labeller reads 苏A / 苏F are blurred
#     浙A / 浙F plates, 030)
#   r4-noprov: the same without any province pseudo-label (PROVINCE_T=1.0), r4-mask's control
#   student: compress soup (uniform: every weight the mean) of r3-noprov, its seed 1, r4-mask and
#     r4-noprov, all fine-tuned from the round-2 student -> $R/student-soup-r4
#   teacher: compress ensemble of TEACHER_START (default: the teacher soup of reference_soups.sh) and the
#     four students, each head the mean of their probabilities -> $R/round4-teacher-ensemble (the soup's
#     own ensemble with the teacher reads less than the soup)
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
env "${GEOMETRY[@]}" PROVINCE_T=1.0 RUN=$R3 benchmarks/recipes/reference_round3.sh
env "${GEOMETRY[@]}" PROVINCE_T=1.0 SEED=1 RUN=$R3-s1 benchmarks/recipes/reference_round3.sh
env "${GEOMETRY[@]}" START=$R3 LABELLER=$R3-teacher-ensemble MASK=char1=苏 RUN=$R4-mask \
  benchmarks/recipes/reference_round3.sh
env "${GEOMETRY[@]}" START=$R3 LABELLER=$R3-teacher-ensemble PROVINCE_T=1.0 RUN=$R4-noprov \
  benchmarks/recipes/reference_round3.sh
STUDENTS=($R3 $R3-s1 $R4-mask $R4-noprov)
done_run $R/student-soup-r4 || step $B/compress soup "${STUDENTS[@]}" --recipe uniform --val $VAL --out $R/student-soup-r4
done_run $R/round4-teacher-ensemble || step $B/compress ensemble $TEACHER_START "${STUDENTS[@]}" --val $VAL \
  --out $R/round4-teacher-ensemble

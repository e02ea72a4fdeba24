#!/usr/bin/env bash
# Round 7 after reference_round6.sh (docs/experiments/032), each stage resumable (rerun to continue):
#   r7: reference_round4.sh's r4-mask (from r3-noprov, 苏 masked in the province pseudo-labels) with the pseudo-labels
#     and permuted plates of round 6's teacher b (the retrained ResNet-18 and the round-5 soup at 1:2) -> $R/student-attention-r7
#   student: compress soup (uniform) of round 5's six students and r7 -> $R/student-soup-r7
#   teacher: compress ensemble of round 6's ResNet-18 and that soup at weights 1,2 -> $R/round7-teacher
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
R7=$R/student-attention-r7
env "${GEOMETRY[@]}" START=$R3 LABELLER=$R/round6-teacher-b MASK=char1=苏 RUN=$R7 benchmarks/recipes/reference_round3.sh
STUDENTS=("${SOUP_R5[@]}" $R7)
done_run $R/student-soup-r7 || step $B/compress soup "${STUDENTS[@]}" --recipe uniform --val $VAL --out $R/student-soup-r7
done_run $R/round7-teacher || step $B/compress ensemble $R/teacher-r6-s0 $R/student-soup-r7 --weights 1,2 --val $VAL \
  --out $R/round7-teacher

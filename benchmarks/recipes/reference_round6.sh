#!/usr/bin/env bash
# Round 6 after reference_round5.sh (docs/experiments/032), each stage resumable (rerun to continue):
#   r6-cut: reference_round4.sh's r4-mask (the province pseudo-labelled except 苏) with SEED=2 and up to
#     CUT (0.06) of the width cut from each end on its own (student train --cut-ends): the crops of other
#     cameras are often tighter than the training crops, with the province character clipped at the left
#     end, and the soup reads less of plates-real-val with a little of the width cut from the left
#   student: compress soup (uniform) of round 5's six students and r6-cut -> $R/student-soup-r6
#   teacher: compress ensemble of TEACHER_START and that soup at weights 1,2 (031) -> $R/round6-teacher
#   ResNet-18 r6: TEACHER_START fine-tuned 6 x 800 steps on r4-mask's data and tilt, with attention heads (the
#     students' since 026; the backbone is taken, the heads start afresh) -> $R/teacher-r6-s0: the ResNet-18
#     member was last trained on 022's data
#   teacher b: compress ensemble of that ResNet-18 and round 5's student soup at weights 1,2 -> $R/round6-teacher-b
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
MASKED=(START=$R3 LABELLER=$R3-teacher-ensemble MASK=char1=苏)
CUT_RUN=$R/student-attention-r6-cut
env "${GEOMETRY[@]}" "${MASKED[@]}" CUT_ENDS=${CUT:-0.06} SEED=2 RUN=$CUT_RUN benchmarks/recipes/reference_round3.sh
STUDENTS=("${SOUP_R5[@]}" $CUT_RUN)
done_run $R/student-soup-r6 || step $B/compress soup "${STUDENTS[@]}" --recipe uniform --val $VAL --out $R/student-soup-r6
done_run $R/round6-teacher || step $B/compress ensemble $TEACHER_START $R/student-soup-r6 --weights 1,2 --val $VAL \
  --out $R/round6-teacher
MASK=char1=苏 MIN_COLOUR_SHARE=0.05 PROVINCE_POWER=0.5 pseudo_sources $R3-teacher-ensemble
resnet_round $R/teacher-r6-s0 0 --init $TEACHER_START --init-partial --lr 1.5e-3
done_run $R/round6-teacher-b || step $B/compress ensemble $R/teacher-r6-s0 $R/student-soup-r5 --weights 1,2 \
  --val $VAL --out $R/round6-teacher-b

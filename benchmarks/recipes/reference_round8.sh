#!/usr/bin/env bash
# Round 8 after reference_round7.sh (docs/experiments/032), each stage resumable (rerun to continue):
#   ResNet-18 r8: round 6's ResNet-18 (teacher-r6-s0, its attention heads kept) fine-tuned 6 x 800 steps more on
#     the pseudo-labels and permuted plates of round 6's teacher b (that ResNet and the round-5 soup) -> $R/teacher-r8;
#     the two ResNets averaged weight by weight -> $R/teacher-soup-r8
#   r7-s1: round 7's student with SEED=1 -> $R/student-attention-r7-s1
#   student: compress soup (uniform) of round 7's seven students and r7-s1 -> $R/student-soup-r8
#   teachers: compress ensemble of each ResNet candidate and that soup at weights 1,2 -> $R/round8-teacher-*;
#     and of the ResNet-18 r8 and round 5's soup (the shipped student: neither later soup read more in int8)
#     -> $R/round8-teacher
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
MASK=char1=苏 MIN_COLOUR_SHARE=0.05 PROVINCE_POWER=0.5 pseudo_sources $R/round6-teacher-b
resnet_round $R/teacher-r8 1 --init $R/teacher-r6-s0 --lr 1e-3
done_run $R/teacher-soup-r8 || step $B/compress soup $R/teacher-r6-s0 $R/teacher-r8 --recipe uniform --val $VAL \
  --out $R/teacher-soup-r8
R7=$R/student-attention-r7
env "${GEOMETRY[@]}" START=$R3 LABELLER=$R/round6-teacher-b MASK=char1=苏 SEED=1 RUN=$R7-s1 \
  benchmarks/recipes/reference_round3.sh
STUDENTS=("${SOUP_R5[@]}" $R7 $R7-s1)
done_run $R/student-soup-r8 || step $B/compress soup "${STUDENTS[@]}" --recipe uniform --val $VAL --out $R/student-soup-r8
for t in teacher-r8 teacher-soup-r8; do
  done_run $R/round8-$t || step $B/compress ensemble $R/$t $R/student-soup-r8 --weights 1,2 --val $VAL \
    --out $R/round8-$t
done
done_run $R/round8-teacher || step $B/compress ensemble $R/teacher-r8 $R/student-soup-r5 --weights 1,2 --val $VAL \
  --out $R/round8-teacher

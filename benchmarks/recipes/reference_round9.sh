#!/usr/bin/env bash
# Round 9 after reference_round8.sh (docs/experiments/033), each stage resumable (rerun to continue):
#   r9-kd: round 7's r7 (from r3-noprov on round 6's teacher b's pseudo-labels, 苏 masked, and its permuted
#     plates) distilled from round 8's teacher (compress distill at temperature 2, half label / half KD weight),
#     5 x 800 steps, seeds SEEDS (0 1) -> $R/student-attention-r9-kd, $R/student-attention-r9-kd-s1
#   student candidates: compress soup (uniform) of round 5's six students and those -> $R/student-soup-r9; of the
#     two KD students alone -> $R/student-soup-kd2; greedy over all eight (best-first on plates-real-val, each kept
#     only if the soup reads no fewer) -> $R/student-soup-r9-greedy
#   teacher: compress ensemble of round 8's ResNet-18 and that soup at weights 1,2 -> $R/round9-teacher
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
KD=(START=$R3 LABELLER=$R/round6-teacher-b MASK=char1=苏 TEACHER=$R/round8-teacher KD_T=2 EPOCHS=5)
STUDENTS=("${SOUP_R5[@]}") KD_RUNS=()
for seed in ${SEEDS:-0 1}; do
  run=$R/student-attention-r9-kd
  [ "$seed" = 0 ] || run=$run-s$seed
  env "${GEOMETRY[@]}" "${KD[@]}" SEED=$seed RUN=$run benchmarks/recipes/reference_round3.sh
  STUDENTS+=($run) KD_RUNS+=($run)
done
done_run $R/student-soup-r9 || step $B/compress soup "${STUDENTS[@]}" --recipe uniform --val $VAL --out $R/student-soup-r9
done_run $R/student-soup-kd2 || step $B/compress soup "${KD_RUNS[@]}" --recipe uniform --val $VAL --out $R/student-soup-kd2
done_run $R/student-soup-r9-greedy || step $B/compress soup "${STUDENTS[@]}" --recipe greedy --val $VAL \
  --out $R/student-soup-r9-greedy
done_run $R/round9-teacher || step $B/compress ensemble $R/teacher-r8 $R/student-soup-r9 --weights 1,2 --val $VAL \
  --out $R/round9-teacher
step $B/benchmarks record "${KD_RUNS[@]}" --out benchmarks/results/round9_run \
  --title "Round 9: the round-8 teacher distilled into two students (soup ingredients), selection on plates-real-val"

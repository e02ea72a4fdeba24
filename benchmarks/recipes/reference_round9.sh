#!/usr/bin/env bash
# Round 9 after reference_round8.sh (docs/experiments/033), each stage resumable (rerun to continue):
#   r9-kd: round 7's r7 (from r3-noprov on round 6's teacher b's pseudo-labels, 苏 masked, and its permuted
#     plates) distilled from round 8's teacher (compress distill at temperature 2, half label / half KD weight),
#     5 x 800 steps, from each START:SEED of KD_STARTS (default: r3-noprov seeds 0 and 1, then r3-noprov-s1,
#     r4-mask-s1, r3-noprov-s2 at seed 0; the other starts are round 5's soup ingredients, so the distilled
#     students share their ancestry and can be averaged) -> $R/student-attention-r9-kd[-from-<start>][-s<seed>]
#   student candidates: compress soup (uniform) of round 5's six students and the two distilled from r3-noprov
#     -> $R/student-soup-r9; of those two alone -> $R/student-soup-kd2; of every distilled student ->
#     $R/student-soup-kd; greedy over the eight of soup-r9 (best-first on plates-real-val, each kept only if the
#     soup reads no fewer) -> $R/student-soup-r9-greedy
#   teacher: compress ensemble of round 8's ResNet-18 and soup-r9 at weights 1,2 -> $R/round9-teacher
# Selection is on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
STUDENTS=("${SOUP_R5[@]}") KD_RUNS=() KD_R3=()
for start_seed in ${KD_STARTS:-$R3:0 $R3:1 $R3-s1:0 $R4-mask-s1:0 $R3-s2:0}; do
  start=${start_seed%:*} seed=${start_seed##*:}
  run=$R/student-attention-r9-kd
  [ "$start" = "$R3" ] || { short=${start##*/student-attention-}; short=${short/-noprov/}; run=$run-from-${short//-/}; }
  [ "$seed" = 0 ] || run=$run-s$seed
  env "${GEOMETRY[@]}" "${KD_R9[@]}" START=$start SEED=$seed RUN=$run benchmarks/recipes/reference_round3.sh
  KD_RUNS+=($run)
  [ "$start" != "$R3" ] || { STUDENTS+=($run); KD_R3+=($run); }
done
done_run $R/student-soup-r9 || step $B/compress soup "${STUDENTS[@]}" --recipe uniform --val $VAL --out $R/student-soup-r9
done_run $R/student-soup-kd2 || step $B/compress soup "${KD_R3[@]}" --recipe uniform --val $VAL --out $R/student-soup-kd2
done_run $R/student-soup-kd || step $B/compress soup "${KD_RUNS[@]}" --recipe uniform --val $VAL --out $R/student-soup-kd
done_run $R/student-soup-r9-greedy || step $B/compress soup "${STUDENTS[@]}" --recipe greedy --val $VAL \
  --out $R/student-soup-r9-greedy
done_run $R/round9-teacher || step $B/compress ensemble $R/teacher-r8 $R/student-soup-r9 --weights 1,2 --val $VAL \
  --out $R/round9-teacher
step $B/benchmarks record "${KD_RUNS[@]}" --out benchmarks/results/round9_run \
  --title "Round 9: the round-8 teacher distilled into students from several starts (soup ingredients), selection on plates-real-val"

#!/usr/bin/env bash
# Lever for the latency target (docs/experiments/033, 034): on an AVX2 host without VNNI the int8 student's
# convolutions cost more than fp32 ones, so under 1 ms at 1 thread needs fewer MACs per crop. A stride-2x1 stem
# halves the resolution the blocks see in height only (about half the MACs; the horizontal resolution, which
# separates the characters, is kept). START (default: the soup of every distilled student of reference_round9.sh;
# every weight fits but the attention pooling's, whose slots depend on the feature map's height) distilled from round 8's teacher as in round 9 (temperature 2,
# half label / half KD weight, round 9's data and tilt: reference_round3.sh with round 9's KD_R9, which also
# ensembles the result with the teacher soup) with --stem-stride 2x1, EPOCHS (4) x 800 steps -> RUN
# (runs/student-stem2x1); then its int8 TFLite (calibrated on the dev training half), its accuracy beside the shipped
# int8 student on both sets and one latency run of it beside the shipped int8 and fp32 bundles at 1 thread (needs
# the machine to itself) -> benchmarks/results/student_stem2x1_{dev,val,latency}.
# Selection on plates-real-val, never trained or calibrated on.
source "$(dirname "$0")/setup.sh"
START=${START:-$R/student-soup-kd}
RUN=${RUN:-$R/student-stem2x1}
env "${GEOMETRY[@]}" "${KD_R9[@]}" START=$START EPOCHS=${EPOCHS:-4} STEM_STRIDE=2x1 RUN=$RUN benchmarks/recipes/reference_round3.sh
int8=$RUN-tflite-int8 EPOCHS_NOTE="${EPOCHS:-4} x 800 steps from $(basename $START)"
[ -f $int8/export_report.json ] || step $B/deploy tflite $RUN --out $int8 --int8 --data $R/real-dev-split/train.txt \
  --parity-data $R/real-dev-split/val.txt --min-agreement 0
for set in "dev:$R/real-dev-split/val.txt:the held-out half of plates-real-dev" "val:$VAL:plates-real-val (selection set)"; do
  IFS=: read -r name data title <<< "$set"
  step $B/benchmarks accuracy $int8 models/student/tflite-int8 --data $data --name student_stem2x1_$name \
    --out benchmarks/results --title "int8 student with a stride-2x1 stem ($EPOCHS_NOTE) against the shipped one, on $title"
done
step $B/benchmarks latency $int8 models/student/tflite-int8 models/student/tflite-fp32 --threads 1 --runs 300 --warmup 30 \
  --min-seconds 4 --rounds 5 --name student_stem2x1_latency --out benchmarks/results \
  --title "int8 student with a stride-2x1 stem against the shipped int8 and fp32 students: LiteRT latency at 1 thread"

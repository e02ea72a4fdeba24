#!/usr/bin/env bash
# Does the distilled width-0.5, neck-64 stride-1 Small close its gap to teacher v4 with twice the
# steps? real_scale_v4.sh's distillation command (74.6% after 6 x 800 steps, teacher 79.0%) with
# --epochs 12; nothing else changes. Then its int8, int8 with float ends and fp32 exports (the same
# three for the 6-epoch model) and one benchmark run against the fp32 teacher, all timed in turns.
# Needs runs/ from real_scale_v4.sh; resumable like it.
source "$(dirname "$0")/setup.sh"
S=("${S1_A05[@]}" --epochs 12)
D=$R/distilled-s1-a05-n64-12ep
D6=$R/distilled-s1-a05-n64
done_run $D || step $B/compress distill "${TRAIN[@]}" --teacher $R/teacher-v4 --run $D "${S[@]}" \
  --temperature 2 --kd-alpha 0.5
BUNDLES=$R/v4-bundles
export_all $D tflite-int8 tflite-int8-float-ends tflite-fp32
export_all $D6 tflite-int8-float-ends
# alone on the machine
ARTS=($BUNDLES/teacher-v4-tflite-fp32 $D $BUNDLES/$(basename $D)-{tflite-int8,tflite-int8-float-ends,tflite-fp32}
  $BUNDLES/$(basename $D6)-{tflite-int8,tflite-int8-float-ends,tflite-fp32})
step $B/benchmarks run "${ARTS[@]}" \
  --data $R/real-dev-split/val.txt --threads 1 --runs 200 --min-seconds 10 --rounds 5 \
  --title "distilled width-0.5 neck-64 stride-1 Small: 12 x 800 vs 6 x 800 steps, int8 / int8 float ends / fp32, with the fp32 teacher" \
  --name distill_longer --out benchmarks/results
# the latency half once more, to see how much the same files move between runs
step $B/benchmarks latency "${ARTS[@]}" \
  --threads 1 --runs 200 --min-seconds 10 --rounds 5 \
  --title "repeat of distill_longer's latency half (same artefacts and settings), to see run-to-run spread" \
  --name distill_longer_latency_repeat --out benchmarks/results
step $B/benchmarks record $D6 $D --out benchmarks/results/distill_longer_run \
  --title "distillation from teacher v4 into the width-0.5 neck-64 stride-1 Small: 6 x 800 vs 12 x 800 steps"

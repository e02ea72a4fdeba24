#!/usr/bin/env bash
# #4's comparison at the length that met the goals: the width-0.5, neck-64 stride-1 Small with
# 12 x 800 steps, labels only vs distilled (distill_longer.sh) vs distilled + QAT, same data; int8
# accuracy on the held-out real half (the three int8 models are one graph, so latency is in
# real_scale.md). Needs runs/ from real_scale_v4.sh and distill_longer.sh; resumable.
source "$(dirname "$0")/setup.sh"
S=("${S1_A05[@]}" --epochs 12)
D=$R/distilled-s1-a05-n64-12ep
L=$R/s1-a05-n64-12ep
Q=$R/qat-s1-a05-n64-12ep
done_run $D || { echo "run benchmarks/recipes/distill_longer.sh first" >&2; exit 1; }
done_run $Q || step $B/compress qat $D "${TRAIN[@]}" --run $Q --epochs 1 --steps-per-epoch 300 --lr 1e-4 \
  --min-agreement 0
done_run $L || step $B/student train "${TRAIN[@]}" --run $L "${S[@]}"
BUNDLES=$R/v4-bundles
export_all $L tflite-int8
step $B/benchmarks accuracy $L $BUNDLES/$(basename $L)-tflite-int8 $D $BUNDLES/$(basename $D)-tflite-int8 \
  $Q $Q/int8 --data $R/real-dev-split/val.txt --name students_12ep --out benchmarks/results \
  --title "width-0.5 neck-64 stride-1 Small, 12 x 800 steps: labels only vs distilled vs distilled + QAT (Keras and int8)"
step $B/benchmarks record $L $D $Q --out benchmarks/results/students_12ep_run \
  --title "width-0.5 neck-64 stride-1 Small, same data, 12 x 800 steps: labels only vs distilled (T=2, alpha 0.5) vs distilled + QAT"

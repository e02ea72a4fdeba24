#!/usr/bin/env bash
# Real scale v5: everything of the v4 benchmark run (real_scale_v4.sh) plus the 12 x 800-step
# distilled width-0.5 Small (distill_longer.sh: Keras, TFLite int8 / int8 float ends / fp32, and
# here its ONNX fp32 / int8), measured in one benchmark run, every setting timed in 5 turns.
# Run real_scale_v4.sh and distill_longer.sh first (both resumable); alone on the machine.
source "$(dirname "$0")/setup.sh"
D=$R/distilled-s1-a05-n64-12ep
BUNDLES=$R/v4-bundles
done_run $D || { echo "run benchmarks/recipes/distill_longer.sh first" >&2; exit 1; }
export_all $D onnx-fp32 onnx-int8
step $B/benchmarks run $R/teacher-v4 $R/teacher-v4-slim $R/s1-a05-n64 $R/distilled-s1-a05-n64 $D $R/qat-s1-a05-n64 \
  $R/cap-small-stem1 $R/cap-large $R/v4-student-small-ema $BUNDLES $R/qat-s1-a05-n64/int8 \
  --data $R/real-dev-split/val.txt --threads 1 2 --runs 200 --min-seconds 10 --rounds 5 \
  --title "real scale v5, 2-core AVX2 host" --name real_scale --out benchmarks/results

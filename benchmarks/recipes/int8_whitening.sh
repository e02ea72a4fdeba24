#!/usr/bin/env bash
# int8 per-image whitening, before and after the per-axis means (benchmarks/results/int8_whitening.md).
# The "before" bundles are the int8 exports of mixing_ablation.sh (runs/v4-bundles: calibrated on
# synthetic images, runs/v4-calib-real: on real training crops), made before the fix. This
# re-exports the same two Keras students with the fixed layer and scores all of them.
source "$(dirname "$0")/setup.sh"
for m in v4-student-small v4-student-small-ema; do
  step $B/deploy tflite $R/$m --out $R/v4-whiten-fix/$m-tflite-int8-fixed --int8 --data $R/synth100k \
    --parity-data $R/real-dev-split/val.txt --min-agreement 0
  step $B/deploy tflite $R/$m --out $R/v4-whiten-fix/$m-tflite-int8-realcal-fixed --int8 --data $R/real-dev-split/train.txt \
    --parity-data $R/real-dev-split/val.txt --min-agreement 0
done
step $B/benchmarks accuracy $R/v4-student-small $R/v4-student-small-ema $R/v4-bundles $R/v4-calib-real $R/v4-whiten-fix \
  --data $R/real-dev-split/val.txt --title "int8 whitening: one MEAN over the image (before) vs per-axis means (fixed)" \
  --name int8_whitening --out benchmarks/results

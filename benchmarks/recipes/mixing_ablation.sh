#!/usr/bin/env bash
# The data-mixing ablation recorded in benchmarks/results/mixing_ablation*.md and int8_calibration.md:
# the v3 labels-only student command (students_run.md, trained before commit 50a3132 mixed the
# sources uniformly), rerun on the fixed pipeline as it was, and with --ema 0.999. Both trainings
# run side by side.
# Needs runs/synth100k and runs/real-dev-split from step 1 of real_scale.sh. Ran 2026-12-01 on an
# AVX2-only 2-core EPYC: about 61 min of training, then 3 min for the exports and the benchmark.
source "$(dirname "$0")/setup.sh"
S=(--arch small --minimalistic --epochs 12 --input-size 32x96 --normalisation whiten --steps-per-epoch 800 --label-smoothing 0)
step $B/student train "${TRAIN[@]}" --run $R/v4-student-small "${S[@]}" &
PLAIN=$!
step $B/student train "${TRAIN[@]}" --run $R/v4-student-small-ema "${S[@]}" --ema 0.999 &
AVERAGED=$!
wait $PLAIN
wait $AVERAGED
EXP=(--data $R/synth100k --parity-data $R/real-dev-split/val.txt)
for m in v4-student-small v4-student-small-ema; do
  step $B/deploy tflite $R/$m --out $R/v4-bundles/$m-tflite-int8 --int8 "${EXP[@]}" --min-agreement 0
done
step $B/benchmarks run $R/v4-student-small $R/v4-student-small-ema $R/v4-bundles --data $R/real-dev-split/val.txt \
  --threads 1 --runs 200 --min-seconds 10 --title "data-mixing ablation: labels-only minimalistic Small, uniform mix" \
  --name mixing_ablation_benchmark --out benchmarks/results
step $B/benchmarks record $R/v4-student-small $R/v4-student-small-ema --out benchmarks/results/mixing_ablation \
  --title "labels-only minimalistic MobileNetV3-Small, 12 x 800 steps, sources mixed uniformly (v3 command) and with --ema 0.999"

# int8 calibration on real training crops instead of synthetic images (int8_calibration.md)
for m in v4-student-small v4-student-small-ema; do
  step $B/deploy tflite $R/$m --out $R/v4-calib-real/$m-tflite-int8-realcal --int8 --data $R/real-dev-split/train.txt \
    --parity-data $R/real-dev-split/val.txt --min-agreement 0
done
step $B/benchmarks accuracy $R/v4-student-small $R/v4-student-small-ema $R/v4-bundles $R/v4-calib-real \
  --data $R/real-dev-split/val.txt --title "int8 calibration: synthetic vs real training crops (labels-only Small, uniform mix)" \
  --name int8_calibration --out benchmarks/results

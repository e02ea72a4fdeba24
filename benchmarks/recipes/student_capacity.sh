#!/usr/bin/env bash
# Where does the labels-only student's accuracy gap come from: capacity or resolution?
# Recorded in benchmarks/results/student_capacity*.md. Same data and recipe (minimalistic, whitening,
# --ema 0.999, labels only) for two students trained side by side for 6 x 800 steps:
#   cap-small-stem1  MobileNetV3-Small with a stride-1 stem: every feature map twice as high and
#                    wide (ends at 2x24 for a 32x96 input instead of 1x12)
#   cap-large        MobileNetV3-Large (stock stem)
# The reference is the Small of mixing_ablation.sh (runs/v4-student-small-ema), trained for twice
# as long (12 x 800 steps), and its int8 exports (int8_whitening.sh).
# Needs runs/synth100k and runs/real-dev-split from step 1 of real_scale.sh. Ran 2026-12-01 on an
# AVX2-only 2-core EPYC: about 100 min of training (sharing the cores with other jobs), then the
# exports and one benchmark run alone on the machine.
source "$(dirname "$0")/setup.sh"
S=(--minimalistic --epochs 6 --input-size 32x96 --normalisation whiten --steps-per-epoch 800 --label-smoothing 0 --ema 0.999)
if [ "${1:-}" != --exports-only ]; then
  step $B/student train "${TRAIN[@]}" --run $R/cap-large --arch large "${S[@]}" > $R/cap-large.log 2>&1 &
  LARGE=$!
  step $B/student train "${TRAIN[@]}" --run $R/cap-small-stem1 --arch small --stem-stride 1 "${S[@]}" > $R/cap-small-stem1.log 2>&1
  wait $LARGE
fi

# exports: int8 calibrated on real training crops (int8_calibration.md), parity on the held-out half
for m in cap-small-stem1 cap-large; do
  step $B/deploy tflite $R/$m --out $R/cap-bundles/$m-tflite-fp32 --parity-data $R/real-dev-split/val.txt
  step $B/deploy tflite $R/$m --out $R/cap-bundles/$m-tflite-int8 --int8 --data $R/real-dev-split/train.txt \
    --parity-data $R/real-dev-split/val.txt --min-agreement 0
done
[ -d $R/v4-whiten-fix ] || benchmarks/recipes/int8_whitening.sh
# one benchmark run, alone on the machine; the reference Small's int8 with the old and the fixed whitening
step $B/benchmarks run $R/v4-student-small-ema $R/cap-small-stem1 $R/cap-large $R/cap-bundles \
  $R/v4-calib-real/v4-student-small-ema-tflite-int8-realcal $R/v4-whiten-fix/v4-student-small-ema-tflite-int8-realcal-fixed \
  --data $R/real-dev-split/val.txt --threads 1 --runs 200 --min-seconds 10 \
  --title "student resolution vs capacity: minimalistic Small (12 x 800 steps), Small with a stride-1 stem and Large (6 x 800 steps), EMA, labels only" \
  --name student_capacity_benchmark --out benchmarks/results
step $B/benchmarks record $R/v4-student-small-ema $R/cap-small-stem1 $R/cap-large --out benchmarks/results/student_capacity \
  --title "labels-only minimalistic students with --ema 0.999: Small 12 x 800 steps vs Small with a stride-1 stem and Large, 6 x 800 steps"

# the fp32 teacher's latency on the same host, for the size/speed ratios (weights after one step:
# latency only), in one latency run with the two int8 students
step $B/teacher train --train $R/synth100k --run $R/arch/teacher --input-size 32x96 --width 64 --strides 1,2,2,2x1 \
  --epochs 1 --steps-per-epoch 1 --quiet
step $B/deploy tflite $R/arch/teacher --out $R/arch/bundles/teacher-arch-tflite-fp32 --parity-data $R/real-dev-split/val.txt
step $B/benchmarks latency $R/arch/bundles/teacher-arch-tflite-fp32 $R/cap-bundles/cap-small-stem1-tflite-int8 \
  $R/v4-whiten-fix/v4-student-small-ema-tflite-int8-realcal-fixed --threads 1 2 --runs 200 --min-seconds 10 \
  --title "fp32 teacher architecture vs int8 students (LiteRT, batch 1)" --name student_capacity_latency --out benchmarks/results

# int8 vs float softmax on the stride-1 Small (int8_softmax.md): the same export with the softmaxes
# kept in float, and both in one benchmark run
step $B/deploy tflite $R/cap-small-stem1 --out $R/softmax-check/cap-small-stem1-tflite-int8-floatsoftmax --int8 \
  --data $R/real-dev-split/train.txt --parity-data $R/real-dev-split/val.txt --min-agreement 0 --keep-float SOFTMAX
ln -sfn ../cap-bundles/cap-small-stem1-tflite-int8 $R/softmax-check/cap-small-stem1-tflite-int8
step $B/benchmarks run $R/softmax-check/cap-small-stem1-tflite-int8 $R/softmax-check/cap-small-stem1-tflite-int8-floatsoftmax \
  --data $R/real-dev-split/val.txt --threads 1 --runs 200 --min-seconds 10 \
  --title "int8 softmax vs float softmax (--keep-float SOFTMAX), stride-1 Small" --name int8_softmax --out benchmarks/results

# Small with --stem-stride 2x1 (only the columns kept: 2x the MACs), trained alone on the machine,
# then one benchmark run with the two other int8 students (student_stem_2x1.md)
step $B/student train "${TRAIN[@]}" --run $R/cap-small-stem2x1 --arch small --stem-stride 2x1 "${S[@]}" > $R/cap-small-stem2x1.log 2>&1
step $B/deploy tflite $R/cap-small-stem2x1 --out $R/cap-bundles-2x1/cap-small-stem2x1-tflite-int8 --int8 \
  --data $R/real-dev-split/train.txt --parity-data $R/real-dev-split/val.txt --min-agreement 0
step $B/benchmarks run $R/cap-small-stem2x1 $R/cap-bundles-2x1/cap-small-stem2x1-tflite-int8 $R/cap-bundles/cap-small-stem1-tflite-int8 \
  $R/v4-whiten-fix/v4-student-small-ema-tflite-int8-realcal-fixed --data $R/real-dev-split/val.txt --threads 1 --runs 200 \
  --min-seconds 10 --title "Small with --stem-stride 2x1 vs 1 vs 2 (int8, LiteRT)" --name student_stem_2x1 --out benchmarks/results

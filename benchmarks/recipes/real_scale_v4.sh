#!/usr/bin/env bash
# Real-scale run v4 (2-core CPU, no GPU): the v3 chain (real_scale.sh) on the fixed data order,
# with the weight average (--ema 0.999) everywhere, the int8 whitening fix, and a stride-1
# MobileNetV3-Small (width 0.5, 64-channel neck: student_capacity.md, student_s1_latency.md) as the
# distillation target. Every step is a
# toolkit command; rerunning the script resumes each training run from its checkpoint and skips
# finished exports, so it can be spread over several sessions.
# Inputs: runs/synth100k and runs/real-dev-split from step 1 of real_scale.sh.
# Measured on an AVX2-only 2-core EPYC, 2026-12-01/02, over three sessions (the training times
# shared the cores): teacher 160 min; labels-only student 44 min; slimming (sparsity epoch 32 min,
# fine-tuning 36 min) beside distillation (68 min); QAT 3 min; exports 9 min; the benchmark run
# 10 min, alone on the machine. Results: real_scale.md, teacher_ema_run.md, students_6ep_run.md.
source "$(dirname "$0")/setup.sh"

# 1. teacher: as v3 plus the weight average
done_run $R/teacher-v4 || step $B/teacher train "${TRAIN[@]}" --run $R/teacher-v4 --input-size 32x96 --width 64 \
  --strides 1,2,2,2x1 --epochs 8 --steps-per-epoch 800 --lr 2e-3 --loss ce --label-smoothing 0 --ema 0.999

# 2. the student: stride-1 minimalistic MobileNetV3-Small at width 0.5 with a 64-channel neck, the
#    cheapest stride-1 variant in student_s1_latency.md (int8: 1.15 MB, 0.93 ms vs the teacher's
#    45.8 MB, 11.1 ms in the same run). Labels only vs distilled (T=2, alpha 0.5), same data and steps.
#    Side by side: the labels-only student, then slimming (half the MACs) and distillation.
S=("${S1_A05[@]}" --epochs 6)
if ! done_run $R/s1-a05-n64; then
  step $B/student train "${TRAIN[@]}" --run $R/s1-a05-n64 "${S[@]}" > $R/s1-a05-n64.log 2>&1 &
fi
if ! done_run $R/teacher-v4-slim; then
  step $B/compress slim $R/teacher-v4 "${TRAIN[@]}" --run $R/teacher-v4-slim --flops 0.5 --sparsity-epochs 1 \
    --gamma-l1 1e-3 --sparsity-lr 1e-3 --epochs 3 --steps-per-epoch 800 --lr 5e-4 --ema 0.999 \
    > $R/teacher-v4-slim.log 2>&1 &
fi
done_run $R/distilled-s1-a05-n64 || step $B/compress distill "${TRAIN[@]}" --teacher $R/teacher-v4 \
  --run $R/distilled-s1-a05-n64 "${S[@]}" --temperature 2 --kd-alpha 0.5 > $R/distilled-s1-a05-n64.log 2>&1
wait
# the accurate but slower width-1.0 stride-1 Small and the Large (labels only, student_capacity.sh)
done_run $R/cap-small-stem1 && done_run $R/cap-large || step benchmarks/recipes/student_capacity.sh

# 3. QAT of the distilled student (activation ranges calibrated from the float model)
done_run $R/qat-s1-a05-n64 || step $B/compress qat $R/distilled-s1-a05-n64 "${TRAIN[@]}" --run $R/qat-s1-a05-n64 --epochs 1 \
  --steps-per-epoch 300 --lr 1e-4 --min-agreement 0

# 4. exports: int8 calibrated on real training crops, parity on the held-out half; int8 parity
#    thresholds at 0 so every artefact lands in the report with its measured agreement
BUNDLES=$R/v4-bundles
export_all $R/teacher-v4 tflite-fp32 tflite-int8 onnx-fp32
export_all $R/teacher-v4-slim tflite-fp32 tflite-int8
export_all $R/distilled-s1-a05-n64 tflite-fp32 tflite-int8 onnx-fp32 onnx-int8
export_all $R/s1-a05-n64 tflite-int8
# the labels-only student and its int8 export, recorded as soon as they existed (the teacher was
# still training): student_s1_a05_n64.md and student_s1_a05_n64_run.md
[ -f benchmarks/results/student_s1_a05_n64.json ] || step $B/benchmarks accuracy $R/s1-a05-n64 \
  $R/v4-bundles/s1-a05-n64-tflite-int8 --data $R/real-dev-split/val.txt --name student_s1_a05_n64 --out benchmarks/results \
  --title "labels-only stride-1 minimalistic Small, width 0.5, neck 64 (6 x 800 steps, --ema 0.999): Keras and int8"
[ -f benchmarks/results/student_s1_a05_n64_run.json ] || step $B/benchmarks record $R/s1-a05-n64 \
  --out benchmarks/results/student_s1_a05_n64_run --title "labels-only stride-1 minimalistic Small, width 0.5, neck 64"
export_all $R/cap-small-stem1 tflite-int8
export_all $R/cap-large tflite-fp32 tflite-int8 onnx-fp32 onnx-int8
export_all $R/v4-student-small-ema tflite-int8

# 5. one benchmark run, alone on the machine: accuracy on the held-out real half, latency at 1 and 2
#    threads, batch 1. (In the recorded run, runs/v4-bundles also held v4-student-small-tflite-int8,
#    the int8 export of mixing_ablation.md's plain-weights Small, so the report has that row too.)
step $B/benchmarks run $R/teacher-v4 $R/teacher-v4-slim $R/s1-a05-n64 $R/distilled-s1-a05-n64 $R/qat-s1-a05-n64 \
  $R/cap-small-stem1 $R/cap-large $R/v4-student-small-ema $R/v4-bundles $R/qat-s1-a05-n64/int8 \
  --data $R/real-dev-split/val.txt --threads 1 2 --runs 200 --min-seconds 10 --title "real scale v4, 2-core AVX2 host" --name real_scale --out $R/superseded  # real_scale_v5.sh writes the current report

# 6. training records
step $B/benchmarks record $R/teacher-v4 $R/teacher-v4-slim --out benchmarks/results/teacher_ema_run \
  --title "teacher v4 (ResNet-18 w64, 32x96, --ema 0.999) and its slimmed copy (--flops 0.5)"
step $B/benchmarks record $R/s1-a05-n64 $R/distilled-s1-a05-n64 $R/qat-s1-a05-n64 --out benchmarks/results/students_6ep_run \
  --title "stride-1 minimalistic MobileNetV3-Small (width 0.5, neck 64), same data, 6 x 800 steps, --ema 0.999: labels only vs distilled \
(T=2, alpha 0.5) vs distilled + QAT"

#!/usr/bin/env bash
# The real-scale run recorded in benchmarks/results/ (2-core CPU, no GPU). Every step is a
# toolkit command; rerunning a training command resumes from its checkpoint.
# Inputs: ../shared/data/plates-real-dev (1000 real crops). Half of it (seed 0) is mixed into
# training (x20), the other half (500 plates) is the held-out validation / report set.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=.venv/bin
R=runs
REAL=../shared/data/plates-real-dev
step() { echo "+ $*"; "$@"; }

# 1. data
[ -d $R/synth100k ] || step $B/plates synth --out $R/synth100k -n 100000 --seed 1 --quiet
[ -f $R/real-dev-split/val.txt ] || step $B/plates split $REAL --fraction 0.5 --seed 0 --out $R/real-dev-split
TRAIN=(--train $R/synth100k --train "$R/real-dev-split/train.txt*20" --val $R/real-dev-split/val.txt --batch-size 64 --quiet)

# 2. teacher: ResNet-18 (width 64) at 32x96. No label smoothing: an LS teacher capped its
#    confidence near 0.9 (no usable high-precision threshold) and makes flatter KD targets.
step $B/teacher train "${TRAIN[@]}" --run $R/teacher --input-size 32x96 --width 64 --strides 1,2,2,2x1 \
  --epochs 8 --steps-per-epoch 800 --lr 2e-3 --loss ce --label-smoothing 0

# 3. slimming to half the MACs: a real sparsity epoch (L1 1e-3 at LR 1e-3), then 3 fine-tune epochs.
step $B/compress slim $R/teacher "${TRAIN[@]}" --run $R/teacher-slim --flops 0.5 --sparsity-epochs 1 \
  --gamma-l1 1e-3 --sparsity-lr 1e-3 --epochs 3 --steps-per-epoch 800 --lr 5e-4

# 4. students, same data and steps: Small from labels only vs distilled (T=2, alpha 0.5), then QAT;
#    Large from labels only (fewer epochs: it is ~2x the compute per step).
S=(--input-size 32x96 --normalisation whiten --steps-per-epoch 600 --label-smoothing 0)
step $B/student train "${TRAIN[@]}" --run $R/student-small --arch small --epochs 6 "${S[@]}"
step $B/student train "${TRAIN[@]}" --run $R/student-large --arch large --epochs 4 "${S[@]}"
step $B/compress distill "${TRAIN[@]}" --teacher $R/teacher --run $R/distilled-small --arch small --epochs 6 "${S[@]}" \
  --temperature 2 --kd-alpha 0.5
step $B/compress qat $R/distilled-small "${TRAIN[@]}" --run $R/qat-small --epochs 1 --steps-per-epoch 300 \
  --lr 1e-4 --min-agreement 0

# 5. exports (calibration: synthetic training images; parity: held-out real plates). int8 parity
#    thresholds are lowered to 0 here so every artefact lands in the report with its measured agreement.
EXP=(--data $R/synth100k --parity-data $R/real-dev-split/val.txt)
for m in teacher teacher-slim; do
  step $B/deploy tflite $R/$m --out $R/bundles/$m-tflite-fp32 "${EXP[@]}"
  step $B/deploy tflite $R/$m --out $R/bundles/$m-tflite-int8 --int8 "${EXP[@]}" --min-agreement 0
done
for m in distilled-small student-large; do
  step $B/deploy tflite $R/$m --out $R/bundles/$m-tflite-fp32 "${EXP[@]}"
  step $B/deploy tflite $R/$m --out $R/bundles/$m-tflite-int8 --int8 "${EXP[@]}" --min-agreement 0
  step $B/deploy onnx $R/$m --out $R/bundles/$m-onnx-fp32 "${EXP[@]}"
  step $B/deploy onnx $R/$m --out $R/bundles/$m-onnx-int8 --int8 "${EXP[@]}" --min-agreement 0
done

# 6. one benchmark run: accuracy on the held-out real half, latency at 1 and 2 threads, batch 1
step $B/benchmarks run $R/teacher $R/teacher-slim $R/student-small $R/student-large $R/distilled-small $R/qat-small \
  $R/bundles $R/qat-small/int8 --data $R/real-dev-split/val.txt --threads 1 2 --runs 200 --min-seconds 10 \
  --title "real scale, 2-core host" --name real_scale --out benchmarks/results

# 7. training records
step $B/benchmarks record $R/teacher --out benchmarks/results/teacher_run \
  --title "teacher (ResNet-18 w64, 32x96, no label smoothing), real scale"
step $B/benchmarks record $R/teacher-slim --out benchmarks/results/slim_run --title "slimmed teacher (--flops 0.5), real scale"
step $B/benchmarks record $R/student-small $R/distilled-small $R/qat-small $R/student-large \
  --out benchmarks/results/students_run --title "students, same data, 6 x 600 steps (Large 4 x 600): Small labels only \
vs distilled (T=2, alpha 0.5) vs distilled + QAT; Large labels only"

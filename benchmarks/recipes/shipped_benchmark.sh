#!/usr/bin/env bash
# #22: one benchmark run of everything shipped, plus the main job's slimmed model: the teacher when one ships
# (Keras, and fp32 TFLite exported here, not shipped: models/ stays under 40 MB), the slimmed
# teacher (run `benchmarks pipeline` first: runs/pipeline/slimmed and its bundles), the student's
# Keras folder and bundles (TFLite fp32 / int8 / int8 float ends, ONNX fp32 / int8); LiteRT and
# ONNX Runtime at 1 and 2 threads, batch 1 and 3 (3 = the cost of deploy predict --views 3), every
# setting timed in turns; accuracy on the held-out plates-real-dev half. Then ONNX Runtime server
# throughput of the student at batch 1 / 8 / 32.
source "$(dirname "$0")/setup.sh"
DEV_HELD=$R/real-dev-split/val.txt
BUNDLES=$R/shipped-bundles
TEACHER=()  # until a teacher ships, the run holds the student and the main job's slimmed model
if [ -d models/teacher/keras ]; then
  # exported again when a newer teacher shipped: an export of the previous one would be timed instead
  [ $BUNDLES/teacher-tflite-fp32/export_report.json -nt models/teacher/keras/model.keras ] || step $B/deploy tflite models/teacher/keras \
    --out $BUNDLES/teacher-tflite-fp32 --parity-data $DEV_HELD
  TEACHER=(models/teacher/keras $BUNDLES/teacher-tflite-fp32)
fi
SLIM=()
[ -d $R/pipeline/slimmed ] && SLIM=($R/pipeline/slimmed $R/pipeline/bundles)
step $B/benchmarks run models/student "${TEACHER[@]}" "${SLIM[@]}" \
  --data $DEV_HELD --threads 1 2 --batch 1 3 --runs 300 --warmup 30 --min-seconds 4 --rounds 5 \
  --name shipped_models_latency --out benchmarks/results \
  --title "shipped models and the main job's slimmed model: accuracy on the held-out plates-real-dev half, LiteRT / ONNX Runtime latency at 1 and 2 threads"
step $B/benchmarks server models/student/onnx-int8 --clients 1 2 --batch 1 8 32 --seconds 5 \
  --out benchmarks/results/shipped_student_server

#!/usr/bin/env bash
# Ship the reference student into models/student: its Keras folder (so compress can start from it), int8 and
# fp32 TFLite, ONNX fp32 and int8 (each export with its parity check on the held-out plates-real-dev half, int8
# calibrated on the training half), one benchmark per evaluation set into benchmarks/results/, and the model
# card (MODEL.md + card.json, with the sha256 of every file). MODEL (default: the round of
# reference_student.sh that reads more of plates-real-val, the selection set). Then update
# models/reference_metrics.json by hand from the card if the new model is to replace the old.
source "$(dirname "$0")/setup.sh"
DEV_HELD=$R/real-dev-split/val.txt
DEV_TRAIN=$R/real-dev-split/train.txt
VAL=../shared/data/plates-real-val
best() {  # the run folder whose eval.json (on plates-real-val) has the highest full-plate accuracy
  $B/python -c 'import json, sys; print(max(sys.argv[1:], key=lambda r: json.load(open(r + "/eval.json"))["plate_accuracy"]))' "$@"
}
MODEL=${MODEL:-$(best $R/ref-student-r[0-9]*)}
OUT=models/student
echo "shipping $MODEL into $OUT"
# the shipped folder is rebuilt in place (export reports record models/student/keras as their source);
# the previous one waits beside it and comes back if any step fails
rm -rf $OUT.previous && { [ ! -d $OUT ] || mv $OUT $OUT.previous; }
trap '[ -d $OUT.previous ] && rm -rf $OUT && mv $OUT.previous $OUT && echo "restored the previous $OUT" >&2' ERR
mkdir -p $OUT/keras
cp $MODEL/model.keras $MODEL/labels.json $OUT/keras/
exp=(--parity-data $DEV_HELD)
int8=(--int8 --data $DEV_TRAIN)
step $B/deploy tflite $OUT/keras --out $OUT/tflite-int8 "${exp[@]}" "${int8[@]}"
step $B/deploy tflite $OUT/keras --out $OUT/tflite-fp32 "${exp[@]}"
step $B/deploy onnx $OUT/keras --out $OUT/onnx-fp32 "${exp[@]}"
step $B/deploy onnx $OUT/keras --out $OUT/onnx-int8 "${exp[@]}" "${int8[@]}"
step $B/benchmarks run $OUT --data $DEV_HELD --threads 1 --name reference_models_dev --out benchmarks/results \
  --title "shipped models on the held-out half of plates-real-dev (accuracy, size, latency at 1 thread)"
step $B/benchmarks accuracy $OUT --data $VAL --name reference_models_val --out benchmarks/results \
  --title "shipped models on plates-real-val (other cameras, 17 provinces; the selection set)"
step $B/benchmarks card $OUT --samples models/samples \
  --results plates-real-dev-heldout=benchmarks/results/reference_models_dev.json \
  --results plates-real-val=benchmarks/results/reference_models_val.json \
  --title "Reference student: minimalistic MobileNetV3-Small, width 0.5, stride-1 stem, 32x96" \
  --trained-on "the v6 synthetic generator (100k plates), the seeded training half of plates-real-dev (x10), then pseudo-labels on plates-real-unlabelled (each later round fine-tunes the previous one with them); int8 calibrated on the plates-real-dev training half" \
  --recipe "benchmarks/recipes/reference_student.sh && benchmarks/recipes/ship_models.sh   # shipped: $MODEL"
trap - ERR
rm -rf $OUT.previous

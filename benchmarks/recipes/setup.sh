# Shared start of every recipe (sourced, not run): strict mode, the repository root as the working
# folder, the toolkit's commands (B: .venv/bin, or PLATE_EDGE_BIN as frozen.sh sets it), the run
# folder (R), a logged step, and the real-scale training
# sources: 100k synthetic plates plus the real training half x20, validated on the held-out half;
# done_run RUN: that training run finished (its model and final evaluation exist);
# export_all MODEL FORMAT...: deploy MODEL into $BUNDLES/<name>-<format> (tflite-fp32, tflite-int8,
# tflite-int8-float-ends, onnx-fp32, onnx-int8), skipping finished exports; int8 calibrated on the
# real training half, parity on the held-out half, int8 thresholds at 0 so every artefact lands in
# the report. int8 keeps in float only the ops XNNPACK has no int8 kernel for (the whitening's
# one-number scale, the softmaxes), so XNNPACK takes the whole graph; float-ends also keeps the
# whole input normalisation in float (= --keep-float normalise --keep-float SOFTMAX).
# pseudo_sources LABELLER [PROVINCE_T]: the pseudo-labels LABELLER gives plates-real-unlabelled (character
# heads at 0.9, the province at PROVINCE_T, default 0.99) in $pseudo, and PERMUTED (20000) plates permuted
# from them and the real-dev training half in $perm; both named after LABELLER (and a non-default PROVINCE_T);
# PROVINCE_POWER (default 0: uniform over the provinces present): plates permute --province-power.
# MIN_COLOUR_SHARE (default 0: no check, as the shipped models' labels were made; 0.05 is the toolkit's
# default): teacher pseudo-label --min-colour-share; a non-zero share adds -colour to both names.
# MASK (unset; e.g. char1=苏): teacher pseudo-label --mask-class, a class an audit of the labels found mostly
# wrong (docs/experiments/030); adds -mask-<head>-<class> to both names.
# PERM_DONORS (unset; e.g. a plates synth set): plates permute --province-donors, DONOR_SHARE (0.25) of the permuted
# plates take their province cell from it (docs/experiments/019, 037); adds -donors<share>-<set> to $perm.
# VAL: plates-real-val, the selection set (never trained or calibrated on); TEACHER_START (default: the teacher soup
# of reference_soups.sh): the ResNet-18 teacher the attention rounds start from; GEOMETRY: the tilt, shear and
# perspective rounds 4-9 pass to reference_round3.sh (docs/experiments/028), with that teacher.
# R3, R4: the round-3 attention student without province labels and the round-4 students' prefix; SOUP_R5:
# the six students round 5 averages into the shipped student soup (reference_round5.sh); later rounds add to it.
# KD_R9: the settings round 9 passes to reference_round3.sh to distil the round-8 teacher into a student
# (docs/experiments/033); R9_PSEUDO, R9_PERM: the pseudo-labels and permuted plates that round trains on (the
# round-6 teacher b's, 苏 masked; pseudo_sources makes them under these names).
# resnet_round RUN SEED ARGS...: the reference teacher fine-tuned 6 x 800 steps with attention heads on $pseudo and
# $perm (after pseudo_sources), the real-dev training half x10 and the synthetic plates, tilted as the students;
# ARGS give the start (--init) and the learning rate (docs/experiments/032).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
B=${PLATE_EDGE_BIN:-.venv/bin}
R=runs
step() { echo "+ $(date +%T) $*"; "$@"; }
# the v4 student: stride-1 minimalistic MobileNetV3-Small, width 0.5, 64-channel neck (add --epochs)
S1_A05=(--arch small --minimalistic --stem-stride 1 --alpha 0.5 --neck 64 --input-size 32x96 --normalisation whiten
  --steps-per-epoch 800 --label-smoothing 0 --ema 0.999)
# the reference teacher (ResNet-18 at width 32, 32x128) and how it trains, selected on plates-real-val (add --train)
REF_TEACHER=(--val ../shared/data/plates-real-val --batch-size 64 --quiet --input-size 32x128 --width 32
  --strides 1,2,2,2x1 --steps-per-epoch 800 --loss ce --label-smoothing 0 --ema 0.999 --zoom-out 0.15 --zoom-in 0.04
  --rotate 5 --shear 5 --checkpoint-every 200)
VAL=../shared/data/plates-real-val
TEACHER_START=${TEACHER_START:-$R/teacher-soup}
GEOMETRY=(ROTATE=12 SHEAR=12 PERSPECTIVE=0.2 TEACHER_START=$TEACHER_START)
R3=$R/student-attention-r3-noprov R4=$R/student-attention-r4
SOUP_R5=($R3 $R3-s1 $R4-mask $R4-noprov $R4-mask-s1 $R3-s2)
KD_R9=(LABELLER=$R/round6-teacher-b MASK=char1=苏 TEACHER=$R/round8-teacher KD_T=2 EPOCHS=5)
R9_PSEUDO=$R/pseudo-round6-teacher-b-colour-mask-char1-苏.txt R9_PERM=$R/permuted-round6-teacher-b-colour-mask-char1-苏-power0.5
TRAIN=(--train $R/synth100k --train "$R/real-dev-split/train.txt*20" --val $R/real-dev-split/val.txt --batch-size 64 --quiet)
done_run() { { [ -f "$1/model.keras" ] || [ -f "$1/model.h5" ]; } && [ -f "$1/eval.json" ]; }  # .h5: QAT runs
export_all() {
  local m=$1 f out; shift
  local exp=(--parity-data $R/real-dev-split/val.txt) int8=(--int8 --data $R/real-dev-split/train.txt --min-agreement 0)
  for f in "$@"; do
    out=$BUNDLES/$(basename $m)-$f
    [ -f $out/export_report.json ] && continue
    case $f in
      tflite-fp32) step $B/deploy tflite $m --out $out "${exp[@]}" ;;
      tflite-int8) step $B/deploy tflite $m --out $out "${exp[@]}" "${int8[@]}" ;;
      tflite-int8-float-ends) step $B/deploy tflite $m --out $out "${exp[@]}" "${int8[@]}" --float-ends ;;
      onnx-fp32) step $B/deploy onnx $m --out $out "${exp[@]}" ;;
      onnx-int8) step $B/deploy onnx $m --out $out "${exp[@]}" "${int8[@]}" ;;
    esac
  done
}
# card_runs FOLDER...: the two benchmark runs the shipped models' cards are written from (the held-out
# plates-real-dev half with latency at 1 thread; plates-real-val, accuracy only); CARD_RESULTS: their
# files as benchmarks card takes them (ship_models.sh, shipped_remeasure.sh)
card_runs() {
  step $B/benchmarks run "$@" --data $R/real-dev-split/val.txt --threads 1 --name reference_models_dev --out benchmarks/results \
    --title "shipped models on the held-out half of plates-real-dev (accuracy, size, latency at 1 thread)"
  step $B/benchmarks accuracy "$@" --data $VAL --name reference_models_val --out benchmarks/results \
    --title "shipped models on plates-real-val (other cameras, 17 provinces; the selection set)"
}
CARD_RESULTS=(--results plates-real-dev-heldout=benchmarks/results/reference_models_dev.json
  --results plates-real-val=benchmarks/results/reference_models_val.json)
# shipped_arm BASE TEACHER SEED EPOCHS SYNTH_N: in $arm, the settings of 036/037's fine-tunes from the shipped
# models for student_plate_glyphs.sh: BASE distilled from TEACHER (T=2) EPOCHS x 800 steps on TEACHER's
# pseudo-labels (苏 masked, colour checked), the plates permuted from them, the real-dev training half and SYNTH_N
# synthetic plates with Hanzi of every face, attention heads, tilted as round 9 (add the arm's own settings)
shipped_arm() {
  arm=(BASE=$1 FORGET=none LABELLER=$2 MASK=char1=苏 MIN_COLOUR_SHARE=0.05 PROVINCE_POWER=0.5 FACES=all
    POOLING=attention TEACHER=$2 KD_T=2 EPOCHS=$4 ROTATE=12 SHEAR=12 PERSPECTIVE=0.2 SYNTH_N=$5 SEED=$3)
}
pseudo_sources() {
  local t=${2:-0.99} tag
  tag=$(basename "$1")
  [ "$tag" != keras ] || tag=$(basename "$(dirname "$1")")  # a shipped model folder: models/teacher/keras -> teacher
  [ "$t" = 0.99 ] || tag=$tag-province$t
  [ "${MIN_COLOUR_SHARE:-0}" = 0 ] || tag=$tag-colour
  mask=()
  [ -z "${MASK:-}" ] || { tag=$tag-mask-${MASK//=/-} mask=(--mask-class "$MASK"); }
  pseudo=$R/pseudo-$tag.txt perm=$R/permuted-$tag permute_args=()
  [ "${PROVINCE_POWER:-0}" = 0 ] || { perm=$perm-power$PROVINCE_POWER permute_args=(--province-power $PROVINCE_POWER); }
  [ -z "${PERM_DONORS:-}" ] || { perm=$perm-donors${DONOR_SHARE:-0.25}-$(basename $PERM_DONORS)
    permute_args+=(--province-donors $PERM_DONORS --donor-share ${DONOR_SHARE:-0.25}); }
  [ -f $pseudo ] || step $B/teacher pseudo-label "$1" --unlabelled ../shared/data/plates-real-unlabelled --out $pseudo \
    --threshold 0.9 --head-threshold char1=$t --min-colour-share ${MIN_COLOUR_SHARE:-0} "${mask[@]}"
  [ -d $perm ] || step $B/plates permute $R/real-dev-split/train.txt $pseudo --out $perm -n ${PERMUTED:-20000} "${permute_args[@]}"
}
resnet_round() {
  local run=$1 seed=$2; shift 2
  done_run $run || step $B/teacher train --train $R/synth-rounded0.5-100k-faces-all --train "$R/real-dev-split/train.txt*10" \
    --train "$pseudo*4" --train $perm "${REF_TEACHER[@]}" --rotate 12 --shear 12 --perspective 0.2 --pooling attention \
    --epochs 6 --warmup-epochs 0.25 "$@" --seed $seed --run $run
}

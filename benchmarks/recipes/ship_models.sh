#!/usr/bin/env bash
# Ship the reference models into models/. The student (MODEL, default: the greedy soup of
# reference_soups.sh, runs/student-soup): its Keras folder (so compress can start from it), int8
# TFLite (int8 wherever XNNPACK has an int8 kernel, so it takes the whole graph; and with float ends: the
# whole whitening in float too), fp32 TFLite, ONNX fp32 and int8, each export with its
# parity check on the held-out plates-real-dev half, int8 calibrated on the training half. The teacher
# (TEACHER, default: the finished round of reference_teacher.sh or teacher_plate_glyphs.sh, the soup of
# reference_soups.sh or an ensemble of reference_attention.sh or reference_round3.sh, that reads most of plates-real-val): its Keras folder. Then one benchmark run of both per evaluation set into benchmarks/results/ and a model card per
# folder (MODEL.md + card.json, with the sha256 of every file). Update models/reference_metrics.json by hand
# from the cards if the new models are to replace the old. SHIP_STUDENT=0 keeps the shipped student's files
# (only the teacher is replaced; both are benchmarked and carded again). TEACHER_RECIPE / TEACHER_NOTE: the
# recipe that made TEACHER and what it trained on beyond the student's data. CALIB_SEED (0): which draw of the
# training half calibrates the int8 exports (int8_calibration_spread.sh measures the draws).
source "$(dirname "$0")/setup.sh"
DEV_HELD=$R/real-dev-split/val.txt
DEV_TRAIN=$R/real-dev-split/train.txt
best() {  # the run folder whose eval.json (on plates-real-val) has the highest full-plate accuracy
  $B/python -c 'import json, sys; print(max(sys.argv[1:], key=lambda r: json.load(open(r + "/eval.json"))["plate_accuracy"]))' "$@"
}
MODEL=${MODEL:-$R/student-soup}
teachers=()
for t in $R/ref-teacher $R/ref-teacher-r[0-9]* $R/teacher-glyphs-r[0-9]* $R/teacher-soup $R/teacher-ensemble $R/teacher-student-ensemble $R/*-teacher-ensemble; do done_run $t && teachers+=($t); done
TEACHER=${TEACHER:-$([ ${#teachers[@]} = 0 ] || best "${teachers[@]}")}
# what the reference cards share: the recipe stages up to the soups and the attention students,
# and the training those stages add
SOUPS="benchmarks/recipes/reference_models.sh && benchmarks/recipes/reference_teacher.sh && benchmarks/recipes/reference_soups.sh"
ATTENTION="$SOUPS && benchmarks/recipes/reference_attention.sh"
SOUP_ROUNDS="; then two rounds (6 x 800 steps each) on synthetic plates with the plate's round letters on half of them and Hanzi from seven faces, averaged weight by weight (compress soup, docs/experiments/024)"
R2_NOTE="; then the greedy soup of seven fine-tunes of that student (docs/experiments/022-024); then its heads replaced by attention heads (--pooling attention) and trained 12 x 800 steps on the soup's pseudo-labels, then 6 x 800 steps more on the pseudo-labels of an ensemble of three such fine-tunes (docs/experiments/026, 027)"
R3_NOTE="; then 6 x 800 steps more on the pseudo-labels of the ensemble of the ResNet-18 teacher and that student"
R3_GEOMETRY=", with crops tilted and sheared up to 12 degrees and one end up to 20% shorter in perspective (docs/experiments/028)"
case $(basename "${TEACHER:-none}") in teacher-glyphs-r*)  # teacher_plate_glyphs.sh (docs/experiments/022)
  TEACHER_RECIPE=${TEACHER_RECIPE:-"benchmarks/recipes/reference_models.sh && benchmarks/recipes/reference_teacher.sh && FACES=all FORGET=none RUN=runs/student-faces benchmarks/recipes/student_plate_glyphs.sh && FACES=all ROUNDS=1 benchmarks/recipes/teacher_plate_glyphs.sh"}
  TEACHER_NOTE=${TEACHER_NOTE-"; then one round (6 x 800 steps) on synthetic plates with the plate's round letters on half of them and Hanzi from seven faces (plates synth --hanzi-faces all), with the pseudo-labels and permuted plates of that recipe's student (docs/experiments/022)"} ;;
  teacher-ensemble)  # reference_attention.sh (docs/experiments/027)
  TEACHER_RECIPE=${TEACHER_RECIPE:-"$ATTENTION"}
  TEACHER_TITLE=${TEACHER_TITLE:-"Reference teacher: the ResNet-18 teacher (width 32) and three students in one graph, each head the mean of their probabilities"}
  TEACHER_USE=${TEACHER_USE:-"compress distill and teacher pseudo-label"}
  TEACHER_NOTE=${TEACHER_NOTE-"$SOUP_ROUNDS; then in one graph with three students fine-tuned from the shipped soup student (a flatten and two attention-head students; compress ensemble, docs/experiments/027)"} ;;
  teacher-student-ensemble)  # reference_round3.sh (docs/experiments/028)
  TEACHER_RECIPE=${TEACHER_RECIPE:-"$ATTENTION && benchmarks/recipes/reference_round3.sh"}
  TEACHER_TITLE=${TEACHER_TITLE:-"Reference teacher: the ResNet-18 teacher (width 32) and the round-2 attention student in one graph, each head the mean of their probabilities"}
  TEACHER_USE=${TEACHER_USE:-"compress slim / distill and teacher pseudo-label"}
  TEACHER_NOTE=${TEACHER_NOTE-"$SOUP_ROUNDS; then in one graph with the round-2 attention student (compress ensemble, docs/experiments/027, 028)"} ;;
  round8-teacher)  # reference_round6.sh .. reference_round8.sh (docs/experiments/032)
  TEACHER_RECIPE=${TEACHER_RECIPE:-"$ATTENTION && benchmarks/recipes/reference_round4.sh && benchmarks/recipes/reference_round5.sh && benchmarks/recipes/reference_round6.sh && benchmarks/recipes/reference_round7.sh && benchmarks/recipes/reference_round8.sh"}
  TEACHER_TITLE=${TEACHER_TITLE:-"Reference teacher: a ResNet-18 (width 32, attention heads) and the shipped student soup in one graph, each head the weighted mean of their probabilities (1:2)"}
  TEACHER_USE=${TEACHER_USE:-"compress slim / distill and teacher pseudo-label"}
  TEACHER_NOTE=${TEACHER_NOTE-"$SOUP_ROUNDS; then its heads replaced by attention heads and 6 x 800 steps on the round-4 students' pseudo-labels, permuted plates and tilt; then 6 x 800 steps more on the pseudo-labels and permuted plates of the ensemble of it and the shipped student soup (docs/experiments/032); then in one graph with that soup, at twice its weight (compress ensemble --weights 1,2, docs/experiments/031)"} ;;
  round5-teacher)  # reference_round5.sh (docs/experiments/031)
  TEACHER_RECIPE=${TEACHER_RECIPE:-"$ATTENTION && benchmarks/recipes/reference_round4.sh && benchmarks/recipes/reference_round5.sh"}
  TEACHER_TITLE=${TEACHER_TITLE:-"Reference teacher: the ResNet-18 teacher (width 32) and the shipped student soup in one graph, each head the weighted mean of their probabilities (1:2)"}
  TEACHER_USE=${TEACHER_USE:-"compress slim / distill and teacher pseudo-label"}
  TEACHER_NOTE=${TEACHER_NOTE-"$SOUP_ROUNDS; then in one graph with the soup of six attention students that ships as the student, at twice its weight (compress ensemble --weights 1,2, docs/experiments/031)"} ;;
  round4-teacher-ensemble)  # reference_round4.sh (docs/experiments/030)
  TEACHER_RECIPE=${TEACHER_RECIPE:-"$ATTENTION && benchmarks/recipes/reference_round4.sh"}
  TEACHER_TITLE=${TEACHER_TITLE:-"Reference teacher: the ResNet-18 teacher (width 32) and the four round-3 and round-4 attention students of the shipped soup in one graph, each head the mean of their probabilities"}
  TEACHER_USE=${TEACHER_USE:-"compress slim / distill and teacher pseudo-label"}
  TEACHER_NOTE=${TEACHER_NOTE-"$SOUP_ROUNDS; then in one graph with the four attention students whose weight average is the shipped student (compress ensemble, docs/experiments/027, 028, 030)"} ;;
  *-teacher-ensemble)  # reference_round3.sh (docs/experiments/028): the soup and the round-3 student
  TEACHER_RECIPE=${TEACHER_RECIPE:-"$ATTENTION && ROTATE=12 SHEAR=12 PERSPECTIVE=0.2 PROVINCE_T=1.0 RUN=runs/student-attention-r3-noprov benchmarks/recipes/reference_round3.sh"}
  TEACHER_TITLE=${TEACHER_TITLE:-"Reference teacher: the ResNet-18 teacher (width 32) and the shipped round-3 attention student in one graph, each head the mean of their probabilities"}
  TEACHER_USE=${TEACHER_USE:-"compress slim / distill and teacher pseudo-label"}
  TEACHER_NOTE=${TEACHER_NOTE-"$SOUP_ROUNDS; then in one graph with the shipped round-3 attention student (compress ensemble, docs/experiments/027, 028)"} ;;
  teacher-soup)  # reference_soups.sh (docs/experiments/024)
  TEACHER_RECIPE=${TEACHER_RECIPE:-"$SOUPS"}
  TEACHER_NOTE=${TEACHER_NOTE-"; then two rounds (6 x 800 steps each) on synthetic plates with the plate's round letters on half of them and Hanzi from seven faces, with the pseudo-labels and permuted plates of a fine-tune of the student (docs/experiments/022), and the two rounds averaged weight by weight (compress soup, docs/experiments/024)"} ;;
esac
ATTENTION_TITLE="Reference student: minimalistic MobileNetV3-Small, width 0.5, stride-1 stem, attention heads"
R4_NOTE="$R2_NOTE$R3_NOTE (the province head not pseudo-labelled)$R3_GEOMETRY, in two seeds; then two round-4 fine-tunes of the first on the pseudo-labels of the ensemble of the ResNet-18 teacher and it, one with the province labelled except 苏, one without province labels"
R5_NOTE="$R4_NOTE; then one more seed of each of the round-3 recipe without province labels and the round-4 recipe with 苏 masked; then the six averaged weight by weight (compress soup, docs/experiments/030, 031)"
case $(basename "$MODEL") in shipped-kd-ink0.55-lr3e-4-s*)  # student_unsure_province.sh's control arm (docs/experiments/036, 037)
  STUDENT_RECIPE=${STUDENT_RECIPE:-"$ATTENTION && benchmarks/recipes/reference_round4.sh && benchmarks/recipes/reference_round5.sh && benchmarks/recipes/reference_round6.sh && benchmarks/recipes/reference_round7.sh && benchmarks/recipes/reference_round8.sh && BASE=runs/student-soup-r5 SHIPPED_TEACHER=runs/round8-teacher SEED=${MODEL##*-s} benchmarks/recipes/student_unsure_province.sh"}
  STUDENT_TITLE=${STUDENT_TITLE:-$ATTENTION_TITLE}
  SOUP_NOTE="$R5_NOTE; then that soup fine-tuned 3 x 800 steps at LR 3e-4, distilled (T=2) from the shipped teacher, on the shipped teacher's pseudo-labels (苏 masked) and 20,000 plates permuted from them, the real-dev training half and 50,000 synthetic plates with the Hanzi ink capped at 0.55 of their box, tilted up to 12 degrees; its epoch that reads most of plates-real-val (docs/experiments/036, 037)" ;;
  student-soup-r5)  # reference_round5.sh (docs/experiments/031)
  STUDENT_RECIPE=${STUDENT_RECIPE:-"$ATTENTION && benchmarks/recipes/reference_round4.sh && benchmarks/recipes/reference_round5.sh"}
  STUDENT_TITLE=${STUDENT_TITLE:-$ATTENTION_TITLE}
  SOUP_NOTE="$R5_NOTE" ;;
  student-soup-r4)  # reference_round4.sh (docs/experiments/030)
  STUDENT_RECIPE=${STUDENT_RECIPE:-"$ATTENTION && benchmarks/recipes/reference_round4.sh"}
  STUDENT_TITLE=${STUDENT_TITLE:-$ATTENTION_TITLE}
  SOUP_NOTE="$R4_NOTE; then the four averaged weight by weight (compress soup, docs/experiments/030)" ;;
  student-attention-r3-noprov)  # reference_round3.sh (docs/experiments/028)
  STUDENT_RECIPE=${STUDENT_RECIPE:-"$ATTENTION && ROTATE=12 SHEAR=12 PERSPECTIVE=0.2 PROVINCE_T=1.0 RUN=runs/student-attention-r3-noprov benchmarks/recipes/reference_round3.sh"}
  STUDENT_TITLE=${STUDENT_TITLE:-$ATTENTION_TITLE}
  SOUP_NOTE="$R2_NOTE$R3_NOTE (the province head not pseudo-labelled)$R3_GEOMETRY" ;;
  student-attention-r3-persp)  # reference_round3.sh (docs/experiments/028)
  STUDENT_RECIPE=${STUDENT_RECIPE:-"$ATTENTION && ROTATE=12 SHEAR=12 PERSPECTIVE=0.2 RUN=runs/student-attention-r3-persp benchmarks/recipes/reference_round3.sh"}
  STUDENT_TITLE=${STUDENT_TITLE:-$ATTENTION_TITLE}
  SOUP_NOTE="$R2_NOTE$R3_NOTE$R3_GEOMETRY" ;;
  student-attention-r2)  # reference_attention.sh (docs/experiments/027)
  STUDENT_RECIPE=${STUDENT_RECIPE:-"$ATTENTION"}
  STUDENT_TITLE=${STUDENT_TITLE:-$ATTENTION_TITLE}
  SOUP_NOTE="$R2_NOTE" ;;
  student-soup)  # reference_soups.sh (docs/experiments/024)
  STUDENT_RECIPE=${STUDENT_RECIPE:-"$SOUPS"}
  SOUP_NOTE="; then seven fine-tunes of that student (6 x 800 steps each: Hanzi from seven faces, province thresholds, a pseudo-label colour check, provinces drawn by their crop count; docs/experiments/022, 023) and the greedy soup of the student and them, picked on plates-real-val (compress soup, docs/experiments/024)" ;;
esac
SHIP=()
[ "${SHIP_STUDENT:-1}" = 0 ] || SHIP+=(models/student)
done_run "$TEACHER" && SHIP+=(models/teacher)
[ ${#SHIP[@]} -gt 0 ] || { echo "nothing to ship (SHIP_STUDENT=0 and no finished TEACHER run)" >&2; exit 2; }
# benchmarked: the student and, shipped now or before, the teacher
BENCH=(models/student)
{ done_run "$TEACHER" || [ -f models/teacher/keras/model.keras ]; } && BENCH+=(models/teacher)
[ "${SHIP_STUDENT:-1}" = 0 ] || echo "shipping $MODEL into models/student"
done_run "$TEACHER" && echo "shipping $TEACHER into models/teacher"
# each shipped folder is rebuilt in place (export reports record models/<name>/keras as their source);
# the previous one waits beside it and comes back if any step fails
restore() { for out in "${SHIP[@]}"; do [ -d $out.previous ] && rm -rf $out && mv $out.previous $out && echo "restored $out" >&2; done; }
for out in "${SHIP[@]}"; do rm -rf $out.previous && { [ ! -d $out ] || mv $out $out.previous; }; mkdir -p $out/keras; done
trap restore ERR
done_run "$TEACHER" && cp $TEACHER/model.keras $TEACHER/labels.json models/teacher/keras/
if [ "${SHIP_STUDENT:-1}" != 0 ]; then
  cp $MODEL/model.keras $MODEL/labels.json models/student/keras/
  OUT=models/student
  exp=(--parity-data $DEV_HELD)
  int8=(--int8 --data $DEV_TRAIN --calib-seed ${CALIB_SEED:-0})
  step $B/deploy tflite $OUT/keras --out $OUT/tflite-int8 "${exp[@]}" "${int8[@]}"
  step $B/deploy tflite $OUT/keras --out $OUT/tflite-int8-float-ends "${exp[@]}" "${int8[@]}" --float-ends
  step $B/deploy tflite $OUT/keras --out $OUT/tflite-fp32 "${exp[@]}"
  step $B/deploy onnx $OUT/keras --out $OUT/onnx-fp32 "${exp[@]}"
  step $B/deploy onnx $OUT/keras --out $OUT/onnx-int8 "${exp[@]}" "${int8[@]}"
fi
card_runs "${BENCH[@]}"
# the student read in three views (deploy predict --views 3; docs/experiments/021), both sets
for data in $DEV_HELD $VAL; do
  case $data in $VAL) name=reference_models_val_views3 set=plates-real-val ;; *) name=reference_models_dev_views3 set="the held-out half of plates-real-dev" ;; esac
  step $B/benchmarks accuracy models/student --views 3 --data $data --name $name --out benchmarks/results \
    --title "shipped student read in three views (as given, 5% tighter, 5% looser; mean probabilities) on $set"
done
TRAINED_ON="the v6 synthetic generator (100k plates), the seeded training half of plates-real-dev (x10), then pseudo-labels on plates-real-unlabelled"
# the command that shipped these models, as the cards' recipes end
SHIP_CMD="MODEL=$MODEL TEACHER=${TEACHER:-none}${SHIP_STUDENT:+ SHIP_STUDENT=$SHIP_STUDENT}${CALIB_SEED:+ CALIB_SEED=$CALIB_SEED} benchmarks/recipes/ship_models.sh"
size_of() { $B/python -c 'import json, sys; i = json.load(open(sys.argv[1]))["input"]; print(i["height"], i["width"], sep="x")' "$1/labels.json"; }
# STUDENT_RECIPE / STUDENT_NOTE: the recipe that made MODEL and what its stages after reference_student.sh added
STUDENT_RECIPE=${STUDENT_RECIPE:-benchmarks/recipes/reference_models.sh}
STUDENT_NOTE=${STUDENT_NOTE-"; then round 6 widened to a 32x128 input (its convolutions kept, new heads) and fine-tuned on its pseudo-labels; then with tilted, sheared and tighter crops (docs/experiments/017); then two rounds that add 20,000 character-permuted plates of the real crops (the plates-real-dev training half and that round's pseudo-labels) each; then two rounds on synthetic plates half of which draw 0, C, D, G, Q in the plate's straight-sided shapes, each with fresh pseudo-labels and permuted plates (docs/experiments/020)"}${SOUP_NOTE:-}
step $B/benchmarks card models/student --samples models/samples "${CARD_RESULTS[@]}" \
  --title "${STUDENT_TITLE:-Reference student: minimalistic MobileNetV3-Small, width 0.5, stride-1 stem}, $(size_of models/student/keras)" \
  --trained-on "$TRAINED_ON (each later round fine-tunes the previous one with them; from round 5, crops up to 15% looser per side)${STUDENT_NOTE:-}; int8 calibrated on the plates-real-dev training half" \
  --recipe "$STUDENT_RECIPE && $SHIP_CMD"
if done_run "$TEACHER"; then
  step $B/benchmarks card models/teacher --samples models/samples "${CARD_RESULTS[@]}" \
    --title "${TEACHER_TITLE:-Reference teacher: ResNet-18, width 32}, $(size_of models/teacher/keras) (a Keras folder for ${TEACHER_USE:-compress slim / distill})" \
    --trained-on "$TRAINED_ON (those the shipped student's last round gave), and 20,000 character-permuted plates of the real crops; crops looser, tighter, tilted and sheared as the student's${TEACHER_NOTE:-}" \
    --recipe "${TEACHER_RECIPE:-benchmarks/recipes/reference_models.sh && benchmarks/recipes/reference_teacher.sh} && $SHIP_CMD"
fi
trap - ERR
for out in "${SHIP[@]}"; do rm -rf $out.previous; done

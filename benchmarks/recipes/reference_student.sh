#!/usr/bin/env bash
# #18: a student that reads real plates beyond CCPD, from what the repo may train on: the v6
# synthetic generator (several freely licensed faces, no home province, mostly blue, loose crops),
# the training half of plates-real-dev, and pseudo-labels on plates-real-unlabelled. Model
# selection (the best epoch) is on plates-real-val, which is never trained or calibrated on;
# int8 is calibrated on the real-dev training half. Resumable: rerun to continue.
#   round 1: labels only (synthetic + real-dev half x10)
#   round k = 2..ROUNDS: round k-1 pseudo-labels the unlabelled crops (the province head needs
#            0.99); fine-tune round k-1's model with them added (x4), at half the peak learning rate
#   from round ZOOM_FROM (default 5) on, --zoom-out 0.15: crops up to 15% looser per side, so
#            that other detectors' looser boxes read like the tight training crops
# N (default 100000) synthetic plates; EPOCHS (default 12) x 800 steps in round 1, EPOCHS2 (6) in each
# later round; ROUNDS (default 6).
source "$(dirname "$0")/setup.sh"
N=${N:-100000}
EPOCHS=${EPOCHS:-12}
EPOCHS2=${EPOCHS2:-6}
SYN=$R/synth-v6-$((N / 1000))k
DEV=../shared/data/plates-real-dev
UNL=../shared/data/plates-real-unlabelled
[ -f $SYN/labels.txt ] || step $B/plates synth --out $SYN -n $N --quiet
[ -f $R/real-dev-split/val.txt ] || step $B/plates split $DEV --fraction 0.5 --seed 0 --out $R/real-dev-split
S=("${S1_A05[@]}")
SRC=(--train $SYN --train "$R/real-dev-split/train.txt*10" --val $VAL --batch-size 64 --quiet)
ROUNDS=${ROUNDS:-6}
ZOOM_FROM=${ZOOM_FROM:-5}
run_of() { echo $R/ref-student-r$1; }
R1=$(run_of 1)
done_run $R1 || step $B/student train "${SRC[@]}" --run $R1 "${S[@]}" --epochs $EPOCHS
for k in $(seq 2 $ROUNDS); do
  prev=$(run_of $((k - 1))) pseudo=$R/pseudo-r$((k - 1)).txt
  [ -f $pseudo ] || step $B/teacher pseudo-label $prev --unlabelled $UNL --out $pseudo --threshold 0.9 \
    --head-threshold char1=0.99
  zoom=()
  [ $k -lt $ZOOM_FROM ] || zoom=(--zoom-out 0.15)
  done_run $(run_of $k) || step $B/student train "${SRC[@]}" --train "$pseudo*4" --run $(run_of $k) "${S[@]}" \
    --init $prev --epochs $EPOCHS2 --lr 1.5e-3 --warmup-epochs 0.25 "${zoom[@]}"
done
LAST=$(run_of $ROUNDS)
BUNDLES=$R/ref-bundles
export_all $R1 tflite-int8
export_all $LAST tflite-fp32 tflite-int8
ROUND_RUNS=$(for k in $(seq 1 $ROUNDS); do run_of $k; done)
for data in $VAL $R/real-dev-split/val.txt; do
  case $data in $VAL) name=reference_student_plates_real_val ;; *) name=reference_student_plates_real_dev_heldout ;; esac
  step $B/benchmarks accuracy $ROUND_RUNS $BUNDLES/ref-student-r1-tflite-int8 $BUNDLES/$(basename $LAST)-tflite-fp32 \
    $BUNDLES/$(basename $LAST)-tflite-int8 --data $data --name $name --out benchmarks/results \
    --title "reference student: round 1 (labels only), then each pseudo-label round, on $(basename $data)"
done
step $B/benchmarks record $ROUND_RUNS --out benchmarks/results/reference_student_run \
  --title "reference student: width-0.5 neck-64 stride-1 Small, v6 synthetic + real-dev half, then pseudo-label rounds"

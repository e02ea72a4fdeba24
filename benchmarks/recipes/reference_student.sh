#!/usr/bin/env bash
# #18: a student that reads real plates beyond CCPD, from what the repo may train on: the v6
# synthetic generator (several freely licensed faces, no home province, mostly blue, loose crops),
# the training half of plates-real-dev, and pseudo-labels on plates-real-unlabelled. Model
# selection (the best epoch) is on plates-real-val, which is never trained or calibrated on;
# int8 is calibrated on the real-dev training half. Resumable: rerun to continue.
#   round 1: labels only (synthetic + real-dev half x10)
#   round 2: round 1's model pseudo-labels the unlabelled crops (the province head needs 0.99);
#            fine-tune round 1's model with them added (x4), at half the peak learning rate
#   round 3: the same again from round 2 (its pseudo-labels replace round 1's)
# N (default 100000) synthetic plates; EPOCHS (default 12) x 800 steps in round 1, EPOCHS2 (6) in round 2.
source "$(dirname "$0")/setup.sh"
N=${N:-100000}
EPOCHS=${EPOCHS:-12}
EPOCHS2=${EPOCHS2:-6}
SYN=$R/synth-v6-$((N / 1000))k
VAL=../shared/data/plates-real-val
DEV=../shared/data/plates-real-dev
UNL=../shared/data/plates-real-unlabelled
[ -f $SYN/labels.txt ] || step $B/plates synth --out $SYN -n $N --quiet
[ -f $R/real-dev-split/val.txt ] || step $B/plates split $DEV --fraction 0.5 --seed 0 --out $R/real-dev-split
S=("${S1_A05[@]}")
SRC=(--train $SYN --train "$R/real-dev-split/train.txt*10" --val $VAL --batch-size 64 --quiet)
R1=$R/ref-student-r1
R2=$R/ref-student-r2
R3=$R/ref-student-r3
done_run $R1 || step $B/student train "${SRC[@]}" --run $R1 "${S[@]}" --epochs $EPOCHS
[ -f $R/pseudo-r1.txt ] || step $B/teacher pseudo-label $R1 --unlabelled $UNL --out $R/pseudo-r1.txt --threshold 0.9 --head-threshold char1=0.99
done_run $R2 || step $B/student train "${SRC[@]}" --train "$R/pseudo-r1.txt*4" --run $R2 "${S[@]}" \
  --init $R1 --epochs $EPOCHS2 --lr 1.5e-3 --warmup-epochs 0.25
[ -f $R/pseudo-r2.txt ] || step $B/teacher pseudo-label $R2 --unlabelled $UNL --out $R/pseudo-r2.txt --threshold 0.9 --head-threshold char1=0.99
done_run $R3 || step $B/student train "${SRC[@]}" --train "$R/pseudo-r2.txt*4" --run $R3 "${S[@]}" \
  --init $R2 --epochs $EPOCHS2 --lr 1.5e-3 --warmup-epochs 0.25
BUNDLES=$R/ref-bundles
export_all $R1 tflite-int8
export_all $R2 tflite-int8
export_all $R3 tflite-fp32 tflite-int8
for data in $VAL $R/real-dev-split/val.txt; do
  name=reference_student_$(basename ${data%.txt} | tr - _)
  step $B/benchmarks accuracy $R1 $BUNDLES/ref-student-r1-tflite-int8 $R2 $BUNDLES/ref-student-r2-tflite-int8 \
    $R3 $BUNDLES/ref-student-r3-tflite-fp32 $BUNDLES/ref-student-r3-tflite-int8 --data $data --name $name \
    --out benchmarks/results \
    --title "reference student, round 1 (labels only) vs rounds 2 and 3 (+ pseudo-labels), on $(basename $data)"
done
step $B/benchmarks record $R1 $R2 $R3 --out benchmarks/results/reference_student_run \
  --title "reference student: width-0.5 neck-64 stride-1 Small, v6 synthetic + real-dev half, then + pseudo-labels"

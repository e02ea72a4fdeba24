#!/usr/bin/env bash
# How much the int8 calibration alone moves a student soup's accuracy (docs/experiments/032, 033): each of
# MODELS (default: the soups of rounds 5, 7 and 9's candidates, the best distilled student and the soup of every
# distilled student, docs/experiments/034) exported to int8 TFLite with three draws of 300 calibration
# crops from the real-dev training half (seeds 0-2), with 600 from that half and the round-6 teacher b's
# pseudo-labelled crops of plates-real-unlabelled, and with 2000 of those 2635 crops (seeds 0 and 1; does a larger
# draw steady the ranges? docs/experiments/034); then every bundle's accuracy on the held-out dev half and
# on plates-real-val in one report per set (benchmarks/results/int8_calibration_spread_{dev,val}). 037 measured
# the student it shipped against the one before: MODELS="runs/student-soup-r5-shipped
# runs/shipped-kd-ink0.55-lr3e-4-s2" PSEUDO=runs/pseudo-teacher-colour-mask-char1-苏.txt (the previous
# student's files from git: git show 3c14891:models/student/keras/model.keras, and labels.json).
# Calibration never uses plates-real-val.
source "$(dirname "$0")/setup.sh"
MODELS=${MODELS:-"$R/student-soup-r5 $R/student-soup-r7 $R/student-soup-kd2 $R/student-soup-r9-greedy
  $R/student-attention-r9-kd-from-r3s1 $R/student-soup-kd"}
OUT=$R/int8-calibration
DEV_HELD=$R/real-dev-split/val.txt DEV_TRAIN=$R/real-dev-split/train.txt
PSEUDO=${PSEUDO:-$R9_PSEUDO}
int8=(--int8 --data $DEV_TRAIN --parity-data $DEV_HELD --min-agreement 0)  # every report keeps every bundle
bundles=()
for m in $MODELS; do
  for seed in 0 1 2; do
    out=$OUT/$(basename $m)-dev-seed$seed
    [ -f $out/export_report.json ] || step $B/deploy tflite $m --out $out "${int8[@]}" --calib-seed $seed
    bundles+=($out)
  done
  out=$OUT/$(basename $m)-dev-pseudo
  [ -f $out/export_report.json ] || step $B/deploy tflite $m --out $out "${int8[@]}" --data "$PSEUDO" --calib-size 600
  bundles+=($out)
  for seed in 0 1; do
    out=$OUT/$(basename $m)-pseudo2k-seed$seed
    [ -f $out/export_report.json ] || step $B/deploy tflite $m --out $out "${int8[@]}" --data "$PSEUDO" --calib-size 2000 \
      --calib-seed $seed
    bundles+=($out)
  done
done
step $B/benchmarks accuracy "${bundles[@]}" --data $DEV_HELD --name int8_calibration_spread_dev --out benchmarks/results \
  --title "int8 TFLite of students by calibration draw, on the held-out half of plates-real-dev"
step $B/benchmarks accuracy "${bundles[@]}" --data ../shared/data/plates-real-val --name int8_calibration_spread_val \
  --out benchmarks/results --title "int8 TFLite of students by calibration draw, on plates-real-val (selection set)"

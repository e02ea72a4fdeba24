#!/usr/bin/env bash
# Cheaper stride-1 students (student_capacity.md: the stride-1 Small is accurate but 4.7x faster
# than the fp32 teacher, goal 10x): narrower (--alpha) and with a thinner neck (--neck 64, half the
# head weights). Weights after one training step: latency and size only, no accuracy.
# Recorded in benchmarks/results/student_s1_latency.md. Needs runs/ from student_capacity.sh and
# int8_whitening.sh. The latency run must have the machine to itself.
source "$(dirname "$0")/setup.sh"
for v in "s1-a1:--alpha 1" "s1-a075:--alpha 0.75" "s1-a05:--alpha 0.5" "s1-a05-n64:--alpha 0.5 --neck 64" "s1-a075-n64:--alpha 0.75 --neck 64" "s1-a1-n64:--alpha 1 --neck 64"; do
  name=${v%%:*}; flags=${v#*:}
  [ -f $R/arch-s1/$name/model.keras ] || step $B/student train --train $R/synth100k --run $R/arch-s1/$name --arch small --minimalistic \
    --stem-stride 1 $flags --input-size 32x96 --normalisation whiten --epochs 1 --steps-per-epoch 1 --quiet
  [ -f $R/arch-s1/bundles/$name-tflite-int8/model.tflite ] || step $B/deploy tflite $R/arch-s1/$name --out $R/arch-s1/bundles/$name-tflite-int8 --int8 \
    --data $R/real-dev-split/train.txt --parity-data $R/real-dev-split/val.txt --min-agreement 0
done
step $B/benchmarks latency $R/arch-s1/bundles $R/cap-bundles/cap-small-stem1-tflite-int8 \
  $R/v4-whiten-fix/v4-student-small-ema-tflite-int8-realcal-fixed $R/arch/bundles/teacher-arch-tflite-fp32 \
  --threads 1 --runs 200 --min-seconds 10 \
  --title "stride-1 minimalistic Small: width and neck vs latency (int8 LiteRT, batch 1), with the fp32 teacher" \
  --name student_s1_latency --out benchmarks/results

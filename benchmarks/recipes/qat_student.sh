#!/usr/bin/env bash
# Lever (docs/experiments/032, 034): quantisation-aware fine-tuning of a student soup, so that its int8 TFLite
# stops depending on which training crops calibrate it (post-training draws move a soup by up to a point).
# MODEL (default: the soup of every distilled student of reference_round9.sh) fine-tuned by compress qat on round
# 9's training mix (synthetic plates with the plate's round letters and seven Hanzi faces, the real-dev training half
# x10, the round-6 teacher b's pseudo-labels with 苏 masked x4 and their permuted plates) and tilt, EPOCHS (2) x 800
# steps at LR (1e-4); its ranges start from 256 training crops. Then its int8 bundle's accuracy on the held-out dev
# half and on plates-real-val (runs only: compare with int8_calibration_spread.sh's reports).
# Selection on plates-real-val, never trained or calibrated on.
source "$(dirname "$0")/setup.sh"
MODEL=${MODEL:-$R/student-soup-kd}
RUN=${RUN:-$R/qat-$(basename $MODEL)}
done_run $RUN || step $B/compress qat $MODEL --train $R/synth-rounded0.5-100k-faces-all --train "$R/real-dev-split/train.txt*10" \
  --train "$R9_PSEUDO*4" --train $R9_PERM --val $VAL --run $RUN --epochs ${EPOCHS:-2} --steps-per-epoch 800 --lr ${LR:-1e-4} \
  --warmup-epochs 0.1 --batch-size 64 --label-smoothing 0 --zoom-out 0.15 --zoom-in 0.04 --rotate 12 --shear 12 \
  --perspective 0.2 --quiet
for set in dev:$R/real-dev-split/val.txt val:$VAL; do
  name=qat-${set%%:*}
  [ -f $RUN/$name.json ] || step $B/benchmarks accuracy $RUN/int8 --data ${set#*:} --name $name --out $RUN
done

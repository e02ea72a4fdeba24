#!/usr/bin/env bash
# Lever (docs/experiments/035): do synthetic Hanzi that keep open strokes read more provinces?
# The generator draws one stroke weight per plate and thickens every Hanzi by it, so dense provinces
# (冀, 晋, 藏, 赣) close up into solid blocks on heavy plates; the real plate typeface draws them thin.
# Control: round 9's first distilled student (reference_round9.sh: r3-noprov at seed 0 distilled from the
# round-8 teacher, 5 x 800 steps) -> $R/student-attention-r9-kd. Lever: the same run on synthetic plates
# drawn with plates synth --hanzi-ink-cap INK_CAP (0.55) -> $R/student-attention-r9-kd-ink<cap>.
# Selection and the per-province report on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
cap=${INK_CAP:-0.55}
env "${GEOMETRY[@]}" "${KD_R9[@]}" HANZI_INK_CAP=$cap START=$R3 SEED=0 RUN=$R/student-attention-r9-kd-ink$cap \
  benchmarks/recipes/reference_round3.sh
ink=($R/student-attention-r9-kd-ink*)  # every cap run so far, one record
step $B/benchmarks record $R/student-attention-r9-kd ${ink[@]/*-teacher-ensemble/} --out benchmarks/results/hanzi_ink_run \
  --title "Hanzi ink cap: round 9's first distilled student on plates whose Hanzi ink at most the cap in the run name of their box, against the control (selection on plates-real-val)"

#!/usr/bin/env bash
# Lever (docs/experiments/036): the Hanzi ink cap of 035 again, from another start and seeds, so one
# run's gain on 冀 can be told from luck, and a rule that keeps counters instead of capping ink. It starts
# from the shipped models only, so it needs no earlier runs.
# Each arm fine-tunes the shipped student (models/student/keras) EPOCHS (3) x 800 steps, distilled from
# the shipped teacher (T=2, half label / half KD, as round 9), on the shipped teacher's pseudo-labels of
# plates-real-unlabelled (苏 masked, colour checked) and the plates permuted from them, the real-dev
# training half and SYNTH_N (50000) synthetic plates of seed 0, tilted as round 9:
#   control -> $R/shipped-kd-s<SEED>: the synthetic Hanzi as the generator draws them
#   lever   -> $R/shipped-kd-ink<INK_CAP>-s<SEED>: the same plates with plates synth --hanzi-ink-cap INK_CAP (0.55)
#   lever   -> $R/shipped-kd-counters-s<SEED>: the same plates with plates synth --hanzi-keep-counters (Hanzi
#              thickened only as far as they keep their enclosed gaps: 冀 stays open, a bold 京 stays bold)
# SEED (0): the fine-tunes' seed (the record holds every seed run so far). Selection and the per-province
# report on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
cap=${INK_CAP:-0.55} seed=${SEED:-0}
shipped_arm models/student/keras models/teacher/keras $seed ${EPOCHS:-3} ${SYNTH_N:-50000}
env "${arm[@]}" RUN=$R/shipped-kd-s$seed benchmarks/recipes/student_plate_glyphs.sh
env "${arm[@]}" HANZI_INK_CAP=$cap RUN=$R/shipped-kd-ink$cap-s$seed benchmarks/recipes/student_plate_glyphs.sh
env "${arm[@]}" HANZI_KEEP_COUNTERS=1 RUN=$R/shipped-kd-counters-s$seed benchmarks/recipes/student_plate_glyphs.sh
step $B/benchmarks record $R/shipped-kd-s* $R/shipped-kd-ink*-s* $R/shipped-kd-counters-s* --out benchmarks/results/hanzi_ink_shipped_run \
  --title "Hanzi ink cap from the shipped models: the shipped student distilled from the shipped teacher on plates whose Hanzi ink at most the cap in the run name of their box or keep their counters, against the same fine-tune without the cap (selection on plates-real-val)"

#!/usr/bin/env bash
# Lever (docs/experiments/037): a province head that is unsure of a province glyph the crop cuts. The five
# most confident misreadings of plates-real-val (036) are all crops whose left edge cuts the province Hanzi,
# read as another province at 0.93-0.99; with 814 plates the most confident error sets the 99.9%-precision
# threshold, so they hold recall near 55%. plates cut-province cuts real crops (the real-dev training half
# and the shipped teacher's pseudo-labelled crops) a random depth into the province cell and labels the
# province -2: a uniform target, and no distillation of the teacher's guess for it. (037: it makes the head unsure
# where most of the glyph is gone, but those five crops show legible glyphs, and recall did not rise.)
# Both arms are 036's low-lr lead: the shipped student distilled from the shipped teacher (T=2) 3 x 800
# steps at lr 3e-4 on the shipped teacher's pseudo-labels (苏 masked), 20k permuted plates, the real-dev
# training half and 50k synthetic plates with the Hanzi ink cap 0.55, tilted as round 9:
#   control -> $R/shipped-kd-ink0.55-lr3e-4-s<SEED>
#   lever   -> $R/shipped-kd-ink0.55-lr3e-4-cut<N/1000>k-d<LO>-<HI>[-u<U>][-perm]-s<SEED>: the same and CUT_N
#              (4000) crops of the real-dev training half and the pseudo-labelled crops (and the permuted plates
#              with CUT_PERM=1) cut CUT_DEPTH (LO,HI: 0.2,0.9) of the way into the province cell, the province
#              unsure where the cut goes deeper than CUT_UNSURE_FROM (U: 0, always)
# BASE (models/student/keras): the student both arms start from; SHIPPED_TEACHER (models/teacher/keras): the
# teacher that labels plates-real-unlabelled and is distilled. From scratch, after reference_round8.sh:
# BASE=runs/student-soup-r5 SHIPPED_TEACHER=runs/round8-teacher (what the shipped student's card gives).
# SEED (2): both arms' seed. Selection and the report on plates-real-val, never trained on; the record holds
# every arm run so far.
source "$(dirname "$0")/setup.sh"
seed=${SEED:-2} teacher=${SHIPPED_TEACHER:-models/teacher/keras}
shipped_arm ${BASE:-models/student/keras} $teacher $seed 3 50000
arm+=(HANZI_INK_CAP=0.55 LR=3e-4)
env "${arm[@]}" RUN=$R/shipped-kd-ink0.55-lr3e-4-s$seed benchmarks/recipes/student_plate_glyphs.sh
n=${CUT_N:-4000} depth=${CUT_DEPTH:-0.2,0.9} from=${CUT_UNSURE_FROM:-0}
lever=$R/shipped-kd-ink0.55-lr3e-4-cut$((n / 1000))k-d${depth/,/-}
[ "$from" = 0 ] || lever=$lever-u$from
[ "${CUT_PERM:-0}" = 0 ] || lever=$lever-perm
env "${arm[@]}" CUT_PROVINCE=$n CUT_DEPTH=$depth CUT_UNSURE_FROM=$from CUT_PERM=${CUT_PERM:-0} RUN=$lever-s$seed \
  benchmarks/recipes/student_plate_glyphs.sh
step $B/benchmarks record $R/shipped-kd-ink0.55-lr3e-4-s[0-9]* $R/shipped-kd-ink0.55-lr3e-4-cut*-s[0-9]* \
  --out benchmarks/results/unsure_province_run \
  --title "Unsure of a cut province: the low-lr fine-tune of the shipped student with and without crops cut into the province cell whose province is a uniform target (selection on plates-real-val)"

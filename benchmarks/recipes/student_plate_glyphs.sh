#!/usr/bin/env bash
# Lever (docs/experiments/020): does drawing the plate typeface's straight-sided 0, C, D, G, Q on
# a share of the synthetic plates (plates synth --rounded-share) read more of plates-real-val?
# The shipped student reads the C of 沪C / 浙C plates as G, Q as 0, 0 as D: the free fonts draw
# those letters round, the plate draws them with straight sides and level ends.
#   1. FORGET: BASE (default: the shipped student) fine-tuned 3 x 800 steps on the v6 synthetic
#      plates and the real-dev training half only. It labels plates-real-unlabelled (step 2), so the
#      labels do not come from a model that has just fitted the previous labels of the same crops
#      (020: this changes few labels; the C -> G misreadings are not memorised ones); FORGET=none:
#      BASE labels them itself (a later round)
#      LABELLER (BASE): with FORGET=none, the model folder that labels them (e.g. a compress ensemble;
#      docs/experiments/027)
#   2. its pseudo-labels (thresholds as before), permuted with the real-dev training half into
#      PERMUTED (20000) plates
#   3. BASE fine-tuned as in student_permuted.sh with those labels and plates, on synthetic plates
#      with ROUNDED (default 0.5) of them drawn in the plate's round letters; ROUNDED=0 is the
#      control (the v6 plates); DEV_X (10): repeats of the real-dev training half (96% 皖)
# PROVINCE_T (0.99): the province head's pseudo-label threshold (the other heads take 0.9)
# ZOOM_IN (0.04), ZOOM_OUT (0.15): how much tighter / looser per side the training crops may be
# (docs/experiments/025); ROTATE (5), SHEAR (5): the tilt and vertical shear in degrees; PERSPECTIVE (0):
# how much shorter one end of the plate may be (student train --perspective; docs/experiments/028)
# CUT_ENDS (0): up to this share of the width cut from each end on its own (student train --cut-ends;
# docs/experiments/032)
# POOLING (flatten): how step 3's heads read the feature map (student train --pooling); another
# pooling starts from the layers of BASE that fit and trains the rest afresh (--init-partial;
# docs/experiments/026)
# TEACHER (unset): step 3 distils this model folder (compress distill at half label, half KD weight;
# e.g. a compress ensemble, docs/experiments/027) into the student; KD_T (unset: compress distill's
# default): its temperature
# STEM_STRIDE (unset: the v4 student's 1): step 3's student train --stem-stride, e.g. 2x1 (docs/experiments/034)
# EPOCHS (6): step 3's epochs of 800 steps; LR (1.5e-3): its peak learning rate
# SEED (0): step 3's seed (new heads' weights, data order, augmentation)
# FACES (e.g. all): the Hanzi faces of the synthetic plates (plates synth --hanzi-faces;
# docs/experiments/022); unset: the generator's default set
# HANZI_INK_CAP (unset: off): plates synth --hanzi-ink-cap, dense Hanzi thinned to keep open strokes
# (docs/experiments/035); adds -ink<cap> to the synthetic set's name
# HANZI_KEEP_COUNTERS (unset: off; 1: on): plates synth --hanzi-keep-counters, Hanzi thickened only as far as
# they keep their enclosed gaps (docs/experiments/036); adds -counters to the synthetic set's name
# SYNTH_N (100000): how many synthetic plates step 3 draws (the set's name says how many thousand)
# CUT_PROVINCE (unset: off): step 3 also trains on this many crops of the real-dev training half and the
# pseudo-labelled crops (and the permuted plates with CUT_PERM=1) cut CUT_DEPTH (0.2,0.9) of the way into
# the province cell, the province unsure where the cut is deeper than CUT_UNSURE_FROM (0: always)
# (plates cut-province; docs/experiments/037)
# Selection on plates-real-val, never trained on.
source "$(dirname "$0")/setup.sh"
BASE=${BASE:-models/student/keras}
FORGET=${FORGET:-$R/student-forget}
ROUNDED=${ROUNDED:-0.5}
RUN=${RUN:-$R/student-rounded}
N=${SYNTH_N:-100000}
V6=$R/synth-v6-100k SYN=$R/synth-rounded$ROUNDED-$((N / 1000))k
AUG=(--zoom-out "${ZOOM_OUT:-0.15}" --zoom-in "${ZOOM_IN:-0.04}" --rotate "${ROTATE:-5}" --shear "${SHEAR:-5}"
  --perspective "${PERSPECTIVE:-0}" --cut-ends "${CUT_ENDS:-0}")
S=("${S1_A05[@]}" ${STEM_STRIDE:+--stem-stride $STEM_STRIDE} --input-size 32x128 --val ../shared/data/plates-real-val --batch-size 64 --quiet)
init=(--init $BASE)
[ "${POOLING:-flatten}" = flatten ] || init=(--init $BASE --init-partial --pooling $POOLING)
[ "$FORGET" = none ] || [ -f $V6/labels.txt ] || step $B/plates synth --out $V6 -n 100000 --quiet
[ -f $R/real-dev-split/val.txt ] || step $B/plates split ../shared/data/plates-real-dev --fraction 0.5 --seed 0 --out $R/real-dev-split
LABELLER=${LABELLER:-$BASE}
if [ "$FORGET" != none ]; then
  done_run $FORGET || step $B/student train --train $V6 --train "$R/real-dev-split/train.txt*10" --run $FORGET "${S[@]}" \
    --epochs 3 --lr 1e-3 --warmup-epochs 0.25 "${AUG[@]}" --init $BASE
  LABELLER=$FORGET
fi
pseudo_sources $LABELLER ${PROVINCE_T:-}
extra=()
if [ -n "${CUT_PROVINCE:-}" ]; then
  depth=${CUT_DEPTH:-0.2,0.9} from=${CUT_UNSURE_FROM:-0} sources=($R/real-dev-split/train.txt $pseudo)
  cut=$R/cut-province-$(basename $pseudo .txt)-$((CUT_PROVINCE / 1000))k-depth${depth/,/-}
  [ "$from" = 0 ] || cut=$cut-unsure$from
  [ "${CUT_PERM:-0}" = 0 ] || { cut=$cut-perm sources+=($perm); }
  [ -f $cut/labels.txt ] || step $B/plates cut-province "${sources[@]}" --out $cut -n $CUT_PROVINCE \
    --depth $depth --unsure-from $from
  extra=(--train $cut)
fi
faces=()
[ -z "${FACES:-}" ] || { faces=(--hanzi-faces "$FACES"); V6=$V6-faces-${FACES//,/-} SYN=$SYN-faces-${FACES//,/-}; }
[ -z "${HANZI_INK_CAP:-}" ] || { faces+=(--hanzi-ink-cap "$HANZI_INK_CAP"); SYN=$SYN-ink$HANZI_INK_CAP; }
[ -z "${HANZI_KEEP_COUNTERS:-}" ] || { faces+=(--hanzi-keep-counters); SYN=$SYN-counters; }
if [ "$ROUNDED" = 0 ]; then SYN=$V6; fi
[ -f $SYN/labels.txt ] || step $B/plates synth --out $SYN -n $N --rounded-share $ROUNDED "${faces[@]}" --quiet
trainer=($B/student train)
[ -z "${TEACHER:-}" ] || trainer=($B/compress distill --teacher $TEACHER ${KD_T:+--temperature $KD_T})
done_run $RUN || step "${trainer[@]}" --train $SYN --train "$R/real-dev-split/train.txt*${DEV_X:-10}" --train "$pseudo*4" \
  --train $perm "${extra[@]}" --run $RUN "${S[@]}" --epochs ${EPOCHS:-6} --lr ${LR:-1.5e-3} --warmup-epochs 0.25 "${AUG[@]}" "${init[@]}" --seed ${SEED:-0}

#!/usr/bin/env bash
# The shipped models measured again on this host, their files unchanged: the two benchmark runs their cards
# are written from (the held-out plates-real-dev half with latency at 1 thread; plates-real-val), then both
# cards written again from them (benchmarks card keeps each card's text: title, training, recipe), then the
# one benchmark run of everything shipped (shipped_benchmark.sh). For a new host or runtime; shipping a
# new model is ship_models.sh. Run it with the machine to itself: the latencies land in the cards and README.
source "$(dirname "$0")/setup.sh"
DEV_HELD=$R/real-dev-split/val.txt
[ -f $DEV_HELD ] || step $B/plates split ../shared/data/plates-real-dev --fraction 0.5 --seed 0 --out $R/real-dev-split
step $B/benchmarks run models/student models/teacher --data $DEV_HELD --threads 1 --name reference_models_dev --out benchmarks/results \
  --title "shipped models on the held-out half of plates-real-dev (accuracy, size, latency at 1 thread)"
step $B/benchmarks accuracy models/student models/teacher --data $VAL --name reference_models_val --out benchmarks/results \
  --title "shipped models on plates-real-val (other cameras, 17 provinces; the selection set)"
for m in models/student models/teacher; do
  step $B/benchmarks card $m --samples models/samples --results plates-real-dev-heldout=benchmarks/results/reference_models_dev.json \
    --results plates-real-val=benchmarks/results/reference_models_val.json
done
step $B/benchmarks card models/student --check
step $B/benchmarks card models/teacher --check
benchmarks/recipes/shipped_benchmark.sh

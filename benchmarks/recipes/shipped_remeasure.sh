#!/usr/bin/env bash
# The shipped models measured again on this host, their files unchanged: the two benchmark runs their cards
# are written from (the held-out plates-real-dev half with latency at 1 thread; plates-real-val), then both
# cards written again from them (benchmarks card keeps each card's text: title, training, recipe), then the
# one benchmark run of everything shipped (shipped_benchmark.sh). For a new host or runtime; shipping a
# new model is ship_models.sh. Run it with the machine to itself: the latencies land in the cards and README.
source "$(dirname "$0")/setup.sh"
DEV_HELD=$R/real-dev-split/val.txt
[ -f $DEV_HELD ] || step $B/plates split ../shared/data/plates-real-dev --fraction 0.5 --seed 0 --out $R/real-dev-split
card_runs models/student models/teacher
for m in models/student models/teacher; do
  step $B/benchmarks card $m --samples models/samples "${CARD_RESULTS[@]}"
  step $B/benchmarks card $m --check
done
benchmarks/recipes/shipped_benchmark.sh

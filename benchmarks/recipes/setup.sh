# Shared start of every recipe (sourced, not run): strict mode, the repository root as the working
# folder, the toolkit's commands (B), the run folder (R), a logged step, and the real-scale training
# sources: 100k synthetic plates plus the real training half x20, validated on the held-out half;
# done_run RUN: that training run finished (its model and final evaluation exist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
B=.venv/bin
R=runs
step() { echo "+ $(date +%T) $*"; "$@"; }
TRAIN=(--train $R/synth100k --train "$R/real-dev-split/train.txt*20" --val $R/real-dev-split/val.txt --batch-size 64 --quiet)
done_run() { [ -f "$1/model.keras" ] && [ -f "$1/eval.json" ]; }

#!/usr/bin/env bash
# Run a recipe (or any command) on a frozen copy of the toolkit's code, so that editing the working tree
# while a long run goes on cannot break it: TensorFlow's autograph reads a function's source from disk
# when it traces it, so a run that traces after an edit (a new epoch's validation, the next stage of a
# recipe) crashes with errors from code it never imported. The copy is runs/.frozen/<time>-<id>: the six
# packages and a venv without pip that reads them first and the repository venv's site-packages for the
# rest; the command runs in the repository root as usual (runs/, models/ and ../shared are the real ones),
# with PLATE_EDGE_BIN pointing at the copy's commands (setup.sh's B). Remove runs/.frozen once no run uses it.
#   benchmarks/recipes/frozen.sh benchmarks/recipes/reference_round5.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]  (e.g. $0 benchmarks/recipes/reference_round5.sh)" >&2; exit 2; }
mkdir -p runs/.frozen
frozen=$(mktemp -d "$PWD/runs/.frozen/$(date +%Y%m%d-%H%M%S)-XXXX")
packages=(plates teacher student compress deploy benchmarks)  # each also a console script of the same name
cp -r "${packages[@]}" "$frozen/"
.venv/bin/python -m venv --without-pip "$frozen/.venv"
# the copy first, then every path the repository venv's python sees but the working tree (.pth lines only add
# paths, so the editable install's finder is not loaded)
{ echo "$frozen"; .venv/bin/python -I -c 'import sys; print("\n".join(p for p in sys.path if p and p != sys.argv[1]))' "$PWD"; } \
  > "$("$frozen/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/frozen.pth"
for cmd in "${packages[@]}"; do
  sed "1s|.*|#!$frozen/.venv/bin/python|" ".venv/bin/$cmd" > "$frozen/.venv/bin/$cmd"
  chmod +x "$frozen/.venv/bin/$cmd"
done
echo "frozen code: $frozen" >&2
PLATE_EDGE_BIN=$frozen/.venv/bin exec "$@"

"""benchmarks/recipes/frozen.sh: a long recipe runs on a copy of the code, so editing the working
tree meanwhile cannot break it (autograph reads source from disk when it traces)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


@pytest.mark.skipif(not VENV_PYTHON.exists(), reason="needs the repository venv (.venv), which the recipes use")
def test_frozen_runs_the_command_on_a_copy_of_the_packages():
    probe = 'set -e; "$PLATE_EDGE_BIN/python" -I -c "import plates, tensorflow; print(plates.__file__)"; pwd'
    done = subprocess.run(
        [str(ROOT / "benchmarks/recipes/frozen.sh"), "bash", "-c", probe],
        capture_output=True,
        text=True,
        timeout=300,
    )
    frozen = next((line.split(": ", 1)[1] for line in done.stderr.splitlines() if "frozen code: " in line), None)
    try:
        assert done.returncode == 0, done.stderr[-2000:]
        assert frozen is not None
        imported, cwd = done.stdout.split()[-2:]
        assert Path(imported) == Path(frozen) / "plates" / "__init__.py"  # the copy, not the working tree
        assert Path(cwd) == ROOT  # the recipe still runs in the repository root
        assert (Path(frozen) / "compress" / "ensemble.py").read_bytes() == (ROOT / "compress/ensemble.py").read_bytes()
    finally:
        if frozen and Path(frozen).parent == ROOT / "runs" / ".frozen":
            shutil.rmtree(frozen)

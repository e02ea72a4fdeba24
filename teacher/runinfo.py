"""What a run folder records about where and how it ran (machine, versions, command)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "tensorflow",
    "tensorflow-cpu",
    "tf-keras",
    "tensorflow-model-optimization",
    "numpy",
    "ai-edge-litert",
    "onnx",
    "onnxruntime",
    "tf2onnx",
    "pillow",
)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parent.parent
        return (
            subprocess.run(
                ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict[str, Any]:
    return {
        "host": platform.node(),
        "system": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
    }


def command() -> str:
    """The toolkit command being run (also inside ``benchmarks pipeline``), else argv."""
    import shlex

    from plates.cli_support import COMMAND

    return shlex.join(COMMAND) if COMMAND else shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])


def manifest(**extra: Any) -> dict[str, Any]:
    return {
        "command": command(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "git": git_commit(),
        "machine": machine(),
        "versions": versions(),
        **extra,
    }

"""What a run folder records about where and how it ran (machine, versions, command)."""

from __future__ import annotations

import hashlib
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


# Widest first: the vector extensions decide which oneDNN and XNNPACK kernels run (and whether
# TensorFlow turns oneDNN on by itself), so two hosts with the same model name can differ a lot.
VECTOR_LEVELS = (
    (("amx_tile",), "AMX"),
    (("avx512_vnni", "avx512vnni"), "AVX-512 VNNI"),
    (("avx512f",), "AVX-512"),
    (("avx2",), "AVX2"),
    (("sve",), "SVE"),
    (("asimd",), "NEON"),
)


def vector_level(flags: set[str]) -> str | None:
    """The widest SIMD level in a /proc/cpuinfo ``flags`` (x86) or ``Features`` (Arm) set."""
    for names, label in VECTOR_LEVELS:
        if flags.intersection(names):
            return label
    return None


def cpu_model() -> str:
    """CPU model name with its SIMD level, e.g. ``AMD EPYC (AVX2)``."""
    name: str | None = None
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and name is None:
                name = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
    except OSError:
        pass
    name = name or platform.processor() or platform.machine()
    level = vector_level(flags)
    return f"{name} ({level})" if level else name


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


def sha256(path: Path) -> str:
    """The file's sha256, read in blocks (model files may be large)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

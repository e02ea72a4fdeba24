"""Android targets: the ``adb`` / ``benchmark_model`` commands, and a parser for its output.

LiteRT's ``benchmark_model`` binary (from the LiteRT/TensorFlow releases) runs on the phone;
we generate the commands and turn what it prints into the same JSON as the host runs."""

from __future__ import annotations

import re
import shlex
from typing import Any

REMOTE_DIR = "/data/local/tmp/plates"


def commands(
    model: str,
    threads: int = 4,
    runs: int = 200,
    warmup: int = 20,
    gpu: bool = False,
    xnnpack: bool = True,
    binary: str = "benchmark_model",
) -> list[str]:
    """Shell commands to push the model and benchmark it on a connected device.

    ``model`` may be a bundle folder (its ``model.tflite``); every bundle's file has that name,
    so on the phone it is stored under a name of its own (``remote_name``), and several bundles
    do not overwrite each other."""
    model, name = remote_name(model)
    flags = [
        f"--graph={REMOTE_DIR}/{name}",
        f"--num_threads={threads}",
        f"--num_runs={runs}",
        f"--warmup_runs={warmup}",
        f"--use_xnnpack={'true' if xnnpack and not gpu else 'false'}",
        "--report_peak_memory_footprint=true",
    ]
    if gpu:
        flags.append("--use_gpu=true")
    return [
        f"adb shell mkdir -p {REMOTE_DIR}",
        f"adb push {shlex.quote(model)} {REMOTE_DIR}/{name}",
        f"adb push {binary} {REMOTE_DIR}/benchmark_model && adb shell chmod +x {REMOTE_DIR}/benchmark_model",
        f"adb shell {REMOTE_DIR}/benchmark_model " + " ".join(flags),
    ]


def remote_name(model: str) -> tuple[str, str]:
    """(local .tflite path, its file name on the phone): the bundle folder's name (the file's own
    for other names) and a digest of its absolute path. The folder name alone is not enough: two
    bundles of one name under different parents (``runs/a/int8``, ``runs/b/int8``) would be
    pushed to one file, and the second benchmark would time the wrong model."""
    import hashlib
    from pathlib import Path

    p = Path(model)
    if p.is_dir():
        p = p / "model.tflite"
    full = p.resolve()
    stem = full.parent.name if full.name == "model.tflite" and full.parent.name else full.stem
    return str(p), f"{stem}-{hashlib.sha1(str(full).encode()).hexdigest()[:8]}.tflite"


def to_result(parsed: dict[str, Any], model: str, threads: int, gpu: bool = False) -> dict[str, Any]:
    """A parsed ``benchmark_model`` output as a result file that ``benchmarks report`` merges
    with host and Raspberry Pi results (one artefact, one latency setting)."""
    import time
    from pathlib import Path

    local, name = remote_name(model)
    latency = {
        "runtime": f"benchmark_model on Android ({'GPU' if gpu else 'XNNPACK'})",
        "threads": threads,
        "batch": 1,
        "p50_ms": parsed.get("p50_ms", parsed["mean_ms"]),
        "p90_ms": None,  # benchmark_model prints p5 / median / p95 only
        "p95_ms": parsed.get("p95_ms"),
        "p99_ms": None,
        "mean_ms": parsed["mean_ms"],
        "std_ms": parsed.get("std_ms"),
        "throughput_ips": 1000.0 / parsed["mean_ms"],
        "runs": parsed.get("runs"),
        "peak_rss_mb": parsed.get("peak_memory_mb"),
    }
    size = Path(local).stat().st_size if Path(local).exists() else 0
    return {
        "title": f"Android: {name}",
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpu": "Android device (benchmark_model)"},
        "settings": {"threads": [threads], "batches": [1], "runs": parsed.get("runs")},
        "artefacts": [
            {"name": name, "path": local, "kind": "tflite", "precision": "?", "size_bytes": size, "latency": [latency]}
        ],
        "android": parsed,
    }


_TIMINGS = re.compile(
    r"Inference timings in us: Init: ([\d.]+), First inference: ([\d.]+), "
    r"Warmup \(avg\): ([\d.e+]+), Inference \(avg\): ([\d.e+]+)"
)
_RUN_STATS = re.compile(r"count=(\d+) first=(\d+) curr=(\d+) min=(\d+) max=(\d+) avg=([\d.e+]+) std=(\d+)")
_MEMORY = re.compile(r"Memory footprint delta from the start of the tool \(MB\): init=([\d.]+) overall=([\d.]+)")
_PEAK = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring: ([\d.]+)")
_PERCENTILE = re.compile(r"p(\d+)=([\d.]+)")


def parse(output: str) -> dict[str, Any]:
    """The numbers ``benchmark_model`` prints, in milliseconds and MB."""
    out: dict[str, Any] = {}
    m = _TIMINGS.search(output)
    if not m:
        raise ValueError("no 'Inference timings in us' line: the benchmark did not finish (see its output)")
    init, first, warm, avg = (float(v) for v in m.groups())
    out.update(init_ms=init / 1000, first_ms=first / 1000, warmup_mean_ms=warm / 1000, mean_ms=avg / 1000)
    runs = [r for r in _RUN_STATS.finditer(output)]
    if runs:  # the last "count=..." line is the timed inference runs
        c, first_, curr, mn, mx, av, sd = runs[-1].groups()
        out.update(runs=int(c), min_ms=int(mn) / 1000, max_ms=int(mx) / 1000, std_ms=int(sd) / 1000)
        tail = output[runs[-1].end() : runs[-1].end() + 200].split("\n", 1)[0]
        for p, v in _PERCENTILE.findall(tail):
            out[f"p{p}_ms"] = float(v) / 1000
        median = re.search(r"median=([\d.]+)", tail)
        if median:
            out["p50_ms"] = float(median.group(1)) / 1000
    m = _MEMORY.search(output)
    if m:
        out.update(memory_init_mb=float(m.group(1)), memory_overall_mb=float(m.group(2)))
    m = _PEAK.search(output)
    if m:
        out["peak_memory_mb"] = float(m.group(1))
    return out

"""Latency statistics: warm-up, then timed runs until both a count and a duration are reached.

The clock is injectable so the statistics can be tested on a fake clock (no timing
assertions in tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def measure(
    fn: Callable[[], Any],
    warmup: int = 20,
    runs: int = 200,
    min_seconds: float = 10.0,
    max_runs: int = 100_000,
    clock: Callable[[], float] = time.perf_counter,
    batch: int = 1,
) -> dict[str, Any]:
    """Call ``fn`` ``warmup`` times untimed, then at least ``runs`` times and ``min_seconds``."""
    for _ in range(warmup):
        fn()
    samples = []
    start = clock()
    while len(samples) < max_runs and (len(samples) < runs or clock() - start < min_seconds):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return summarise(np.asarray(samples), batch)


def summarise(seconds: np.ndarray, batch: int = 1) -> dict[str, Any]:
    ms = seconds * 1000.0
    return {
        "runs": int(len(ms)),
        "batch": batch,
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "std_ms": float(ms.std()),
        "min_ms": float(ms.min()),
        "throughput_ips": float(batch * len(ms) / seconds.sum()) if seconds.sum() > 0 else float("inf"),
    }

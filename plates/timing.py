"""Latency statistics: warm-up, then timed runs until both a count and a duration are reached.

Several functions are timed in turns (``rounds``): on a shared or throttling machine speed
drifts over minutes, and timing A for 10 s and then B for 10 s puts that drift into the A/B
difference. In turns, every function sees the same drift, and the spread of the per-round
medians shows how large it was. The clock is injectable so the statistics can be tested on
a fake clock (no timing assertions in tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

REWARM = 2  # untimed calls when a function's turn comes round again (the others ran in between)


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
    return measure_in_turns([fn], warmup, runs, min_seconds, 1, max_runs, clock, [batch])[0]


def measure_in_turns(
    fns: Sequence[Callable[[], Any]],
    warmup: int = 20,
    runs: int = 200,
    min_seconds: float = 10.0,
    rounds: int = 5,
    max_runs: int = 100_000,
    clock: Callable[[], float] = time.perf_counter,
    batches: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Statistics for each of ``fns``, timed in ``rounds`` turns.

    Each turn gives a function ``1/rounds`` of the runs and of the seconds, so each still gets
    at least ``runs`` runs and ``min_seconds`` in all. ``warmup`` untimed calls come before its
    first turn, ``REWARM`` before every later one. With more than one round, the result also
    holds ``round_p50_ms``, the median of each turn."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    per_runs, per_seconds, per_max = -(-runs // rounds), min_seconds / rounds, max(1, max_runs // rounds)
    samples: list[list[float]] = [[] for _ in fns]
    medians: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        for i, fn in enumerate(fns):
            for _ in range(warmup if r == 0 else min(warmup, REWARM)):
                fn()
            turn = _timed(fn, per_runs, per_seconds, per_max, clock)
            samples[i] += turn
            medians[i].append(float(np.percentile(turn, 50)) * 1000.0)
    out = []
    for i, s in enumerate(samples):
        stats = summarise(np.asarray(s), (batches or [1] * len(fns))[i])
        if rounds > 1:
            stats["round_p50_ms"] = medians[i]
        out.append(stats)
    return out


def _timed(fn: Callable[[], Any], runs: int, seconds: float, max_runs: int, clock: Callable[[], float]) -> list[float]:
    samples: list[float] = []
    start = clock()
    while len(samples) < max_runs and (len(samples) < runs or clock() - start < seconds):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return samples


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

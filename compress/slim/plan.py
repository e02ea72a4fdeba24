"""The slimming target and the planner: which channels of each prunable space to keep."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from compress.slim.channels import SlimError
from compress.slim.graph import Graph
from compress.slim.surgery import build
from plates import logger
from plates.keras import keras


@dataclasses.dataclass
class Target:
    ratio: float | None = None  # fraction of prunable channels to remove
    flops: float | None = None  # keep at most this fraction of MACs
    params: float | None = None  # keep at most this fraction of parameters
    latency: float | None = None  # keep at most this fraction of the measured latency
    round_to: int = 8
    min_fraction: float = 0.1  # per-space floor
    reduce: str = "sum"

    def validate(self) -> None:
        given = [v for v in (self.ratio, self.flops, self.params, self.latency) if v is not None]
        if len(given) != 1:
            raise SlimError("give exactly one target: --ratio, --flops, --params or --latency")
        if self.ratio is not None and not 0 <= self.ratio < 1:
            raise SlimError(f"--ratio must be in [0, 1) (1.0 would remove every channel), got {self.ratio}")
        for name in ("flops", "params", "latency"):
            v = getattr(self, name)
            if v is not None and not 0 < v <= 1:
                raise SlimError(f"--{name} is the fraction to keep, in (0, 1], got {v}")
        if self.reduce not in ("sum", "max"):
            raise SlimError("--importance must be sum or max")


def plan(g: Graph, target: Target, latency_fn: Callable[[keras.Model], float] | None = None) -> dict[int, np.ndarray]:
    """Kept channel indices per prunable root space.

    Budgets are met by bisection over the global gamma threshold, building each candidate
    without weights; a ``--latency`` budget times each candidate with ``latency_fn`` (weights
    do not change fp32 latency), so it is noisy but measures what the device will run."""
    target.validate()
    prunable = g.prunable()
    if not prunable:
        raise SlimError("no prunable channels (no BatchNormalization in unprotected groups)")
    scores = {r: g.gammas(r, target.reduce) for r in prunable}

    def keep_at(threshold: float) -> dict[int, np.ndarray]:
        out = {}
        for r, s in scores.items():
            n = len(s)
            k = int((s > threshold).sum())
            floor = max(int(np.ceil(target.min_fraction * n)), min(target.round_to, n), 1)
            k = max(k, floor)
            if target.round_to > 1:
                k = min(n, int(np.ceil(k / target.round_to)) * target.round_to)
            out[r] = np.sort(np.argsort(-s, kind="stable")[:k])
        return out

    all_scores = np.sort(np.concatenate(list(scores.values())))
    if target.ratio is not None:
        idx = int(target.ratio * len(all_scores))
        return keep_at(all_scores[idx - 1] if idx > 0 else -1.0)
    if target.latency is not None:
        if latency_fn is None:
            raise SlimError("a --latency budget needs a latency measurement (latency_fn)")
        base = latency_fn(g.model)
        metric, goal = (lambda m: latency_fn(m) / base), target.latency
    elif target.flops is not None:
        from plates.flops import count_macs

        base = count_macs(g.model)
        metric, goal = (lambda m: count_macs(m) / base), target.flops
    elif target.params is not None:
        base = g.model.count_params()
        metric, goal = (lambda m: m.count_params() / base), target.params
    else:
        raise SlimError("no slimming target: give one of ratio, flops, params, latency")
    lo, hi = 0, len(all_scores) - 1
    best = None
    while lo <= hi:  # smallest threshold index meeting the budget
        mid = (lo + hi) // 2
        keep = keep_at(all_scores[mid])
        value = metric(build(g, keep, weights=False))
        logger.info("slim plan: threshold %.4g keeps %.3f of the original (budget %.3f)", all_scores[mid], value, goal)
        if value <= goal:
            best, hi = keep, mid - 1
        else:
            lo = mid + 1
    if best is None:
        raise SlimError(
            f"cannot reach {goal:.2f} of the original with the floors (--min-fraction {target.min_fraction}, "
            f"--round-to {target.round_to}) and protected layers"
        )
    return best


def summary(g: Graph, keep: dict[int, np.ndarray]) -> list[dict[str, Any]]:
    rows = []
    for r in g.roots():
        s = g.spaces[r]
        rows.append(
            {
                "group": s.members[0],
                "layers": len(s.members),
                "channels": s.size,
                "kept": len(keep[r]) if r in keep else s.size,
                "protected": s.protected or None,
            }
        )
    return rows

"""Per-group sensitivity: accuracy after cutting one group's lowest-gamma channels."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from compress.slim.graph import Graph
from compress.slim.surgery import build
from plates import logger
from plates.keras import keras


def sensitivity(
    g: Graph, evaluate: Callable[[keras.Model], float], fractions: Sequence[float], probe: np.ndarray | None = None
) -> list[dict]:
    """Accuracy after removing ``fraction`` of one group's lowest-gamma channels (no fine-tune)."""
    from tqdm import tqdm

    rows = []
    for r in tqdm(g.prunable(), desc="sensitivity", unit="group"):
        s = g.gammas(r)
        row = {"group": g.spaces[r].members[0], "channels": len(s)}
        for f in fractions:
            k = max(1, int(round(len(s) * (1 - f))))
            row[f"acc@{f:g}"] = evaluate(build(g, {r: np.sort(np.argsort(-s)[:k])}, probe=probe))
        rows.append(row)
        logger.info("sensitivity %s", row)
    return rows

"""Representative / parity image sets drawn from labelled data (for calibration and checks)."""

from __future__ import annotations

import numpy as np

from plates.bundle import ModelInfo
from plates.errors import DataError
from plates.pipeline import load_images
from plates.readers import read_sources


def draw_images(
    sources: list[str] | None, info: ModelInfo, count: int, seed: int = 0, what: str = "representative"
) -> np.ndarray:
    """``count`` random images (uint8, model input size) from ``sources``; clear error if none."""
    if not sources:
        raise DataError(f"no {what} set given: pass --data SRC (e.g. the synthetic training folder)")
    samples = read_sources(sources, info.spec)
    if len(samples) == 0:
        raise DataError(f"{what} set {sources} is empty")
    order = np.random.default_rng(seed).permutation(len(samples))[:count]
    return load_images(samples.subset(np.sort(order)), info.size)

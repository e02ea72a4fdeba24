"""Score an exported bundle on labelled data with the light predictor (what a device sees)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from deploy.predictor import Predictor
from plates.bundle import read_labels
from plates.metrics import evaluate
from plates.pipeline import load_images
from plates.readers import Samples


def bundle_probs(predictor: Predictor, images: np.ndarray, batch: int = 64) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(images), batch):
        for k, v in predictor.probs(images[i : i + batch]).items():
            parts.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in parts.items()}


def evaluate_bundle(
    bundle: str | os.PathLike, samples: Samples, threads: int | None = None, images: np.ndarray | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    predictor = Predictor(bundle, threads)
    info = read_labels(predictor.model_path.parent)
    if images is None:
        images = load_images(samples, info.size)
    probs = bundle_probs(predictor, images)
    return evaluate(info.spec, samples.labels, probs), probs

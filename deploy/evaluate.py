"""Score an exported bundle on labelled data with the light predictor (what a device sees)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from deploy.predictor import Predictor
from deploy.runner import batched_probs
from plates.bundle import read_labels
from plates.metrics import evaluate
from plates.pipeline import load_images
from plates.readers import Samples


def evaluate_bundle(
    bundle: str | os.PathLike, samples: Samples, threads: int | None = None, images: np.ndarray | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    predictor = Predictor(bundle, threads)
    info = read_labels(predictor.model_path.parent)
    if images is None:
        images = load_images(samples, info.size)
    probs = batched_probs(predictor, images)
    return evaluate(info.spec, samples.labels, probs), probs

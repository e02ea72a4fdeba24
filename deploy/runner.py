"""One interface over every way a model runs here: a Keras model folder (TensorFlow), a TFLite
bundle (LiteRT) or an ONNX bundle (ONNX Runtime).

Accuracy, parity and latency all go through ``Runner``: uint8 RGB images at the model's input
size in, per-head probabilities by head name out, and ``bind`` for the call a latency
measurement times. A bundle's runner is ``deploy.predictor.Predictor`` itself (it must stay
TensorFlow-free for devices); the Keras runner loads TensorFlow only when it is built."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from deploy.predictor import Predictor, mean_over_views
from plates.bundle import ModelInfo, read_labels


class Runner(Protocol):
    runtime: str

    def probs(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Per-head probabilities (float32, by head name) for uint8 NHWC RGB images."""
        ...

    def bind(self, images: np.ndarray) -> Callable[[], Any]:
        """A no-argument call that runs only the model on ``images`` (for timing)."""
        ...


class KerasRunner:
    """A Keras model run by TensorFlow (intra-op threads as the process set them at start)."""

    runtime = "keras"

    def __init__(self, model, info: ModelInfo, batch_size: int = 256):
        self.model, self.info, self.batch_size = model, info, batch_size

    def probs(self, images: np.ndarray) -> dict[str, np.ndarray]:
        from plates.training import predict_probs

        return predict_probs(self.model, images, self.batch_size)

    def bind(self, images: np.ndarray) -> Callable[[], Any]:
        from plates.keras import tf

        fn = tf.function(lambda x: self.model(x, training=False))
        x = tf.constant(np.asarray(images).astype(np.float32))
        return lambda: fn(x)


def batched_probs(runner: Runner, images: np.ndarray, batch: int = 64, views: int = 1) -> dict[str, np.ndarray]:
    """``runner.probs`` over ``images`` in batches (a runtime's buffers stay small), averaged over
    ``views`` crops of each image (``deploy.predictor.VIEWS``)."""
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(images), batch):
        for k, v in mean_over_views(runner.probs, images[i : i + batch], views).items():
            parts.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in parts.items()}


def create_runner(folder: str | os.PathLike, threads: int | None = None, model=None) -> Runner:
    """The runner of a model folder (``model.keras`` / ``model.h5``) or a bundle folder.

    ``model`` passes an already loaded Keras model for that folder (a benchmark run loads each
    once for its statistics, accuracy and latency)."""
    from plates.modelio import model_file

    folder = Path(folder)
    if model is not None:
        return KerasRunner(model, read_labels(folder))
    if not model_file(folder).exists():
        return Predictor(folder, threads=threads)
    from plates.modelio import load_model

    return KerasRunner(*load_model(folder))

"""Measured on-device-style latency of a Keras model: fp32 TFLite under LiteRT, batch 1.

Slimming is for the device, and TensorFlow's own latency on a host hides most of the gain
(docs/experiments/002), so both the latency budget of ``compress slim --latency`` and its
report time the converted model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from plates.bundle import ModelInfo


def litert_p50_ms(model, info: ModelInfo, threads: int = 1, runs: int = 100, min_seconds: float = 1.0) -> float:
    """Median batch-1 latency (ms) of ``model`` converted to fp32 TFLite, run by LiteRT
    through the same runner as every bundle (``deploy.predictor.Predictor``)."""
    from deploy.export import TFLiteOptions, convert_tflite
    from deploy.predictor import Predictor
    from plates.bundle import write_labels
    from plates.timing import measure

    flat = convert_tflite(model, info, TFLiteOptions("fp32"), None)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "model.tflite").write_bytes(flat)
        write_labels(d, info)
        x = np.zeros((1, info.height, info.width, info.channels), np.uint8)
        run = Predictor(d, threads=threads).bind(x)
        return measure(run, warmup=10, runs=runs, min_seconds=min_seconds)["p50_ms"]

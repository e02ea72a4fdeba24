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
    """Median batch-1 latency (ms) of ``model`` converted to fp32 TFLite, run by LiteRT."""
    from deploy.export import TFLiteOptions, convert_tflite
    from deploy.predictor import tflite_interpreter
    from plates.timing import measure

    flat = convert_tflite(model, info, TFLiteOptions("fp32"), None)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.tflite"
        path.write_bytes(flat)
        runner = tflite_interpreter(path, threads).get_signature_runner()
        ((name, detail),) = runner.get_input_details().items()
        x = np.zeros((1, info.height, info.width, info.channels), detail["dtype"])
        return measure(lambda: runner(**{name: x}), warmup=10, runs=runs, min_seconds=min_seconds)["p50_ms"]

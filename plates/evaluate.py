"""Evaluate a Keras model folder on a labelled set; shared by ``teacher eval`` and others."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from plates.atomic import write_json
from plates.bundle import ModelInfo
from plates.codec import confidence, top_labels
from plates.keras import keras
from plates.metrics import evaluate, plate_correct, plot_coverage
from plates.pipeline import make_dataset
from plates.readers import Samples


def evaluate_model(
    model: keras.Model, info: ModelInfo, samples: Samples, batch_size: int = 256
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from plates.training import predict_probs

    probs = predict_probs(model, make_dataset(samples, info.size, batch_size), batch_size)
    return evaluate(info.spec, samples.labels, probs), probs


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    """Human-readable summary: accuracy, operating points, main confusions per position."""
    lines = [
        f"plates: {metrics['n']}  full-plate accuracy: {metrics['plate_accuracy']:.4f}  "
        f"character accuracy: {metrics['char_accuracy']:.4f}"
    ]
    heads = "  ".join(f"{k} {v:.3f}" for k, v in metrics["per_head_accuracy"].items() if v is not None)
    lines.append(f"per head: {heads}")
    r = metrics["recall_at_precision_999"]
    lines.append(
        f"recall at 99.9% precision: {r['recall']:.4f}"
        + (f" (threshold {r['threshold']:.4f})" if r["threshold"] is not None else " (precision never reaches 99.9%)")
    )
    for op in metrics["operating_points"]:
        lines.append(
            f"  conf >= {op['threshold']:.2f}: accepted {op['accepted']:.3f}  precision {op['precision']:.4f}  "
            f"recall {op['recall']:.4f}"
        )
    for head, confs in metrics["confusions"].items():
        if confs:
            lines.append(f"  {head} confusions: " + ", ".join(f"{c['true']}->{c['pred']} x{c['count']}" for c in confs))
    return lines


def write_eval(
    out: str | os.PathLike,
    name: str,
    metrics: dict[str, Any],
    info: ModelInfo,
    labels: np.ndarray,
    probs: dict[str, np.ndarray],
    extra: dict[str, Any] | None = None,
) -> Path:
    """``eval.json`` and ``coverage.png`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    correct = plate_correct(info.spec, labels, top_labels(info.spec, probs))
    plot_coverage({name: (confidence(info.spec, probs), correct)}, out / "coverage.png", f"coverage / accuracy: {name}")
    write_json(out / "eval.json", {**(extra or {}), **metrics})
    return out

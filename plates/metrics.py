"""Plate-recognition metrics (numpy only).

* per-head accuracy, character accuracy, full-plate accuracy;
* the operating metric: a plate is *accepted* when its confidence (min over character
  heads of the top probability) reaches a threshold; precision is measured on accepted
  plates and recall as accepted-and-correct over all plates;
* recall at the lowest threshold where precision reaches 99.9%;
* a coverage/accuracy curve (PNG) and per-position confusions."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from plates.codec import confidence, top_labels
from plates.spec import PlateSpec

DEFAULT_THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def plate_correct(spec: PlateSpec, labels: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(N,) bool: every character head right. Plates with an unknown character label are False."""
    chars = [i for i, h in enumerate(spec.heads) if h.kind == "char"]
    known = (labels[:, chars] >= 0).all(1)
    return known & (labels[:, chars] == pred[:, chars]).all(1)


def precision_recall(conf: np.ndarray, correct: np.ndarray, threshold: float) -> dict[str, float]:
    accepted = conf >= threshold
    n_acc = int(accepted.sum())
    good = int((accepted & correct).sum())
    return {
        "threshold": threshold,
        "accepted": n_acc / max(len(conf), 1),
        "precision": good / n_acc if n_acc else float("nan"),
        "recall": good / max(len(conf), 1),
    }


def recall_at_precision(conf: np.ndarray, correct: np.ndarray, target: float = 0.999) -> dict[str, Any]:
    """Largest recall whose accepted set (conf >= t) still has precision >= target."""
    order = np.argsort(-conf, kind="stable")
    c, ok = conf[order], correct[order].astype(np.int64)
    cum = np.cumsum(ok)
    k = np.arange(1, len(c) + 1)
    boundary = np.append(c[1:] < c[:-1], True)  # a threshold can only cut between distinct values
    valid = boundary & (cum / k >= target)
    if not valid.any():
        return {"target_precision": target, "threshold": None, "recall": 0.0, "precision": None}
    i = int(np.nonzero(valid)[0].max())
    return {
        "target_precision": target,
        "threshold": float(c[i]),
        "recall": float(cum[i] / len(c)),
        "precision": float(cum[i] / (i + 1)),
    }


def coverage_curve(conf: np.ndarray, correct: np.ndarray, points: int = 101) -> list[tuple[float, float]]:
    """(coverage, accuracy on the most confident ``coverage`` fraction) pairs."""
    order = np.argsort(-conf, kind="stable")
    cum = np.cumsum(correct[order])
    out = []
    for cov in np.linspace(0.01, 1.0, points - 1):
        k = max(1, int(round(cov * len(conf))))
        out.append((float(cov), float(cum[k - 1] / k)))
    return out


def confusions(spec: PlateSpec, labels: np.ndarray, pred: np.ndarray, top: int = 5) -> dict[str, list[dict]]:
    """Most frequent (true -> predicted) mistakes per head."""
    out = {}
    for i, head in enumerate(spec.heads):
        known = labels[:, i] >= 0
        wrong = known & (labels[:, i] != pred[:, i])
        pairs = Counter(
            (head.classes[t], head.classes[p]) for t, p in zip(labels[wrong, i], pred[wrong, i], strict=False)
        )
        out[head.name] = [
            {"true": t or "<none>", "pred": p or "<none>", "count": n} for (t, p), n in pairs.most_common(top)
        ]
    return out


def evaluate(
    spec: PlateSpec,
    labels: np.ndarray,
    probs: Mapping[str, np.ndarray],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> dict[str, Any]:
    """All metrics for (N, heads) labels and per-head probabilities."""
    labels = np.asarray(labels)
    pred = top_labels(spec, probs)
    conf = confidence(spec, probs)
    correct = plate_correct(spec, labels, pred)
    per_head = {}
    char_hits = char_total = 0
    for i, head in enumerate(spec.heads):
        known = labels[:, i] >= 0
        hits = int((labels[known, i] == pred[known, i]).sum())
        per_head[head.name] = hits / known.sum() if known.any() else None
        if head.kind == "char":
            real = known & np.asarray([head.classes[t] != "" if t >= 0 else False for t in labels[:, i]])
            char_hits += int((labels[real, i] == pred[real, i]).sum())
            char_total += int(real.sum())
    return {
        "n": int(len(labels)),
        "plate_accuracy": float(correct.mean()) if len(labels) else 0.0,
        "char_accuracy": char_hits / char_total if char_total else 0.0,
        "per_head_accuracy": per_head,
        "mean_confidence": float(conf.mean()) if len(conf) else 0.0,
        "operating_points": [precision_recall(conf, correct, t) for t in thresholds],
        "recall_at_precision_999": recall_at_precision(conf, correct, 0.999),
        "confusions": confusions(spec, labels, pred),
    }


def plot_coverage(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | os.PathLike, title: str = ""
) -> None:
    """Coverage/accuracy curves (one per model) as a PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plates.atomic import atomic_path

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name, (conf, correct) in curves.items():
        xs, ys = zip(*coverage_curve(conf, correct), strict=False)
        ax.plot(xs, ys, label=name)
    ax.set_xlabel("coverage (fraction of plates accepted, most confident first)")
    ax.set_ylabel("full-plate accuracy on accepted")
    ax.set_title(title or "coverage / accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)

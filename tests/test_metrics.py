import numpy as np
import pytest

from plates.codec import encode
from plates.metrics import evaluate, plot_coverage, recall_at_precision


def test_recall_at_precision_picks_the_lowest_safe_threshold():
    conf = np.array([0.99, 0.98, 0.97, 0.96, 0.5, 0.4])
    correct = np.array([1, 1, 1, 0, 1, 1], bool)
    r = recall_at_precision(conf, correct, 0.999)
    assert r["threshold"] == 0.97 and r["recall"] == pytest.approx(3 / 6) and r["precision"] == 1.0
    r = recall_at_precision(conf, correct, 0.8)
    assert r["threshold"] == 0.4 and r["recall"] == pytest.approx(5 / 6)
    assert recall_at_precision(np.array([0.9]), np.array([False]))["threshold"] is None


def test_ties_cannot_be_split_by_a_threshold():
    conf = np.array([0.9, 0.9, 0.9])
    correct = np.array([1, 1, 0], bool)
    assert recall_at_precision(conf, correct, 0.999)["threshold"] is None


def test_evaluate_counts_plates_chars_and_heads(spec, tmp_path):
    texts = ["皖A12345", "沪AD12345", "京A1234警"]
    labels = np.stack([encode(spec, t) for t in texts])
    pred = labels.copy()
    pred[1, 2] = (pred[1, 2] + 1) % len(spec.heads[2].classes)  # one wrong character in plate 2
    probs = {h.name: np.eye(len(h.classes))[np.maximum(pred[:, i], 0)] * 0.98 for i, h in enumerate(spec.heads)}
    m = evaluate(spec, labels, probs)
    assert m["plate_accuracy"] == pytest.approx(2 / 3)
    assert m["char_accuracy"] == pytest.approx(21 / 22)  # 7 + 8 + 7 characters, one wrong
    assert m["per_head_accuracy"]["char3"] == pytest.approx(2 / 3)
    assert m["per_head_accuracy"]["colour"] is None  # no colour labels
    assert m["confusions"]["char3"][0]["count"] == 1
    plot_coverage({"x": (np.array([0.9, 0.8, 0.7]), np.array([1, 0, 1], bool))}, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"

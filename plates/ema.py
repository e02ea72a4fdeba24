"""An exponential moving average of a model's weights (as timm's ``ModelEmaV2``).

Why: an average of the weights over the last ~1/(1 - decay) steps is a smoother, usually
better model at the cost of one extra copy of the weights (docs/experiments/005).

Every float weight is averaged, BatchNorm moving statistics included, so the averaged model is
self-consistent.

The averaged weights are what gets evaluated and saved (``model.keras``); the raw weights keep
training. ``applied()`` swaps the two in place (no third copy)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from plates.keras import keras, tf


class WeightAverage(tf.Module):
    """Shadow copies of ``model``'s float weights; create inside the strategy scope.

    The decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates (as
    ``tf.train.ExponentialMovingAverage`` with ``num_updates``), so a short run's average is not
    dominated by the random initial weights."""

    def __init__(self, model: keras.Model, decay: float):
        super().__init__(name="weight_average")
        if not 0.0 < decay < 1.0:
            raise ValueError(f"weight-average decay must be in (0, 1), not {decay}")
        self.decay = decay
        self.weights = [w for w in model.weights if w.dtype.is_floating]
        self.shadows = [
            tf.Variable(w, trainable=False, name=f"ema_{i}", dtype=w.dtype) for i, w in enumerate(self.weights)
        ]
        self.updates = tf.Variable(0, trainable=False, dtype=tf.int64, name="ema_updates")

    def update(self) -> None:
        """One step of the average (call after the optimiser step, in cross-replica context)."""
        n = tf.cast(self.updates, tf.float32)
        d = tf.minimum(self.decay, (1.0 + n) / (10.0 + n))
        for s, w in zip(self.shadows, self.weights, strict=True):
            s.assign(d * s + (1.0 - d) * tf.cast(w, s.dtype))
        self.updates.assign_add(1)

    def reset(self) -> None:
        """Restart the average from the model's current weights (after loading other weights)."""
        for s, w in zip(self.shadows, self.weights, strict=True):
            s.assign(tf.cast(w, s.dtype))
        self.updates.assign(0)

    @tf.function
    def _swap(self) -> None:
        for s, w in zip(self.shadows, self.weights, strict=True):
            raw = tf.identity(w)
            w.assign(s)
            s.assign(raw)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Inside: the model holds the averaged weights; on exit the raw ones come back."""
        self._swap()
        try:
            yield
        finally:
            self._swap()

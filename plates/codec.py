"""Plate text <-> per-head labels, and per-head probabilities -> text + confidence.

Labels are int arrays in spec head order; ``-1`` means unknown and is masked out of the
loss and the metrics (e.g. the colour of a crop that was only named by its text). ``-2``
means the crop does not show the character (its cell cut off by the crop's edge): the head is
trained toward the uniform distribution, so that the plate's confidence (the least sure head)
falls instead of the head guessing with confidence; the metrics leave it out as unknown."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from plates.errors import LabelError
from plates.spec import NO_CHAR, PlateSpec

UNKNOWN = -1
UNSURE = -2


def encode(spec: PlateSpec, text: str, attributes: Mapping[str, str] | None = None) -> np.ndarray:
    """Per-head labels for one plate. Attribute heads not given are ``UNKNOWN``."""
    chars = spec.char_heads
    if not spec.min_length <= len(text) <= spec.max_length:
        raise LabelError(
            f"plate {text!r} has {len(text)} characters; this spec reads {spec.min_length}"
            + (f" to {spec.max_length}" if spec.max_length != spec.min_length else "")
        )
    attributes = dict(attributes or {})
    labels = np.full(len(spec.heads), UNKNOWN, dtype=np.int32)
    char_iter = iter(text)
    for i, head in enumerate(spec.heads):
        if head.kind == "char":
            position = chars.index(head)
            value = next(char_iter, NO_CHAR)
            try:
                labels[i] = head.index(value)
            except KeyError:
                what = f"character {value!r}" if value else "an empty position"
                raise LabelError(
                    f"plate {text!r}: {what} at position {position + 1} is not a class of head {head.name!r}"
                ) from None
        elif head.name in attributes and attributes[head.name] is not None:
            value = attributes.pop(head.name)
            try:
                labels[i] = head.index(value)
            except KeyError:
                raise LabelError(f"plate {text!r}: {head.name} {value!r} is not one of {list(head.classes)}") from None
    unknown = set(attributes) - set(spec.names)
    if unknown:
        raise LabelError(f"plate {text!r}: unknown attribute head(s) {sorted(unknown)}")
    return labels


def labels_to_text(spec: PlateSpec, labels: Sequence[int]) -> str:
    """Inverse of ``encode`` for the character heads (unknown positions become '?')."""
    out = []
    for head, label in zip(spec.heads, labels, strict=False):
        if head.kind == "char":
            out.append(head.classes[label] if label >= 0 else "?")
    return "".join(out)


@dataclasses.dataclass(frozen=True)
class Reading:
    """One decoded plate."""

    text: str
    confidence: float  # min over character heads of the top probability
    attributes: dict[str, str]
    head_confidence: dict[str, float]


def decode(spec: PlateSpec, probs: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> list[Reading]:
    """Decode a batch of per-head probabilities (by head name, or a list in spec order)."""
    if not isinstance(probs, Mapping):
        probs = dict(zip(spec.names, probs, strict=False))
    missing = [n for n in spec.names if n not in probs]
    if missing:
        raise LabelError(f"model outputs lack head(s) {missing}")
    tops = {h.name: np.asarray(probs[h.name]).argmax(-1) for h in spec.heads}
    confs = {h.name: np.asarray(probs[h.name]).max(-1) for h in spec.heads}
    batch = len(next(iter(tops.values())))
    readings = []
    for b in range(batch):
        text = "".join(h.classes[tops[h.name][b]] for h in spec.char_heads)
        conf = min(float(confs[h.name][b]) for h in spec.char_heads)
        attrs = {h.name: h.classes[tops[h.name][b]] for h in spec.attribute_heads}
        readings.append(Reading(text, conf, attrs, {n: float(c[b]) for n, c in confs.items()}))
    return readings


def top_labels(spec: PlateSpec, probs: Mapping[str, np.ndarray]) -> np.ndarray:
    """(N, heads) argmax labels in spec order."""
    return np.stack([np.asarray(probs[n]).argmax(-1) for n in spec.names], axis=1).astype(np.int32)


def confidence(spec: PlateSpec, probs: Mapping[str, np.ndarray]) -> np.ndarray:
    """(N,) plate confidence: min over character heads of the top probability."""
    return np.min(np.stack([np.asarray(probs[h.name]).max(-1) for h in spec.char_heads], axis=1), axis=1)

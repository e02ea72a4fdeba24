"""Pseudo-labels for unlabelled crops: keep a head's label only where the model is sure.

Users have far more unlabelled camera crops than labelled ones. A trained model reads them;
each head's top class becomes a label where its probability reaches ``threshold``, and -1
(masked: the loss ignores it) elsewhere, so an unsure province does not stop the sure digits
from teaching. A crop with fewer than ``min_char_heads`` confident character heads is rejected
as a whole: that is how non-plates (bumpers, road, half plates) and unreadable frames are kept
out. A model that has learnt from earlier rounds' labels can read a non-plate confidently (a
grille's bars as ``1111``), so a crop is also rejected when its pixels hardly show the plate
colour its colour head reads (``min_colour_share``): a check on the image that no round of
labels can teach away. The written label file is an ordinary training source, so iterating is
``train -> pseudo-label -> train with --train pseudo.txt*N``."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from plates import logger
from plates.atomic import write_json
from plates.bundle import ModelInfo
from plates.errors import DataError
from plates.keras import keras
from plates.readers import IMAGE_SUFFIXES, Samples, write_label_file
from plates.spec import Head, PlateSpec


@dataclasses.dataclass(frozen=True)
class PseudoLabelConfig:
    """How sure a head must be to keep its label, and when a crop is rejected whole."""

    threshold: float = 0.9
    min_char_heads: int = 6  # of the 8 character heads; 0 = every one must be confident
    batch_size: int = 256
    #: (head, threshold) pairs overriding ``threshold``: the province head of a model that
    #: has seen few real provinces is confidently wrong far more often than the digit heads
    head_thresholds: tuple[tuple[str, float], ...] = ()
    #: a crop whose colour head reads a colour of ``PLATE_COLOUR_PIXELS`` but fewer than this
    #: share of whose pixels show it is rejected (0 = no check)
    min_colour_share: float = 0.05
    #: (head, class) pairs never kept as labels: a class an audit of the written labels found
    #: mostly wrong. Self-training confirms a labeller's systematic misreading round after round
    #: (every model of the chain reads it alike, so neither a threshold nor a second opinion
    #: removes it); masking the class keeps that head's other labels.
    masked_classes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name, value in (("threshold", self.threshold), *self.head_thresholds):
            if not 0.0 < value <= 1.0:
                raise ValueError(f"threshold of {name} must be in (0, 1], got {value}")
        if self.min_char_heads < 0:
            raise ValueError(f"min_char_heads must be >= 0, got {self.min_char_heads}")
        if not 0.0 <= self.min_colour_share < 1.0:
            raise ValueError(f"min_colour_share must be in [0, 1), got {self.min_colour_share}")

    def threshold_of(self, head: str) -> float:
        return dict(self.head_thresholds).get(head, self.threshold)


def _blue(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 2] - np.maximum(rgb[..., 0], rgb[..., 1]) > 25


def _yellow(rgb: np.ndarray) -> np.ndarray:
    return np.minimum(rgb[..., 0], rgb[..., 1]) - rgb[..., 2] > 40


def _green(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 1] - np.maximum(rgb[..., 0], rgb[..., 2]) > 15


#: plate colour -> which pixels (float RGB 0..255) show it. Dim and dark plates of the colour
#: pass; greys do not. White and black plates are not checked: a grey frame could be either.
PLATE_COLOUR_PIXELS = {"blue": _blue, "yellow": _yellow, "green": _green}


def colour_mismatch(images: np.ndarray, colours: np.ndarray, classes: Sequence[str], min_share: float) -> np.ndarray:
    """Per crop: the colour read (a class index, -1 = unsure) is one ``PLATE_COLOUR_PIXELS``
    checks, and fewer than ``min_share`` of the crop's pixels show it."""
    bad = np.zeros(len(images), bool)
    for k, name in enumerate(classes):
        shows = PLATE_COLOUR_PIXELS.get(name)
        rows = np.flatnonzero(colours == k)
        if shows is None or not len(rows):
            continue
        share = shows(images[rows].astype(np.float32)).mean(axis=(1, 2))
        bad[rows] = share < min_share
    return bad


@dataclasses.dataclass
class PseudoLabels:
    """The kept crops with their (partly masked) labels, and what was rejected."""

    samples: Samples
    rejected: list[str]
    stats: dict[str, Any]


def list_images(folder: str | os.PathLike) -> list[str]:
    """Every image file in ``folder`` (sorted, not recursive): an unlabelled source."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder of images")
    paths = [str(f) for f in sorted(folder.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not paths:
        raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return paths


def _load(paths: list[str], size: tuple[int, int]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    from tqdm import tqdm

    from plates.images import load_crop

    images, bad = [], []
    for path in tqdm(paths, desc="read", unit="img", disable=len(paths) < 500):
        try:
            images.append(load_crop(path, size))
        except (OSError, ValueError, DataError) as exc:
            bad.append((path, str(exc)))
    for path, why in bad:
        logger.warning("skipped unreadable image %s: %s", path, why)
    return np.stack(images) if images else np.zeros((0, size[1], size[0], 3), np.uint8), bad


def _mean_probs(
    readers: Sequence[tuple[keras.Model, ModelInfo]], paths: list[str], batch_size: int
) -> tuple[dict[str, np.ndarray], np.ndarray, list[tuple[str, str]]]:
    """Each reader's probabilities on ``paths`` at its own input size, averaged, the readable
    images (at the first reader's size) and the unreadable files."""
    from plates.training import predict_probs

    loaded: dict[tuple[int, int], tuple[np.ndarray, list[tuple[str, str]]]] = {}
    total: dict[str, np.ndarray] = {}
    for model, info in readers:
        size = (info.width, info.height)
        if size not in loaded:
            loaded[size] = _load(paths, size)
        probs = predict_probs(model, loaded[size][0], batch_size)
        for name in info.spec.names:
            total[name] = total.get(name, 0) + np.asarray(probs[name], np.float64) / len(readers)
    images, bad = next(iter(loaded.values()))
    return total, images, bad


def _class_counts(head: Head, labels: np.ndarray) -> dict[str, int]:
    return dict(Counter(head.classes[v] for v in labels if v >= 0).most_common())


def _common_spec(readers: Sequence[tuple[keras.Model, ModelInfo]], config: PseudoLabelConfig) -> PlateSpec:
    """The heads every reader reads, which must hold each head ``config`` sets a threshold for."""
    if not readers:
        raise ValueError("pseudo_label needs at least one (model, info) reader")
    spec = readers[0][1].spec
    for _, other in readers[1:]:
        if other.spec != spec:
            raise DataError("the models read different heads or classes; their probabilities cannot be averaged")
    unknown = [name for name, _ in (*config.head_thresholds, *config.masked_classes) if name not in spec.names]
    if unknown:
        raise DataError(f"no head(s) {unknown} in this model; heads: {', '.join(spec.names)}")
    for name, value in config.masked_classes:
        classes = spec.heads[spec.names.index(name)].classes
        if value not in classes:
            raise DataError(f"masked class {value!r} is not a class of head {name} ({' '.join(map(repr, classes))})")
    return spec


def pseudo_label(
    readers: Sequence[tuple[keras.Model, ModelInfo]], paths: list[str], config: PseudoLabelConfig = PseudoLabelConfig()
) -> PseudoLabels:
    """Label ``paths`` with the readers' mean probabilities: per-head labels where confident, -1
    elsewhere. Several readers (a teacher and a student, say) are a second opinion: a head where
    they disagree averages below the threshold and stays masked."""
    spec = _common_spec(readers, config)
    probs, images, bad = _mean_probs(readers, paths, config.batch_size)
    bad_paths = {path for path, _ in bad}
    readable = [p for p in paths if p not in bad_paths]
    labels = np.full((len(readable), len(spec.heads)), -1, np.int32)
    sure, masked = np.zeros(labels.shape, bool), np.zeros(labels.shape, bool)
    for j, head in enumerate(spec.heads):
        p = np.asarray(probs[head.name])
        sure[:, j] = p.max(-1) >= config.threshold_of(head.name)
        labels[:, j] = np.where(sure[:, j], p.argmax(-1), -1)
        for name, value in config.masked_classes:  # still counts as sure: the crop is a plate
            if name == head.name:
                masked[:, j] |= labels[:, j] == head.classes.index(value)
        labels[masked[:, j], j] = -1
    char = [spec.names.index(h.name) for h in spec.char_heads]
    need = min(config.min_char_heads or len(char), len(char))
    keep = sure[:, char].sum(1) >= need
    off_colour = np.zeros(len(readable), bool)
    if config.min_colour_share and "colour" in spec.names:
        j = spec.names.index("colour")
        off_colour = keep & colour_mismatch(images, labels[:, j], spec.heads[j].classes, config.min_colour_share)
        keep &= ~off_colour
    kept = Samples([p for p, k in zip(readable, keep, strict=True) if k], labels[keep])
    rejected = [p for p, k in zip(readable, keep, strict=True) if not k]
    first = spec.char_heads[0]
    provinces = Counter(first.classes[v] for v in kept.labels[:, spec.names.index(first.name)] if v >= 0)
    stats = {
        "images": len(paths),
        "unreadable": len(bad),
        "kept": int(keep.sum()),
        "rejected": len(rejected),
        "threshold": config.threshold,
        "head_thresholds": dict(config.head_thresholds),
        "masked_classes": [f"{head}={value}" for head, value in config.masked_classes],
        "masked_labels": int(masked[keep].sum()),
        "min_char_heads": need,
        "min_colour_share": config.min_colour_share,
        "rejected_off_colour": int(off_colour.sum()),  # confident characters, but not the colour read
        "fully_labelled": int((kept.labels[:, char] >= 0).all(1).sum()),
        "head_labelled": {h.name: int((kept.labels[:, j] >= 0).sum()) for j, h in enumerate(spec.heads)},
        "first_char_counts": dict(provinces.most_common()),  # the province head of the default spec
        # what each character head taught, so a class the labeller never gives stands out: a
        # glyph it cannot read on this camera is masked or misread every time, never labelled
        "class_counts": {h.name: _class_counts(h, kept.labels[:, spec.names.index(h.name)]) for h in spec.char_heads},
    }
    logger.info(
        "pseudo-labelled %d of %d crops (%d rejected, %d of them off-colour; %d unreadable)",
        stats["kept"],
        len(paths),
        stats["rejected"],
        stats["rejected_off_colour"],
        len(bad),
    )
    return PseudoLabels(kept, rejected, stats)


def write_pseudo_labels(out: str | os.PathLike, result: PseudoLabels, meta: dict[str, Any]) -> Path:
    """Write the label file (paths relative to its folder) and ``<out>.json`` with the counts."""
    out = Path(out)
    if not len(result.samples):
        raise DataError(f"{out}: no crop was confident enough to label; lower the threshold")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_label_file(out, result.samples, out.parent)
    write_json(out.with_suffix(".json"), {**meta, **result.stats, "rejected_files": result.rejected})
    return out

"""Readers for the labelled-image formats users have.

* the seed's label file: ``relative/path.jpg l1 ... lN`` (one int per head, -1 = absent);
* a folder of crops named by plate text (``皖A12345.jpg``, ``皖A12345_2.jpg`` for repeats);
* CCPD full images, whose file name encodes the plate text and the four plate corners.

Every reader returns a ``Samples`` table (paths, labels, optional corner quads). Readers
validate as they go and raise ``DataError``/``LabelError`` naming the file and line.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from plates import logger
from plates.codec import UNSURE, encode, labels_to_text
from plates.errors import DataError, LabelError
from plates.spec import LETTERS, PROVINCES, PlateSpec

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

# CCPD encodes characters as indices into these lists; "O" marks an unused slot.
CCPD_PROVINCES = PROVINCES + ("警", "学", "O")
CCPD_ALPHABETS = LETTERS + ("O",)
CCPD_ADS = LETTERS + tuple("0123456789") + ("O",)


@dataclasses.dataclass
class Samples:
    """A labelled image table: ``paths[i]`` has labels ``labels[i]`` (spec head order)."""

    paths: list[str]
    labels: np.ndarray  # (N, heads) int32, -1 = unknown
    quads: np.ndarray | None = None  # (N, 4, 2) float32 corners TL, TR, BR, BL in pixels, for CCPD

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, index: Sequence[int] | np.ndarray) -> Samples:
        index = np.asarray(index, dtype=np.int64)
        return Samples(
            [self.paths[i] for i in index], self.labels[index], None if self.quads is None else self.quads[index]
        )

    @staticmethod
    def concat(parts: Iterable[Samples]) -> Samples:
        parts = [p for p in parts if len(p)]
        if not parts:
            raise DataError("no samples to combine")
        quads = None
        if any(p.quads is not None for p in parts):
            quads = np.concatenate(
                [p.quads if p.quads is not None else np.full((len(p), 4, 2), np.nan, np.float32) for p in parts]
            )
        return Samples([x for p in parts for x in p.paths], np.concatenate([p.labels for p in parts]), quads)

    def texts(self, spec: PlateSpec) -> list[str]:
        return [labels_to_text(spec, row) for row in self.labels]


def read_label_file(path: str | os.PathLike, spec: PlateSpec, root: str | os.PathLike | None = None) -> Samples:
    """The seed's label file. Paths are relative to ``root`` (default: the file's folder)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: label file not found")
    root = Path(root) if root is not None else path.parent
    paths, labels = [], []
    n_heads = len(spec.heads)
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = _parse_label_line(line, n_heads, spec, f"{path}:{lineno}")
        if row is None:
            continue
        paths.append(str(root / row[0]))
        labels.append(row[1])
    if not paths:
        raise DataError(f"{path}: no labelled images in the file")
    return Samples(paths, np.asarray(labels, dtype=np.int32))


def _parse_label_line(line: str, n_heads: int, spec: PlateSpec, where: str) -> tuple[str, list[int]] | None:
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    parts = line.split()
    if len(parts) != n_heads + 1:
        raise LabelError(f"{where}: expected an image path and {n_heads} labels, found {len(parts) - 1} labels")
    try:
        values = [int(v) for v in parts[1:]]
    except ValueError:
        raise LabelError(f"{where}: labels must be integers, got {parts[1:]}") from None
    for head, v in zip(spec.heads, values, strict=False):
        if not UNSURE <= v < len(head.classes):
            raise LabelError(f"{where}: label {v} out of range for head {head.name!r} ({len(head.classes)} classes)")
    return parts[0], values


def write_label_file(path: str | os.PathLike, samples: Samples, root: str | os.PathLike) -> None:
    """Write ``samples`` in the seed format with paths relative to ``root``."""
    from plates.atomic import write_text

    root = Path(root)
    lines = [
        " ".join([os.path.relpath(p, root), *map(str, row)])
        for p, row in zip(samples.paths, samples.labels, strict=False)
    ]
    write_text(path, "\n".join(lines) + "\n")


def plate_text_from_name(name: str) -> str:
    """``皖A12345_3.jpg`` -> ``皖A12345`` (a suffix after ``_`` tells repeats apart)."""
    return Path(name).stem.split("_")[0]


def read_folder(folder: str | os.PathLike, spec: PlateSpec, strict: bool = True) -> Samples:
    """Crops named by their plate text. ``strict=False`` skips (and logs) bad names."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    paths, labels, bad = [], [], []
    for file in sorted(folder.iterdir()):
        if file.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            labels.append(encode(spec, plate_text_from_name(file.name)))
            paths.append(str(file))
        except LabelError as exc:
            if strict:
                raise LabelError(f"{file}: {exc}") from None
            bad.append(f"{file.name}: {exc}")
    for msg in bad:
        logger.warning("skipped %s", msg)
    if not paths:
        raise DataError(f"{folder}: no images named by plate text ({', '.join(IMAGE_SUFFIXES)})")
    return Samples(paths, np.asarray(labels, dtype=np.int32))


def parse_ccpd_name(name: str) -> tuple[str, np.ndarray]:
    """Plate text and corner quad (TL, TR, BR, BL) from a CCPD file name.

    Fields, dash-separated: area, tilt, bbox, four vertices (from bottom-right, clockwise),
    character indices (underscore-separated), brightness, blur."""
    fields = Path(name).stem.split("-")
    if len(fields) < 5:
        raise LabelError(f"{name}: not a CCPD file name (expected 7 dash-separated fields)")
    try:
        vertices = [tuple(float(v) for v in p.split("&")) for p in fields[3].split("_")]
        indices = [int(v) for v in fields[4].split("_")]
    except ValueError:
        raise LabelError(f"{name}: CCPD vertex or character field is not numeric") from None
    if len(vertices) != 4 or any(len(v) != 2 for v in vertices) or len(indices) not in (7, 8):
        raise LabelError(f"{name}: CCPD name needs 4 vertices and 7 or 8 character indices")
    try:
        chars = [CCPD_PROVINCES[indices[0]], CCPD_ALPHABETS[indices[1]], *(CCPD_ADS[i] for i in indices[2:])]
    except IndexError:
        raise LabelError(f"{name}: CCPD character index out of range") from None
    text = "".join(c for c in chars if c != "O")
    br, bl, tl, tr = vertices
    quad = np.asarray([tl, tr, br, bl], dtype=np.float32)
    x, y = quad[:, 0].astype(np.float64), quad[:, 1].astype(np.float64)
    if abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2 < 1.0:  # shoelace area
        raise LabelError(f"{name}: CCPD plate corners enclose no area (coincident or collinear)")
    return text, quad


def ccpd_labels(name: str, spec: PlateSpec) -> tuple[np.ndarray, np.ndarray]:
    """The labels (spec head order) and corner quad of one CCPD file name, or ``LabelError``
    saying why not: one function, so the file the reader skips is the file the checker lists."""
    text, quad = parse_ccpd_name(name)
    attrs = {"colour": "green"} if len(text) == 8 and "colour" in spec.names else {}
    return encode(spec, text, attrs), quad


def read_ccpd(folder: str | os.PathLike, spec: PlateSpec, strict: bool = False) -> Samples:
    """CCPD images (any depth below ``folder``); the pipeline rectifies the plate by its quad.

    CCPD 2019 green plates are not colour-labelled; 8-character plates are tagged green."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    paths, labels, quads = [], [], []
    for file in sorted(folder.rglob("*")):
        if file.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            row, quad = ccpd_labels(file.name, spec)
            labels.append(row)
        except LabelError as exc:
            if strict:
                raise
            logger.warning("skipped %s: %s", file, exc)
            continue
        paths.append(str(file))
        quads.append(quad)
    if not paths:
        raise DataError(f"{folder}: no CCPD-named images found")
    return Samples(paths, np.asarray(labels, dtype=np.int32), np.stack(quads))


def read_any(source: str | os.PathLike, spec: PlateSpec) -> Samples:
    """Pick the reader by what ``source`` is: ``.txt`` label file, CCPD tree, or named crops.

    ``ccpd:DIR`` forces the CCPD reader; ``synth:DIR`` reads a generated set's labels.txt."""
    source = str(source)
    if source.startswith("ccpd:"):
        return read_ccpd(source[5:], spec)
    if source.startswith("synth:"):
        source = str(Path(source[6:]) / "labels.txt")
    path = Path(source)
    if path.is_file():
        return read_label_file(path, spec)
    if path.is_dir():
        if (path / "labels.txt").is_file():
            return read_label_file(path / "labels.txt", spec)
        first = next((f for f in sorted(path.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES), None)
        if first is not None and first.name.count("-") >= 5:
            return read_ccpd(path, spec)
        return read_folder(path, spec, strict=False)
    raise DataError(f"{source}: no such file or folder")


def split(samples: Samples, fraction: float, seed: int = 0) -> tuple[Samples, Samples]:
    """Random split into (rest, held-out fraction)."""
    order = np.random.default_rng(seed).permutation(len(samples))
    n_hold = int(round(len(samples) * fraction))
    return samples.subset(order[n_hold:]), samples.subset(order[:n_hold])


def read_sources(sources: Sequence[str], spec: PlateSpec) -> Samples:
    """Several sources combined; ``SRC*N`` repeats a (small, real) source N times."""
    parts = []
    for source in sources:
        times = 1
        if "*" in source:
            source, _, n = source.rpartition("*")
            if not n.isdigit() or int(n) < 1:
                raise DataError(f"{source}*{n}: repeat count after '*' must be a positive integer")
            times = int(n)
        samples = read_any(source, spec)
        logger.info("%s: %d images%s", source, len(samples), f" x{times}" if times > 1 else "")
        parts += [samples] * times
    return Samples.concat(parts)

"""Image loading and geometry shared by readers, the generator and the light predictor.

numpy + pillow only (no TensorFlow), so the on-device predictor can use it."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from plates.errors import DataError


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """Open an image as RGB, with an error that names the file."""
    try:
        with Image.open(path) as im:
            im.load()
            return im.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"{path}: image not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None


def perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 8 PIL PERSPECTIVE coefficients mapping output points ``dst`` to input ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=False):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return np.linalg.solve(np.asarray(rows, np.float64), np.asarray(rhs, np.float64))


def rectify(image: Image.Image, quad: np.ndarray, size: tuple[int, int], margin: float = 0.0) -> Image.Image:
    """Warp the quadrilateral ``quad`` (TL, TR, BR, BL) to an upright ``size`` = (w, h) crop.

    ``margin`` widens the quad by that fraction of its size on every side (a looser crop)."""
    quad = np.asarray(quad, np.float64)
    if margin:
        centre = quad.mean(0)
        quad = centre + (quad - centre) * (1 + 2 * margin)
    w, h = size
    dst = np.asarray([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    return image.transform(
        (w, h), Image.Transform.PERSPECTIVE, tuple(perspective_coeffs(quad, dst)), Image.Resampling.BILINEAR
    )


def load_crop(path: str | os.PathLike, size: tuple[int, int], quad: np.ndarray | None = None) -> np.ndarray:
    """(h, w, 3) uint8 crop at ``size`` = (w, h): rectified by ``quad`` when given, else resized."""
    image = load_rgb(path)
    if quad is not None and not np.isnan(quad).any():
        return np.asarray(rectify(image, quad, size))
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR))

"""Image loading and geometry shared by readers, the generator and the light predictor.

numpy + pillow only (no TensorFlow), so the on-device predictor can use it."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from plates.errors import DataError

WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def to_rgb(im: Image.Image) -> Image.Image:
    """8-bit RGB from any mode, the one conversion every reader uses.

    Pillow's own ``convert("RGB")`` clips 16-bit and 32-bit grayscale to white; those are
    scaled to 8 bits instead: 16-bit modes, and wider ones whose values fit 16 bits, by 1/257;
    values above 16 bits by their maximum; float images in 0..1 by 255; values already in
    0..255 as they are. An alpha channel is dropped, as TensorFlow's decoder does: a crop is
    read as its colours."""
    if im.mode in WIDE_MODES:
        a = np.asarray(im, dtype=np.float64)
        top = float(a.max()) if a.size else 0.0
        if im.mode.startswith("I;16") or 255 < top <= 65535:
            a = a / 257.0  # 16-bit range
        elif top > 65535:
            a = a * (255.0 / top)  # wider: by its maximum
        elif im.mode == "F" and top <= 1.0:
            a = a * 255.0  # float 0..1
        im = Image.fromarray(np.round(np.clip(a, 0, 255)).astype(np.uint8), "L")
    return im if im.mode == "RGB" else im.convert("RGB")


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """Open an image as RGB, with an error that names the file."""
    try:
        with Image.open(path) as im:
            im.load()
            return to_rgb(im)
    except FileNotFoundError:
        raise DataError(f"{path}: image not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
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
        w, h = image.size
        slack = 0.05 * max(w, h)
        q = np.asarray(quad, np.float64)
        if (q < -slack).any() or (q[:, 0] > w + slack).any() or (q[:, 1] > h + slack).any():
            raise DataError(f"{path}: plate corners {q.astype(int).tolist()} lie outside the {w}x{h} image")
        return np.asarray(rectify(image, quad, size))
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR))

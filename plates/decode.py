"""Decode the images of a labelled set once, without TensorFlow: the one reading that
training (``plates.pipeline``) and checking (``plates.checker``) share, so a file that one
refuses the other refuses too. A file repeated by ``SRC*N`` (same path, same plate corners)
is decoded once."""

from __future__ import annotations

import os

import numpy as np

from plates.errors import DataError
from plates.images import load_crop
from plates.readers import Samples


def decode_crops(
    samples: Samples, size: tuple[int, int], progress: bool = False
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """``(uint8 (U, h, w, 3) of the U distinct (path, corners) pairs, the row of each sample in
    it, {row: error message} of those that cannot be read)`` at ``size`` = (h, w); unreadable
    rows stay black."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    h, w = size
    keys: dict[tuple, int] = {}
    rows = np.empty(len(samples), np.int64)
    for i, path in enumerate(samples.paths):
        quad = None if samples.quads is None or np.isnan(samples.quads[i]).any() else tuple(samples.quads[i].ravel())
        rows[i] = keys.setdefault((path, quad), len(keys))

    def one(key: tuple) -> np.ndarray | str:
        path, quad = key
        try:
            return load_crop(path, (w, h), None if quad is None else np.reshape(quad, (4, 2)))
        except DataError as exc:
            return str(exc)

    images = np.zeros((len(keys), h, w, 3), np.uint8)
    errors: dict[int, str] = {}
    with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1))) as pool:
        results = pool.map(one, keys)
        for j, r in enumerate(tqdm(results, total=len(keys), desc="decoding", unit="img", disable=not progress)):
            if isinstance(r, str):
                errors[j] = r
            else:
                images[j] = r
    return images, rows, errors

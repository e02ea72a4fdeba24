"""Character permutation: new real-looking plates cut and recombined from real crops.

Laroca et al. (2025, "Advancing Multinational License Plate Recognition Through Synthetic and
Real Data Fusion") found that recombining the character cells of a few real plates adds real
glyphs in new contexts, which synthetic rendering cannot. Here each position of a tight,
single-row 7-character crop is a vertical slab between the gaps of the GA 36 layout (the plate
spans the crop); a new plate takes its background crop from one real plate and each slab from
a donor, so the label is the donors' characters at their positions. The province donor is drawn
uniformly over the provinces present (then over their crops): in a dev set that is 96% one
province, a plain shuffle would keep teaching that every plate is that province.

The slabs assume a straight crop that the plate fills edge to edge. Crops with margins or a
tilt (many in plates-real-dev) give slabs that cut glyphs, so look at a sample of the output
before training on it: rectified crops (``ccpd:DIR`` reads them from the corner points) fit best."""

from __future__ import annotations

import dataclasses
import io
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from plates import logger
from plates.atomic import atomic_path, write_json
from plates.errors import DataError
from plates.images import load_rgb
from plates.readers import Samples
from plates.spec import PlateSpec
from plates.synth.render import layout_boxes

N_CHARS = 7


@dataclasses.dataclass(frozen=True)
class PermuteConfig:
    """How many plates, from which seed, and whether donors are matched to the base's brightness."""

    count: int = 5000
    seed: int = 0
    balance_first: bool = True  # draw the province donor uniformly over provinces
    match_brightness: bool = True  # scale each donor slab to the base crop's mean colour
    quality: int = 95


def slab_edges(width: int) -> list[tuple[int, int]]:
    """Pixel column ranges [x0, x1) of the 7 character positions in a tight crop ``width`` wide."""
    (plate_w, _), boxes, _ = layout_boxes("blue", "single", N_CHARS)
    scale = width / plate_w
    cuts = [0.0]
    for (x, _, w, _), (nx, _, _, _) in zip(boxes[:-1], boxes[1:], strict=True):
        cuts.append((x + w + nx) / 2)
    cuts.append(float(plate_w))
    px = [int(round(c * scale)) for c in cuts]
    px[-1] = width
    return list(zip(px[:-1], px[1:], strict=True))


def _eligible(samples: Samples, spec: PlateSpec) -> np.ndarray:
    """Rows with all 7 characters known and no 8th: single-row plates the slabs fit."""
    names = spec.names
    chars = [names.index(h.name) for h in spec.char_heads]
    known = (samples.labels[:, chars[:N_CHARS]] >= 0).all(1)
    if len(chars) > N_CHARS:
        eighth = spec.char_heads[N_CHARS]
        known &= samples.labels[:, chars[N_CHARS]] == eighth.index("")
    if "layout" in names:
        lay = samples.labels[:, names.index("layout")]
        known &= (lay < 0) | (lay == spec.head("layout").index("single"))
    return np.flatnonzero(known)


def permute(samples: Samples, spec: PlateSpec, out: str | os.PathLike, config: PermuteConfig = PermuteConfig()) -> Path:
    """Write ``config.count`` recombined plates (``images/`` + ``labels.txt`` + ``meta.json``)."""
    from tqdm import tqdm

    rows = _eligible(samples, spec)
    if len(rows) < 2:
        raise DataError(f"character permutation needs at least 2 single-row 7-character crops, got {len(rows)}")
    if config.count < 1:
        raise DataError(f"number of plates must be positive, got {config.count}")
    chars = [spec.names.index(h.name) for h in spec.char_heads][:N_CHARS]
    images = [np.asarray(load_rgb(samples.paths[r]), np.float32) for r in rows]
    means = [im.reshape(-1, 3).mean(0) + 1 for im in images]  # per crop, for the brightness match
    by_first: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_first[int(samples.labels[r, chars[0]])].append(i)
    firsts = sorted(by_first)
    rng = np.random.default_rng(config.seed)
    out = Path(out)
    start = time.time()
    first_counts: dict[str, int] = defaultdict(int)
    with atomic_path(out) as tmp:
        (tmp / "images").mkdir(parents=True)
        lines = []
        for k in tqdm(range(config.count), desc=f"permute {out.name}", unit="plate", disable=config.count < 2000):
            canvas, label = _recombine(rng, images, means, samples.labels[rows], chars, by_first, firsts, config)
            first_counts[spec.char_heads[0].classes[label[chars[0]]]] += 1
            name = f"images/{k:07d}.jpg"
            buf = io.BytesIO()
            Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=config.quality)
            (tmp / name).write_bytes(buf.getvalue())
            lines.append(" ".join([name, *map(str, label)]))
        (tmp / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_json(
            tmp / "meta.json",
            {
                "generator": "plates.synth.permute",
                "sources": len(rows),
                **dataclasses.asdict(config),
                "first_char_counts": dict(sorted(first_counts.items(), key=lambda kv: -kv[1])),
                "heads": spec.to_dict(),
                "seconds": round(time.time() - start, 1),
            },
        )
    logger.info("wrote %d permuted plates from %d real crops to %s", config.count, len(rows), out)
    return out


def _recombine(
    rng: np.random.Generator,
    images: list[np.ndarray],
    means: list[np.ndarray],
    labels: np.ndarray,
    chars: list[int],
    by_first: dict[int, list[int]],
    firsts: list[int],
    config: PermuteConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """One new plate: a base crop whose character slabs each come from a random donor crop
    (the province slab from a random province first when ``balance_first``), and its label."""
    base = int(rng.integers(len(images)))
    canvas = images[base].copy()
    h, w = canvas.shape[:2]
    label = labels[base].copy()
    for pos, (x0, x1) in enumerate(slab_edges(w)):
        if pos == 0 and config.balance_first:
            group = by_first[firsts[rng.integers(len(firsts))]]
            donor = group[rng.integers(len(group))]
        else:
            donor = int(rng.integers(len(images)))
        src = images[donor]
        if src.shape[:2] != (h, w):
            resized = Image.fromarray(src.astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR)
            src = np.asarray(resized, np.float32)
        slab = src[:, x0:x1]
        if config.match_brightness:
            slab = slab * (means[base] / means[donor])
        canvas[:, x0:x1] = slab
        label[chars[pos]] = labels[donor, chars[pos]]
    return canvas, label

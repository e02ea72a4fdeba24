"""Character permutation: new real-looking plates cut and recombined from real crops.

Laroca et al. (2025, "Advancing Multinational License Plate Recognition Through Synthetic and
Real Data Fusion") found that recombining the character cells of a few real plates adds real
glyphs in new contexts, which synthetic rendering cannot. Each single-row 7-character crop is
first fitted with the GA 36 layout (``fit_cells``: where its 7 character cells sit, from the
column profile of the pixels that differ from the plate's background), because real crops have
margins, cut ends and other scales, and fixed slabs would cut glyphs. A new plate takes a base
crop and replaces each of its cells by a cell of a donor, resized to fit, so the label is the
donors' characters.

Donors are balanced, since real sets are not: the province donor is drawn uniformly over the
provinces present (a dev set that is 96% one province would keep teaching that every plate is
that province), or, with ``province_power`` p, in proportion to the number of crops holding a
province to the power p: a province held by one crop but drawn as often as one held by a
thousand shows that one crop's glyph (and its camera's look) on every twelfth plate, which
teaches that look more than the province. Half the other cells draw their character uniformly
over the characters present at any position that may hold it (a letter of position 4 can fill position 2), so that
glyphs the real crops rarely show at a position (C, Q, G after the province) are seen there
often, while the other half keep the real mix (mostly digits)."""

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
_PLATE_MM = 440.0  # GA 36 single-row plate width
CELL_MM = 45.0


@dataclasses.dataclass(frozen=True)
class PermuteConfig:
    """How many plates, from which seed, and how donors are drawn and matched."""

    count: int = 5000
    seed: int = 0
    balance_first: bool = True  # draw the province donor by province (uniformly, or by province_power)
    # with balance_first: a province's draw weight is (crops holding it) ** province_power; 0 is
    # uniform over the provinces present, 1 the real mix
    province_power: float = 0.0
    # the share of the other positions' cells whose character is drawn uniformly, from any position
    # (the rest keep the real mix of that position: plates are mostly digits)
    balance_glyphs: float = 0.5
    match_brightness: bool = True  # scale each donor cell to the base crop's mean colour
    min_fit: float = 0.2  # crops whose cells stand out less from their gaps are left out (fit_cells)
    quality: int = 95
    # with province donors: the share of plates whose province comes from a donor (the rest from
    # the real crops' provinces); None draws uniformly over every province, real or donated
    donor_share: float | None = None

    def __post_init__(self) -> None:
        if self.donor_share is not None and not 0.0 <= self.donor_share <= 1.0:
            raise DataError(f"the donor share must be in [0, 1], got {self.donor_share}")
        if not 0.0 <= self.province_power <= 1.0:
            raise DataError(f"the province power must be in [0, 1], got {self.province_power}")


def layout_mm() -> tuple[np.ndarray, float, np.ndarray]:
    """(centres of the 7 cells, their pitch (cell + gap), the empty columns between cells as
    (start, end)) in mm: the 5 regular gaps and the separator's gap on either side of its dot.
    The separator is what tells the layout from itself shifted by one cell."""
    _, boxes, (dot, _) = layout_boxes("blue", "single", N_CHARS)
    centres = np.array([x + w / 2 for x, _, w, _ in boxes])
    pitch = boxes[3][0] - boxes[2][0]
    gaps = [(a[0] + a[2], b[0]) for i, (a, b) in enumerate(zip(boxes[:-1], boxes[1:], strict=True)) if i != 1]
    gaps += [(boxes[1][0] + boxes[1][2], dot - 6), (dot + 6, boxes[2][0])]
    return centres, float(pitch), np.array(gaps)


def _profile(values: np.ndarray) -> np.ndarray:
    """``values`` scaled to 0..1 between their 5th and 95th percentiles."""
    lo, hi = np.percentile(values, 5), np.percentile(values, 95)
    return np.clip((values - lo) / max(hi - lo, 1e-6), 0, 1)


def fit_cells(image: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int], float]:
    """(x centres of the 7 character cells in pixels, the cell pitch in pixels, the rows (top,
    bottom) the characters span, the fit score) of a single-row crop: the GA 36 layout at the
    scale and offset whose cells hold the most character pixels and whose gaps the fewest.
    Character pixels are those far from the crop's median colour (the background), white on
    blue or black on yellow alike; the score is the cells' mean minus the gaps' mean of that
    column profile scaled to 0..1 (near 0: no plate layout)."""
    img = np.asarray(image, np.float32)
    h, w = img.shape[:2]
    far = np.abs(img - np.median(img.reshape(-1, 3), 0)).sum(-1)
    cum = np.concatenate(
        [[0.0], np.cumsum(_profile(far[int(0.25 * h) : max(int(0.75 * h), int(0.25 * h) + 1)].mean(0)))]
    )
    centres, pitch, gaps = layout_mm()
    mm = (w / _PLATE_MM) * np.linspace(0.85, 1.35, 51)[:, None, None]  # px per mm: plate 85%..135% of the crop
    mid = w / 2 + w * np.linspace(-0.06, 0.06, 25)[None, :, None]  # the plate's centre in px
    left = mid - _PLATE_MM / 2 * mm  # (S, O, 1)

    def mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ai = np.floor(np.clip(a, 0, w)).astype(int)
        bi = np.ceil(np.clip(b, 0, w)).astype(int)
        return (cum[bi] - cum[ai]) / np.maximum(bi - ai, 1)

    px = left + mm * centres  # (S, O, 7)
    cells = mean(px - mm * CELL_MM / 2, px + mm * CELL_MM / 2).mean(-1)
    gap = mean(left + mm * gaps[:, 0], left + mm * gaps[:, 1]).mean(-1)
    score = cells - gap
    i, j = np.unravel_index(np.argmax(score), score.shape)
    x = px[i, j]
    # the character rows: where the cells' columns (not the gaps, not the frame) hold character pixels
    cols = np.concatenate(
        [np.arange(int(c - 0.3 * pitch * mm[i, 0, 0]), int(c + 0.3 * pitch * mm[i, 0, 0])) for c in x]
    )
    rows = _profile(far[:, np.clip(cols, 0, w - 1)].mean(1)) > 0.5
    top, bottom = (int(np.argmax(rows)), int(h - np.argmax(rows[::-1]))) if rows.any() else (0, h)
    return x, float(pitch * mm[i, 0, 0]), (top, bottom), float(score[i, j])


@dataclasses.dataclass
class _Crop:
    image: np.ndarray  # float32 (h, w, 3)
    label: np.ndarray
    centres: np.ndarray  # fit_cells
    pitch: float
    rows: tuple[int, int]  # the characters' top and bottom rows
    mean: np.ndarray  # mean colour, for the brightness match

    def span(self, pos: int) -> tuple[int, int]:
        """Pixel columns [x0, x1) of cell ``pos``: one pitch wide around its centre (may pass the crop)."""
        x0 = int(round(self.centres[pos] - self.pitch / 2))
        return x0, max(int(round(self.centres[pos] + self.pitch / 2)), x0 + 1)

    def band(self) -> tuple[int, int]:
        """Rows [y0, y1) a cell is cut from and pasted to: the characters and a little of the plate."""
        top, bottom = self.rows
        pad = max(1, int(round(0.15 * (bottom - top))))
        return max(top - pad, 0), min(bottom + pad, self.image.shape[0])

    def cell(self, pos: int) -> np.ndarray:
        """The pixels of cell ``pos`` in the character band, edges replicated where it passes the crop."""
        x0, x1 = self.span(pos)
        y0, y1 = self.band()
        return self.image[y0:y1, np.clip(np.arange(x0, x1), 0, self.image.shape[1] - 1)]


def _eligible(samples: Samples, spec: PlateSpec, province: bool = True) -> np.ndarray:
    """Rows with all 7 characters known (the province too unless ``province`` is False) and no
    8th: single-row plates the cells fit."""
    names = spec.names
    chars = [names.index(h.name) for h in spec.char_heads]
    known = (samples.labels[:, chars[int(not province) : N_CHARS]] >= 0).all(1)
    if len(chars) > N_CHARS:
        eighth = spec.char_heads[N_CHARS]
        known &= samples.labels[:, chars[N_CHARS]] == eighth.index("")
    if "layout" in names:
        lay = samples.labels[:, names.index("layout")]
        known &= (lay < 0) | (lay == spec.head("layout").index("single"))
    return np.flatnonzero(known)


def fit_crops(samples: Samples, spec: PlateSpec, min_fit: float, province: bool = True) -> tuple[list[_Crop], int]:
    """The eligible crops (``_eligible``) whose 7 cells ``fit_cells`` finds with a score of at least
    ``min_fit``, and how many it left out."""
    crops, misfit = [], 0
    for r in _eligible(samples, spec, province):
        image = np.asarray(load_rgb(samples.paths[r]), np.float32)
        centres, pitch, rows, score = fit_cells(image)
        # left out: no layout found, no character rows, or the province cell mostly cut off
        cut = centres[0] < 0.25 * pitch or centres[-1] > image.shape[1] - 0.25 * pitch
        if score < min_fit or rows[1] - rows[0] < 0.3 * image.shape[0] or cut:
            misfit += 1
            continue
        crops.append(_Crop(image, samples.labels[r], centres, pitch, rows, image.reshape(-1, 3).mean(0) + 1))
    return crops, misfit


def _fitted_sources(
    samples: Samples, province_donors: Samples | None, spec: PlateSpec, config: PermuteConfig
) -> tuple[list[_Crop], list[_Crop], dict[str, int]]:
    """The fitted base crops and province donors, and how many of each the layout fit left out."""
    crops, misfit = fit_crops(samples, spec, config.min_fit)
    if len(crops) < 2:
        raise DataError(
            "character permutation needs at least 2 single-row 7-character crops whose cells can be "
            f"found, got {len(crops)} ({misfit} left out by the layout fit)"
        )
    if misfit:
        logger.warning("left out %d crops whose character cells the layout fit did not find", misfit)
    donors, donor_misfit = fit_crops(province_donors, spec, config.min_fit) if province_donors is not None else ([], 0)
    if province_donors is not None and not donors:
        raise DataError(f"no province donor's character cells could be found ({donor_misfit} left out by the fit)")
    return crops, donors, {"left_out_by_fit": misfit, "province_donors_left_out_by_fit": donor_misfit}


def permute(
    samples: Samples,
    spec: PlateSpec,
    out: str | os.PathLike,
    config: PermuteConfig = PermuteConfig(),
    province_donors: Samples | None = None,
) -> Path:
    """Write ``config.count`` recombined plates (``images/`` + ``labels.txt`` + ``meta.json``).

    ``province_donors`` (e.g. synthetic plates) give province cells only, never a base crop or
    another cell: real crops hold few provinces (a camera sees its region), so without them the
    permuted plates teach that a real-looking plate is one of those few. A province cell is taken
    from a donor of the base crop's colour where there is one (a yellow plate's dark glyph on a
    blue plate would invert it)."""
    from tqdm import tqdm

    if config.count < 1:
        raise DataError(f"number of plates must be positive, got {config.count}")
    chars = [spec.names.index(h.name) for h in spec.char_heads][:N_CHARS]
    crops, donors, fit = _fitted_sources(samples, province_donors, spec, config)
    pools, donated = _donor_pools(crops, donors, spec, chars, config)
    cells = crops + donors
    colour = spec.names.index("colour") if "colour" in spec.names else None
    rng = np.random.default_rng(config.seed)
    out = Path(out)
    start = time.time()
    first_counts: dict[str, int] = defaultdict(int)
    with atomic_path(out) as tmp:
        (tmp / "images").mkdir(parents=True)
        lines = []
        for k in tqdm(range(config.count), desc=f"permute {out.name}", unit="plate", disable=config.count < 2000):
            canvas, label = _recombine(rng, crops, cells, pools, donated, chars, config, colour)
            first_counts[spec.char_heads[0].classes[label[chars[0]]]] += 1
            lines.append(write_plate(tmp, k, canvas, label, config.quality))
        (tmp / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_json(
            tmp / "meta.json",
            {
                "generator": "plates.synth.permute",
                "sources": len(crops),
                "province_donors": len(donors),
                **fit,
                **dataclasses.asdict(config),
                "first_char_counts": dict(sorted(first_counts.items(), key=lambda kv: -kv[1])),
                "heads": spec.to_dict(),
                "seconds": round(time.time() - start, 1),
            },
        )
    logger.info("wrote %d permuted plates from %d real crops to %s", config.count, len(crops), out)
    return out


def write_plate(folder: Path, k: int, pixels: np.ndarray, label: np.ndarray, quality: int) -> str:
    """Write plate ``k`` as ``folder/images/<k>.jpg``; its line of ``labels.txt``."""
    name = f"images/{k:07d}.jpg"
    buf = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    (folder / name).write_bytes(buf.getvalue())
    return " ".join([name, *map(str, label)])


#: per position: {class id: the (crop, position) cells that hold it}
_Pools = list[dict[int, list[tuple[int, int]]]]


def _donor_pools(
    crops: list[_Crop], donors: list[_Crop], spec: PlateSpec, chars: list[int], config: PermuteConfig
) -> tuple[_Pools, dict[int, list[tuple[int, int]]]]:
    """For each position, the donor cells of each class: the province only from the first
    position, the others from every position but the first whose character this position's head
    knows (only from the same position when ``balance_glyphs`` is 0). Then the province donors'
    cells (indexed after the crops): in the province pool when ``config.donor_share`` is None
    (uniform over every province), else apart, with an empty one in their place."""
    heads = spec.char_heads[:N_CHARS]
    pools: _Pools = [defaultdict(list) for _ in range(N_CHARS)]
    for c, crop in enumerate(crops):
        for q in range(N_CHARS):
            text = heads[q].classes[int(crop.label[chars[q]])]
            for p in range(N_CHARS):
                if p == q or (config.balance_glyphs > 0 and p > 0 and q > 0 and text in heads[p].classes):
                    pools[p][heads[p].classes.index(text)].append((c, q))
    donated: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for d, donor in enumerate(donors):
        (pools[0] if config.donor_share is None else donated)[int(donor.label[chars[0]])].append((len(crops) + d, 0))
    return pools, donated


def _recombine(
    rng: np.random.Generator,
    crops: list[_Crop],
    cells: list[_Crop],
    pools: _Pools,
    donated: dict[int, list[tuple[int, int]]],
    chars: list[int],
    config: PermuteConfig,
    colour: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One new plate: a base crop (of ``crops``) whose 7 cells each come from a donor cell (of
    ``cells``, which the pools index), and its label. ``donated``: the province donors' cells,
    drawn for ``config.donor_share`` of the plates (empty when they are in ``pools[0]``)."""
    base = crops[int(rng.integers(len(crops)))]
    canvas = base.image.copy()
    w = canvas.shape[1]
    y0, y1 = base.band()
    label = base.label.copy()
    for pos in range(N_CHARS):
        balanced = config.balance_first if pos == 0 else rng.random() < config.balance_glyphs
        if balanced:  # a class first, then one of its cells (of the base's colour where there is one)
            pool = pools[pos]
            if pos == 0 and donated and rng.random() < (config.donor_share or 0.0):
                pool = donated
            classes = sorted(pool)
            if pos == 0 and config.province_power:
                weight = np.array([len(pool[c]) for c in classes], np.float64) ** config.province_power
                cls = classes[int(rng.choice(len(classes), p=weight / weight.sum()))]
            else:
                cls = classes[int(rng.integers(len(classes)))]
            options = pool[cls]
            if colour is not None and base.label[colour] >= 0:
                same = [cq for cq in options if cells[cq[0]].label[colour] == base.label[colour]]
                options = same or options
            c, q = options[int(rng.integers(len(options)))]
        else:  # the same position of a random crop: classes as often as the crops have them
            c, q = int(rng.integers(len(crops))), pos
            cls = int(crops[c].label[chars[pos]])
        donor = cells[c]
        x0, x1 = base.span(pos)
        cell = Image.fromarray(np.clip(donor.cell(q), 0, 255).astype(np.uint8))
        pixels = np.asarray(cell.resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR), np.float32)
        if config.match_brightness:
            pixels = pixels * (base.mean / donor.mean)
        a, b = max(x0, 0), min(x1, w)
        if a < b:
            canvas[y0:y1, a:b] = pixels[:, a - x0 : b - x0]
        label[chars[pos]] = cls
    return canvas, label

"""Crops whose left edge cuts into the province character, labelled UNSURE for the province.

A detector's box that starts inside the province Hanzi leaves a part of a glyph that several
provinces share; a model trained only on whole glyphs (or on cut ones with their label kept)
reads that part as some province with full confidence, and one such confident misreading sets
the threshold of a whole operating point. These crops teach the province head to be unsure of
a cut glyph instead: the real crop's cells are found with the GA 36 layout (``fit_cells``), the
left end is cut a random depth into the first cell, and the province label becomes
``UNSURE`` (a uniform target; the other characters keep their labels) where the cut goes deeper
than ``unsure_from``. Shallower cuts keep the label: real crops from tight boxes show province
glyphs of every province touching the left edge, where the training crops that do are mostly of
the one province of a tight-cropped dev set."""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from pathlib import Path

import numpy as np

from plates import logger
from plates.atomic import atomic_path, write_json
from plates.codec import UNSURE
from plates.errors import DataError
from plates.readers import Samples
from plates.spec import PlateSpec
from plates.synth.permute import CELL_MM, PermuteConfig, fit_crops, layout_mm, write_plate


@dataclasses.dataclass(frozen=True)
class CutConfig:
    """How many crops, from which seed, and how deep into the province cell the cut goes."""

    count: int = 5000
    seed: int = 0
    # the share of the province cell's width cut off, drawn uniformly in [lo, hi]: 0 is the cell's
    # left edge, 1 its right edge (the whole glyph gone)
    depth: tuple[float, float] = (0.2, 0.9)
    # cuts shallower than this keep the province label (a glyph with its left edge gone is still
    # read, whatever its province), deeper ones are UNSURE; 0: every crop is UNSURE
    unsure_from: float = 0.0
    min_fit: float = PermuteConfig.min_fit  # crops whose cells the layout fit finds less surely are left out
    quality: int = 95

    def __post_init__(self) -> None:
        lo, hi = self.depth
        if not 0.0 <= lo <= hi <= 1.0:
            raise DataError(f"the cut depth must be LO,HI with 0 <= LO <= HI <= 1, got {lo},{hi}")
        if not 0.0 <= self.unsure_from <= 1.0:
            raise DataError(f"the depth from which the province is unsure must be in [0, 1], got {self.unsure_from}")
        if self.count < 1:
            raise DataError(f"number of crops must be positive, got {self.count}")


@functools.cache
def _cell_share() -> float:
    """A character cell's width as a share of the layout's pitch (cell + gap)."""
    return CELL_MM / layout_mm()[1]


def cut_column(centre: float, pitch: float, depth: float) -> int:
    """The first pixel column kept when a crop is cut ``depth`` of the way into the cell centred
    at ``centre`` (cells are ``CELL_MM`` of a ``pitch`` of the layout wide)."""
    cell = pitch * _cell_share()
    return max(int(round(centre - cell / 2 + depth * cell)), 1)


def cut_province(samples: Samples, spec: PlateSpec, out: str | os.PathLike, config: CutConfig = CutConfig()) -> Path:
    """Write ``config.count`` cut crops of ``samples`` (``images/`` + ``labels.txt`` + ``meta.json``).

    Any single-row 7-character crop whose cells the layout fit finds is a source, whether its
    province is known or not (pseudo-labelled crops often mask it): a deep cut makes it UNSURE,
    and a shallow one keeps what the source had, unknown included."""
    from tqdm import tqdm

    crops, misfit = fit_crops(samples, spec, config.min_fit, province=False)
    if not crops:
        raise DataError(f"no single-row 7-character crop whose cells the layout fit finds ({misfit} left out)")
    if misfit:
        logger.warning("left out %d crops whose character cells the layout fit did not find", misfit)
    first = spec.names.index(spec.char_heads[0].name)
    rng = np.random.default_rng(config.seed)
    out = Path(out)
    start = time.time()
    with atomic_path(out) as tmp:
        (tmp / "images").mkdir(parents=True)
        lines, unsure = [], 0
        for k in tqdm(range(config.count), desc=f"cut {out.name}", unit="crop", disable=config.count < 2000):
            crop = crops[int(rng.integers(len(crops)))]
            depth = float(rng.uniform(*config.depth))
            x = cut_column(crop.centres[0], crop.pitch, depth)
            label = crop.label.copy()
            if depth >= config.unsure_from:
                label[first] = UNSURE
                unsure += 1
            lines.append(write_plate(tmp, k, crop.image[:, x:], label, config.quality))
        (tmp / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_json(
            tmp / "meta.json",
            {
                "generator": "plates.synth.cut",
                "sources": len(crops),
                "left_out_by_fit": misfit,
                "unsure": unsure,
                **dataclasses.asdict(config),
                "heads": spec.to_dict(),
                "seconds": round(time.time() - start, 1),
            },
        )
    logger.info("wrote %d crops cut into the province cell from %d real crops to %s", config.count, len(crops), out)
    return out

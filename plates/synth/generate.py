"""Sample plate texts and kinds, render, degrade, and write a labelled set.

Output folder: ``images/0000000.jpg ...`` plus ``labels.txt`` in the seed format (one int
per head of the default spec) and ``meta.json``. Work is split in fixed chunks seeded by
(seed, chunk), so the same seed gives the same images whatever the number of processes."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from plates import logger
from plates.atomic import atomic_path, write_json
from plates.codec import encode
from plates.spec import DIGITS, LETTERS, PROVINCES, PlateSpec, default_spec
from plates.synth.degrade import camera, photometric, place
from plates.synth.render import RenderConfig, render_plate

CHUNK = 256


@dataclasses.dataclass(frozen=True)
class Mix:
    """Plate-kind mix and text priors, close to real traffic: mostly blue, every province alike.

    No province gets extra weight by default: a dev set from one city (CCPD is 96% 皖) already
    teaches that prior, and a synthetic one on top makes the model read other provinces as the
    home one. ``home_province``/``home_weight`` are there for a deployment that is local."""

    blue: float = 0.70
    yellow: float = 0.07
    yellow_double: float = 0.05
    green: float = 0.10
    white: float = 0.04
    black: float = 0.04
    home_province: str = "皖"
    home_weight: float = 0.0  # extra probability mass on one province
    a_weight: float = 0.2  # extra mass on letter A (capital-city plates are common)

    def kinds(self) -> tuple[list[str], np.ndarray]:
        names = ["blue", "yellow", "yellow_double", "green", "white", "black"]
        p = np.asarray([getattr(self, n) for n in names], np.float64)
        return names, p / p.sum()


@dataclasses.dataclass(frozen=True)
class PlateSample:
    text: str
    colour: str
    layout: str


def _province(rng: np.random.Generator, mix: Mix) -> str:
    if rng.random() < mix.home_weight:
        return mix.home_province
    return PROVINCES[rng.integers(len(PROVINCES))]


def _letter(rng: np.random.Generator, mix: Mix) -> str:
    return "A" if rng.random() < mix.a_weight else LETTERS[rng.integers(len(LETTERS))]


def _alnum(rng: np.random.Generator, n: int, p_digit: float = 0.7) -> str:
    return "".join(DIGITS[rng.integers(10)] if rng.random() < p_digit else LETTERS[rng.integers(24)] for _ in range(n))


def sample_plate(rng: np.random.Generator, mix: Mix = Mix()) -> PlateSample:
    """One plate text with its colour and layout, following Chinese numbering rules."""
    names, p = mix.kinds()
    kind = names[rng.choice(len(names), p=p)]
    head = _province(rng, mix) + _letter(rng, mix)
    if kind == "green":
        digits = "".join(DIGITS[rng.integers(10)] for _ in range(5))
        if rng.random() < 0.75:  # small cars: D/F (or another energy letter) first
            energy = "DF"[rng.integers(2)] if rng.random() < 0.8 else "ABCEGHJK"[rng.integers(8)]
            second = LETTERS[rng.integers(24)] if rng.random() < 0.3 else DIGITS[rng.integers(10)]
            return PlateSample(head + energy + second + digits[:4], "green", "single")
        return PlateSample(head + digits + "DF"[rng.integers(2)], "green", "single")
    if kind == "white":
        return PlateSample(head + _alnum(rng, 4, 0.85) + "警", "white", "single")
    if kind == "black":
        return PlateSample(head + _alnum(rng, 4, 0.85) + "港澳领使"[rng.integers(4)], "black", "single")
    if kind == "yellow_double":
        last = "挂" if rng.random() < 0.25 else _alnum(rng, 1)
        return PlateSample(head + _alnum(rng, 4) + last, "yellow", "double")
    if kind == "yellow":
        last = "学" if rng.random() < 0.15 else _alnum(rng, 1)
        return PlateSample(head + _alnum(rng, 4) + last, "yellow", "single")
    return PlateSample(head + _alnum(rng, 5), "blue", "single")


def crop_size(sample: PlateSample, rng: np.random.Generator) -> tuple[int, int]:
    """Crop (w, h): log-uniform width from low-res detector crops (94 px) to close-ups."""
    w = int(np.exp(rng.uniform(np.log(70), np.log(260))))
    aspect = (2.0 if sample.layout == "double" else 3.9) * rng.uniform(0.85, 1.15)
    return w, max(12, int(round(w / aspect)))


def make_image(sample: PlateSample, rng: np.random.Generator, render: RenderConfig = RenderConfig()) -> bytes:
    """JPEG bytes of one degraded crop."""
    plate = render_plate(sample.text, sample.colour, sample.layout, rng, render)
    img = place(plate, crop_size(sample, rng), rng)
    return camera(photometric(img, rng), rng)


def _chunk(args: tuple[int, int, int, Mix, RenderConfig]) -> list[tuple[PlateSample, bytes]]:
    seed, chunk, count, mix, render = args
    rng = np.random.default_rng([seed, chunk])
    out = []
    for _ in range(count):
        s = sample_plate(rng, mix)
        out.append((s, make_image(s, rng, render)))
    return out


def iter_plates(
    n: int, seed: int = 0, mix: Mix = Mix(), workers: int | None = None, render: RenderConfig = RenderConfig()
) -> Iterator[tuple[PlateSample, bytes]]:
    """Yield ``n`` (sample, jpeg bytes) in a seed-determined order, using ``workers`` processes."""
    jobs = [(seed, c, min(CHUNK, n - c * CHUNK), mix, render) for c in range((n + CHUNK - 1) // CHUNK)]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            yield from _chunk(job)
        return
    ctx = mp.get_context("spawn" if os.environ.get("PLATES_SPAWN") else "fork")
    with ctx.Pool(workers) as pool:
        for chunk in pool.imap(_chunk, jobs):
            yield from chunk


def generate(
    out: str | os.PathLike,
    n: int,
    seed: int = 0,
    mix: Mix = Mix(),
    workers: int | None = None,
    spec: PlateSpec | None = None,
    progress: bool = True,
    render: RenderConfig = RenderConfig(),
) -> Path:
    """Write ``n`` synthetic crops and their labels into ``out`` (created atomically)."""
    from tqdm import tqdm

    spec = spec or default_spec()
    out = Path(out)
    if n < 1:
        raise ValueError(f"number of plates must be positive, got {n}")
    start = time.time()
    with atomic_path(out) as tmp:
        (tmp / "images").mkdir(parents=True)
        lines = []
        kinds: dict[str, int] = {}
        bar = tqdm(total=n, desc=f"synth {out.name}", unit="plate", disable=not progress, smoothing=0.05)
        for i, (s, jpeg) in enumerate(iter_plates(n, seed, mix, workers, render)):
            name = f"images/{i:07d}.jpg"
            (tmp / name).write_bytes(jpeg)
            labels = encode(spec, s.text, {"colour": s.colour, "layout": s.layout})
            lines.append(" ".join([name, *map(str, labels)]))
            key = s.colour + ("_double" if s.layout == "double" else "")
            kinds[key] = kinds.get(key, 0) + 1
            bar.update()
        bar.close()
        (tmp / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_json(
            tmp / "meta.json",
            {
                "generator": "plates.synth",
                "count": n,
                "seed": seed,
                "mix": dataclasses.asdict(mix),
                "render": dataclasses.asdict(render),
                "kinds": kinds,
                "heads": spec.to_dict(),
                "seconds": round(time.time() - start, 1),
            },
        )
    logger.info("wrote %d synthetic plates to %s in %.1fs", n, out, time.time() - start)
    return out

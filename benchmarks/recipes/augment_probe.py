"""Training input pipeline alone: images/s of the augmentation mapped image by image (as
training did before augment_batch) against a batch at a time (``plates.pipeline.augment_batch``), same crops, same
augmentation (the round-4 students': loose and tight crops, tilt 12, shear 12, perspective 0.2),
timed in turns in the same run (augment_pipeline.md / .json).

Why: the students with the round-4 tilt trained at 150-260 images/s against 340-480 before it,
on a 2-core host where the input pipeline and the training step share the cores. Run from the
repository root with nothing else running:
``.venv/bin/python benchmarks/recipes/augment_probe.py [SRC]`` (default: the real-dev training half)."""

from __future__ import annotations

import sys

import numpy as np

from plates.atomic import write_json, write_text
from plates.keras import tf
from plates.pipeline import Augment, augment_batch, augment_image, decode_unique
from plates.readers import read_any
from plates.runinfo import command, machine, versions
from plates.spec import default_spec
from plates.timing import measure_in_turns

AUG = Augment(zoom_out=0.15, zoom_in=0.04, rotate=12.0, shear=12.0, perspective=0.2)
SIZE, BATCH, BATCHES = (32, 128), 64, 20
OUT = "benchmarks/results/augment_pipeline"


def pipeline(images: np.ndarray, per_image: bool) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices(images).repeat().shuffle(1024, seed=0)
    if per_image:
        ds = ds.map(lambda x: augment_image(tf.cast(x, tf.float32), AUG), num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.batch(BATCH)
    else:
        ds = ds.batch(BATCH).map(
            lambda x: augment_batch(tf.cast(x, tf.float32), AUG), num_parallel_calls=tf.data.AUTOTUNE
        )
    return ds.prefetch(tf.data.AUTOTUNE)


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else "runs/real-dev-split/train.txt"
    images = decode_unique(read_any(src, default_spec()), SIZE)[0]
    iterators = {name: iter(pipeline(images, name == "per image")) for name in ("per image", "per batch")}
    fns = [lambda it=it: [next(it) for _ in range(BATCHES)] for it in iterators.values()]
    stats = measure_in_turns(fns, warmup=2, runs=10, min_seconds=20.0, rounds=3, batches=[BATCH * BATCHES] * 2)
    rows = {
        name: {"images_per_second": BATCH * BATCHES / s["p50_ms"] * 1000, **s}
        for name, s in zip(iterators, stats, strict=True)
    }
    result = {
        "command": command(),
        "machine": machine(),
        "versions": versions(),
        "threads": "tf.data default (both cores)",
        "augment": {k: v for k, v in vars(AUG).items()},
        "batch": BATCH,
        "timed_unit": f"{BATCHES} batches of {BATCH}",
        "source": src,
        "rows": rows,
    }
    write_json(OUT + ".json", result)
    lines = [
        "# Training input pipeline: augmentation per image or per batch",
        "",
        f"- command: `{result['command']}`",
        f"- machine: {result['machine']}",
        f"- versions: {result['versions']}",
        f"- threads: {result['threads']}; augmentation: the round-4 students' ({AUG.zoom_out} looser, {AUG.zoom_in} "
        f"tighter per side, tilt {AUG.rotate}, shear {AUG.shear}, perspective {AUG.perspective}, colour defaults)",
        f"- timed: {BATCHES} batches of {BATCH} per call, after warm-up, in turns (3 rounds); crops from `{src}`",
        "",
        "| pipeline | images/s (p50) | p50 ms | p90 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['images_per_second']:.0f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} |"
        )
    write_text(OUT + ".md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Do two models make different mistakes? Plate accuracy of each model and of the mean of their
probabilities (docs/experiments/026).

A pair that reads more together than either alone makes different mistakes: worth one model
that holds both. Each folder is a Keras model folder or a bundle (TFLite, ONNX: so int8 pairs can
be read too), every model at its own input size. Run from the repository root (after
benchmarks/recipes/setup.sh's split):

    .venv/bin/python benchmarks/recipes/ensemble_probe.py FOLDER FOLDER [FOLDER ...]

plates-real-val is read, never trained on."""

from __future__ import annotations

import argparse

import numpy as np

from deploy.runner import batched_probs, create_runner
from plates.bundle import read_labels
from plates.codec import top_labels
from plates.metrics import plate_correct
from plates.pipeline import load_images
from plates.readers import read_sources

SETS = {"plates-real-val": "../shared/data/plates-real-val", "held-out dev half": "runs/real-dev-split/val.txt"}


def plate_accuracy(spec, labels: np.ndarray, members: list[dict[str, np.ndarray]]) -> float:
    """Full-plate accuracy of the mean of the members' probabilities."""
    pred = top_labels(spec, {h: np.mean([p[h] for p in members], 0) for h in spec.names})
    return float(plate_correct(spec, labels, pred).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="model or bundle folders (the same heads)")
    args = parser.parse_args()
    models = [(create_runner(m, threads=1), read_labels(m)) for m in args.models]
    spec = models[0][1].spec
    print("| set | " + " | ".join(args.models) + " | mean of all |")
    print("|---|" + "---:|" * (len(models) + 1))
    for set_name, src in SETS.items():
        samples = read_sources([src], spec)
        probs = [batched_probs(runner, load_images(samples, info.size)) for runner, info in models]
        members = [[p] for p in probs] + [probs]
        cells = [f"{100 * plate_accuracy(spec, samples.labels, m):.1f}" for m in members]
        print(f"| {set_name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

"""How much a model's read depends on where the crop's edges are (docs/experiments/025, 026).

Reads every plate of each set in nine crops: as given, a share cut off every side (t5, t10), a
border of repeated edge pixels added on every side (l5, l10), and the same on the left and right
only (lr-) or the top and bottom only (tb-). Prints plate accuracy (all character heads right) per
view, the mean of the nine views' probabilities, and the "any view" oracle, as a Markdown table,
and the province (char1) accuracy per view. Keras fp32, so the numbers isolate the model, not
the export. The crops are cut from the image at the model's input size, as ``deploy predict
--views`` does. Run from the repository root (after benchmarks/recipes/setup.sh's split):

    .venv/bin/python benchmarks/recipes/crop_probe.py MODEL [MODEL ...]

The sets are the probe's defaults (``--data`` to change): plates-real-val is read, never trained
on."""

from __future__ import annotations

import argparse

import numpy as np

from deploy.predictor import crop_views
from plates.codec import top_labels
from plates.metrics import plate_correct
from plates.modelio import load_model
from plates.pipeline import load_images
from plates.readers import read_sources
from plates.training import predict_probs

# (left, top, right, bottom) share cut off; negative = that much border added (deploy.predictor.VIEWS)
PROBE_VIEWS: dict[str, tuple[float, float, float, float]] = {
    "given": (0.0, 0.0, 0.0, 0.0),
    "t5": (0.05,) * 4,
    "t10": (0.10,) * 4,
    "l5": (-0.05,) * 4,
    "l10": (-0.10,) * 4,
    "lr-t5": (0.05, 0.0, 0.05, 0.0),
    "tb-t10": (0.0, 0.10, 0.0, 0.10),
    "lr-l5": (-0.05, 0.0, -0.05, 0.0),
    "tb-l10": (0.0, -0.10, 0.0, -0.10),
}
SETS = {"plates-real-val": "../shared/data/plates-real-val", "held-out dev half": "runs/real-dev-split/val.txt"}


def probe(model_dir: str, data: dict[str, str]) -> list[str]:
    model, info = load_model(model_dir)
    rows = []
    for set_name, src in data.items():
        samples = read_sources([src], info.spec)
        images = load_images(samples, info.size)
        views = crop_views(images, list(PROBE_VIEWS.values()))
        probs = predict_probs(model, views)
        n, k = len(images), len(PROBE_VIEWS)
        by_view = {h: p.reshape(n, k, -1) for h, p in probs.items()}
        correct, province = [], []
        for v in range(k):
            pred = top_labels(info.spec, {h: p[:, v] for h, p in by_view.items()})
            correct.append(plate_correct(info.spec, samples.labels, pred))
            province.append((pred[:, 0] == samples.labels[:, 0]).mean())
        mean_pred = top_labels(info.spec, {h: p.mean(1) for h, p in by_view.items()})
        mean_ok = plate_correct(info.spec, samples.labels, mean_pred).mean()
        cells = [f"{100 * c.mean():.1f}" for c in correct]
        rows.append(
            f"| {model_dir} | {set_name} | "
            + " | ".join(cells)
            + f" | {100 * mean_ok:.1f} | {100 * np.any(correct, 0).mean():.1f} |"
        )
        rows.append(f"| (char1) | {set_name} | " + " | ".join(f"{100 * p:.1f}" for p in province) + " | | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="Keras model folders")
    parser.add_argument("--data", action="append", metavar="NAME=SRC", help="sets to read (default: val and dev)")
    args = parser.parse_args()
    data = dict(d.split("=", 1) for d in args.data) if args.data else SETS
    print("| model | set | " + " | ".join(PROBE_VIEWS) + " | mean of 9 | any view |")
    print("|---|---|" + "---:|" * (len(PROBE_VIEWS) + 2))
    for m in args.models:
        print("\n".join(probe(m, data)), flush=True)


if __name__ == "__main__":
    main()

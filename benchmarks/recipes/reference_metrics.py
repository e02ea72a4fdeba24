"""Rewrite models/reference_metrics.json from the shipped cards (run after ship_models.sh, once
the new models are to replace the old): every artefact's full-plate and character accuracy per
evaluation set, and its size as the ceiling. tests/test_shipped.py checks the cards against it.

    .venv/bin/python benchmarks/recipes/reference_metrics.py
"""

from __future__ import annotations

import json
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models"
ABOUT = (
    "The accuracy each shipped artefact was measured at (copied from its card when it shipped; replace only "
    "with a better model). tests/test_shipped.py checks the cards against it, and the slow test re-measures "
    "the bundles on the held-out plates-real-dev half. plates-real-val is the selection set."
)


def main() -> int:
    path = MODELS / "reference_metrics.json"
    old = json.loads(path.read_text(encoding="utf-8"))
    models = {}
    for card_path in sorted(MODELS.glob("*/card.json")):
        card = json.loads(card_path.read_text(encoding="utf-8"))
        for rel, artefact in sorted(card["artefacts"].items()):
            entry = {
                name: {k: round(acc[k], 4) for k in ("plate_accuracy", "char_accuracy")}
                for name, acc in sorted(artefact["accuracy"].items())
            }
            models[f"{card_path.parent.name}/{rel}"] = {**entry, "max_size_bytes": artefact["size_bytes"]}
    result = {"about": ABOUT, "tolerance": old.get("tolerance", 0.002), "models": models}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    print(f"wrote {path} ({len(models)} artefacts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

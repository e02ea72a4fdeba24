"""The shipped models under ``models/``: their files are the ones their cards measured, the
cards agree with ``models/reference_metrics.json``, and every bundle still reads the shipped
sample crops as its card says."""

import json
from pathlib import Path

import pytest

from benchmarks.card import check_card, sample_reads

MODELS = Path(__file__).resolve().parents[1] / "models"
CARDS = sorted(MODELS.glob("*/card.json"))
REFERENCE_FILE = MODELS / "reference_metrics.json"
REFERENCE = json.loads(REFERENCE_FILE.read_text(encoding="utf-8")) if REFERENCE_FILE.exists() else {"models": {}}
DATA = MODELS.parents[1] / "shared" / "data"


def _card(folder: Path) -> dict:
    return json.loads((folder / "card.json").read_text(encoding="utf-8"))


def test_every_model_in_the_reference_metrics_ships_with_a_card():
    assert REFERENCE_FILE.exists()
    shipped = {p.parent.name for p in CARDS}
    assert shipped and shipped == {key.split("/")[0] for key in REFERENCE["models"]}


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.parent.name)
def test_files_match_the_sha256_in_the_card(card):
    assert check_card(card.parent) == []


def test_cards_agree_with_the_reference_metrics():
    tol = REFERENCE["tolerance"]
    for key, sets in REFERENCE["models"].items():
        model, artefact = key.split("/", 1)
        entry = _card(MODELS / model)["artefacts"][artefact]
        assert entry["size_bytes"] <= sets.get("max_size_bytes", float("inf"))
        for set_name, metrics in sets.items():
            if set_name == "max_size_bytes":
                continue
            measured = entry["accuracy"][set_name]
            for metric, value in metrics.items():
                assert measured[metric] == pytest.approx(value, abs=tol), (key, set_name, metric)


BUNDLES = [
    (card.parent, rel) for card in CARDS for rel, a in _card(card.parent)["artefacts"].items() if a["kind"] != "keras"
]


@pytest.mark.parametrize("folder,rel", BUNDLES, ids=lambda x: x if isinstance(x, str) else x.name)
def test_each_bundle_reads_the_sample_crops_as_its_card_says(folder, rel):
    recorded = _card(folder)["artefacts"][rel]["samples"]
    now = sample_reads(folder / rel, MODELS / "samples")
    assert now["images"] == recorded["images"] >= 8
    same = sum(now["reads"][k] == v for k, v in recorded["reads"].items())
    assert same >= recorded["images"] - 1  # a near-tie may flip on another CPU's kernels
    assert now["correct"] >= recorded["correct"] - 1


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "plates-real-dev").exists(), reason="needs ../shared/data/plates-real-dev")
def test_reference_metrics_hold_on_the_held_out_dev_half(tmp_path):
    """Re-measure every bundle in the reference metrics on the set its card was measured on."""
    from deploy.predictor import Predictor
    from deploy.runner import batched_probs
    from plates.bundle import read_labels
    from plates.metrics import evaluate
    from plates.pipeline import load_images
    from plates.readers import read_any, split

    for key, sets in REFERENCE["models"].items():
        if "plates-real-dev-heldout" not in sets or not key.split("/", 1)[1].startswith(("tflite", "onnx")):
            continue
        folder = MODELS / key
        info = read_labels(folder)
        held = split(read_any(DATA / "plates-real-dev", info.spec), 0.5, 0)[1]
        probs = batched_probs(Predictor(folder), load_images(held, info.size))
        measured = evaluate(info.spec, held.labels, probs)["plate_accuracy"]
        expected = sets["plates-real-dev-heldout"]["plate_accuracy"]
        assert measured == pytest.approx(expected, abs=REFERENCE["tolerance"]), key

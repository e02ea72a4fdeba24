"""compress soup: weight averaging of fine-tunes of one model (uniform and greedy)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plates.errors import ModelError, SpecError
from tests.conftest import save_tiny as _save


def test_the_uniform_soup_is_the_mean_of_every_weight_and_a_model_folder_again(spec, tmp_path):
    from compress.soup import make_soup, save_soup
    from plates.modelio import load_model
    from plates.training import predict_probs

    a, b = _save(tmp_path / "a", spec, seed=1), _save(tmp_path / "b", spec, seed=2)
    soup = make_soup([tmp_path / "a", tmp_path / "b"])
    for got, wa, wb in zip(soup.model.get_weights(), a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(got, (wa + wb) / 2, rtol=1e-6, atol=1e-7)
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])  # else the mean proves nothing

    out = save_soup(tmp_path / "soup", soup)
    model, info = load_model(out)
    assert info.extra["soup"] == {"recipe": "uniform", "ingredients": [str(tmp_path / "a"), str(tmp_path / "b")]}
    assert json.loads((out / "soup.json").read_text())["ingredients"] == info.extra["soup"]["ingredients"]
    probs = predict_probs(model, np.zeros((2, *info.size, 3), np.uint8))
    assert set(probs) == {h.name for h in spec.heads}


def test_the_greedy_soup_keeps_an_ingredient_only_if_the_score_does_not_drop(spec, tmp_path):
    from compress.soup import make_soup

    # score: how close the weights are to 0. Alone: b (-0.5) beats a (1.0) beats c (3.0); b + a
    # (0.25) beats b alone, so a stays; b + a + c (1.17) is worse than b + a, so c goes.
    for name, fill in (("a", 1.0), ("b", -0.5), ("c", 3.0)):
        _save(tmp_path / name, spec, fill=fill)
    scored = []

    def score(model, info):
        scored.append(model.get_weights()[0].mean())
        return -abs(float(model.get_weights()[0].mean()))

    soup = make_soup([tmp_path / n for n in "abc"], "greedy", score)
    assert soup.ingredients == [str(tmp_path / "b"), str(tmp_path / "a")]
    np.testing.assert_allclose(soup.model.get_weights()[0], 0.25)
    assert soup.scores["soup"] == pytest.approx(-0.25)
    assert len(scored) == 3 + 2 + 1  # each ingredient, each trial, the soup


def test_models_of_different_architectures_or_heads_make_no_soup(spec, tmp_path):
    from compress.soup import make_soup

    _save(tmp_path / "a", spec)
    _save(tmp_path / "wide", spec, width=8)
    _save(tmp_path / "big", spec, size=(24, 64))
    with pytest.raises(ModelError, match="wide: not the architecture"):
        make_soup([tmp_path / "a", tmp_path / "wide"])
    with pytest.raises(SpecError, match="big: its heads or input size differ"):
        make_soup([tmp_path / "a", tmp_path / "big"])
    with pytest.raises(ModelError, match="at least two"):
        make_soup([tmp_path / "a"])
    with pytest.raises(ValueError, match="validation set"):
        make_soup([tmp_path / "a", tmp_path / "a"], "greedy")


def test_soup_cli_scores_ingredients_and_soup_on_val_and_writes_a_run_folder(spec, tmp_path, synth_dir, capsys):
    from compress.cli import main

    _save(tmp_path / "a", spec, seed=1)
    _save(tmp_path / "b", spec, seed=2)
    out = tmp_path / "soup"
    argv = ["soup", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out), "--val", str(synth_dir)]
    assert main([*argv, "--recipe", "greedy"]) == 0
    printed = capsys.readouterr().out
    record = json.loads((out / "soup.json").read_text())
    metrics = json.loads((out / "eval.json").read_text())
    assert set(record["val_plate_accuracy"]) >= {str(tmp_path / "a"), "soup"}
    assert metrics["plate_accuracy"] == record["val_plate_accuracy"]["soup"]
    assert metrics["n"] == 160
    assert "greedy soup of" in printed and "full-plate accuracy" in printed

"""compress ensemble: several models in one flat graph, each head the mean of their probabilities."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plates.errors import ModelError, SpecError
from tests.conftest import randomise_bn, save_tiny


def _images(info, n=6, seed=3):
    return np.random.default_rng(seed).integers(0, 255, (n, *info.size, 3)).astype(np.float32)


def test_each_head_is_the_mean_of_the_members_also_of_another_input_size(spec, tmp_path):
    from compress.ensemble import make_ensemble, save_ensemble
    from plates.keras import keras, tf
    from plates.modelio import load_model
    from plates.training import predict_probs

    a = save_tiny(tmp_path / "a", spec, seed=1)
    b = save_tiny(tmp_path / "b", spec, seed=2, pooling="attention", width=8, size=(24, 64))
    ensemble = make_ensemble([tmp_path / "a", tmp_path / "b"])
    out = save_ensemble(tmp_path / "pair", ensemble)
    model, info = load_model(out)  # a model folder like any other, custom layers included
    assert info.size == (16, 48)  # the first member's
    assert info.extra["ensemble"]["members"] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert info.extra["architecture"]["ensemble"][1]["architecture"]["pooling"] == "attention"
    # one flat graph: no nested model, every member layer renamed after its member
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)
    inner = [layer.name for layer in model.layers if layer.name not in (*spec.names, "image")]
    assert inner and all(name.startswith(("m0_", "m1_")) for name in inner)

    images = _images(info)
    got = predict_probs(model, images)
    pa = predict_probs(a, images)
    pb = predict_probs(b, tf.image.resize(images, (24, 64)).numpy())
    assert not np.allclose(pa["char1"], pb["char1"], atol=1e-3)  # else the mean proves nothing
    for name in spec.names:
        np.testing.assert_allclose(got[name], (pa[name] + pb[name]) / 2, rtol=1e-5, atol=1e-6)


def test_members_must_share_their_heads_and_be_two(spec, tmp_path):
    from compress.ensemble import make_ensemble

    save_tiny(tmp_path / "a", spec)
    save_tiny(tmp_path / "b", spec)
    labels = tmp_path / "b" / "labels.json"
    data = json.loads(labels.read_text())
    data["heads"][0]["classes"][0] = "X"  # same width, another class list
    labels.write_text(json.dumps(data))
    with pytest.raises(SpecError, match="b: its heads or classes differ"):
        make_ensemble([tmp_path / "a", tmp_path / "b"])
    with pytest.raises(ModelError, match="at least two"):
        make_ensemble([tmp_path / "a"])


def test_ensemble_cli_scores_it_and_the_result_exports_with_parity(spec, tmp_path, synth_dir, capsys):
    from compress.cli import main
    from deploy.export import TFLiteOptions, export_tflite
    from plates.modelio import load_model

    save_tiny(tmp_path / "a", spec, seed=1)
    save_tiny(tmp_path / "b", spec, seed=2, pooling="attention", width=8)
    out = tmp_path / "pair"
    assert main(["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out), "--val", str(synth_dir)]) == 0
    assert "ensemble of 2 models" in capsys.readouterr().out
    assert json.loads((out / "eval.json").read_text())["n"] == 160
    model, info = load_model(out)
    images = _images(info, 16)
    report = export_tflite(model, info, tmp_path / "fp32", TFLiteOptions("fp32"), None, images, 0.999, str(out))
    assert report["xnnpack"]["partitions"] == 1


def test_weights_count_a_member_that_many_times_in_the_mean(spec, tmp_path, capsys):
    from compress.cli import main
    from compress.ensemble import make_ensemble
    from plates.modelio import load_model
    from plates.training import predict_probs

    a = save_tiny(tmp_path / "a", spec, seed=1)
    b = save_tiny(tmp_path / "b", spec, seed=2)
    out = tmp_path / "pair"
    assert main(["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--weights", "1,3", "--out", str(out)]) == 0
    model, info = load_model(out)
    assert info.extra["ensemble"]["weights"] == [1, 3]
    images = _images(info)
    got, pa, pb = predict_probs(model, images), predict_probs(a, images), predict_probs(b, images)
    assert not np.allclose(pa["char1"], pb["char1"], atol=1e-3)
    for name in spec.names:
        np.testing.assert_allclose(got[name], (pa[name] + 3 * pb[name]) / 4, rtol=1e-5, atol=1e-6)
    with pytest.raises(ModelError, match="needs 2 weights"):
        make_ensemble([tmp_path / "a", tmp_path / "b"], weights=[1])
    with pytest.raises(SystemExit):
        main(["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--weights", "1,0", "--out", str(out)])
    assert "--weights" in capsys.readouterr().err


def test_a_weighted_ensemble_slims_exactly(spec, tmp_path):
    """The main job slims the shipped teacher, a weighted ensemble: a member's head repeated in
    the mean must not trip the channel plan."""
    from compress.ensemble import make_ensemble
    from compress.slim import Graph, build, max_output_diff, zero_gamma_keep

    save_tiny(tmp_path / "a", spec, seed=1)
    save_tiny(tmp_path / "b", spec, seed=2, pooling="attention", width=8)
    ensemble = make_ensemble([tmp_path / "a", tmp_path / "b"], weights=[1, 2])
    # a share of the channels dead, relu(-1) = 0: their outputs exactly zero
    randomise_bn(ensemble.model, np.random.default_rng(0), dead_fraction=0.3, dead_beta=-1.0)
    graph = Graph(ensemble.model)
    slim = build(graph, zero_gamma_keep(graph), probe=_images(ensemble.info))
    assert slim.count_params() < ensemble.model.count_params()
    assert max_output_diff(ensemble.model, slim, _images(ensemble.info, seed=4)) < 1e-5

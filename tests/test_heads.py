"""The heads' pooling registry: flatten and attention, through slimming, QAT and every export."""

import numpy as np
import pytest

from plates.errors import PlateError
from plates.keras import keras, tf
from plates.layers import AttentionPool, spread_slots
from tests.conftest import tiny_model


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_attention_pool_is_a_softmax_weighted_sum_over_positions():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (3, 2, 5, 4)).astype(np.float32)  # N, H, W, K slots
    features = rng.normal(0, 1, (3, 2, 5, 6)).astype(np.float32)  # N, H, W, C
    pool = AttentionPool()
    got = pool([tf.constant(logits), tf.constant(features)]).numpy()
    bias = pool.position_bias.numpy()  # (K, H*W)
    weights = _softmax(logits.reshape(3, 10, 4) + bias.T[None], axis=1)  # over the H*W positions
    want = np.einsum("npk,npc->nkc", weights, features.reshape(3, 10, 6))
    assert got.shape == (3, 4 * 6)
    np.testing.assert_allclose(got, want.reshape(3, 24), rtol=1e-5, atol=1e-6)


def test_attention_slots_start_spread_across_the_width():
    bias = spread_slots(2, 32, 8).reshape(8, 2, 32)
    peaks = bias[:, 0].argmax(1)
    assert (np.diff(peaks) > 0).all() and peaks[0] < 4 and peaks[-1] > 27, peaks
    np.testing.assert_array_equal(bias[:, 0], bias[:, 1])  # the same prior on every row


def test_attention_pool_content_part_follows_the_characters_wherever_they_sit():
    """Without the position prior, moving every position's logits and features to another
    position changes nothing: what a slot reads does not depend on where in the crop it is (a
    flatten head's would). The prior is what the slots start from, not where they must read."""
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (2, 2, 8, 3)).astype(np.float32)
    features = rng.normal(0, 1, (2, 2, 8, 5)).astype(np.float32)
    pool = AttentionPool()
    pool([logits, features])
    pool.position_bias.assign(np.zeros(pool.position_bias.shape, np.float32))
    moved = [np.roll(t, 3, axis=2) for t in (logits, features)]
    np.testing.assert_allclose(pool([logits, features]).numpy(), pool(moved).numpy(), rtol=1e-5, atol=1e-6)
    flat = keras.layers.Flatten()
    assert not np.allclose(flat(features).numpy(), flat(moved[1]).numpy())


def test_pooling_registry_matches_the_cli_and_refuses_unknown_names(spec):
    from plates.cli_support import POOLING_NAMES
    from plates.heads import POOLINGS

    assert tuple(POOLINGS) == POOLING_NAMES
    with pytest.raises(PlateError, match="unknown pooling 'gap'.*flatten, attention"):
        tiny_model(spec, pooling="gap")


def test_attention_heads_are_smaller_save_load_and_record_their_pooling(spec, tmp_path):
    from plates.bundle import read_labels
    from plates.modelio import load_model, save_model

    flat, _ = tiny_model(spec, width=8, neck=16)
    model, info = tiny_model(spec, width=8, neck=16, pooling="attention")
    assert model.count_params() < flat.count_params()
    assert model.get_layer("attention_logits").filters == len(spec.heads)  # one slot per head
    save_model(tmp_path / "m", model, info)
    assert read_labels(tmp_path / "m").extra["architecture"]["pooling"] == "attention"
    loaded, _ = load_model(tmp_path / "m")
    images = np.random.default_rng(2).integers(0, 255, (4, *info.size, 3)).astype(np.float32)
    for a, b in zip(model.predict(images, verbose=0), loaded.predict(images, verbose=0), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_attention_model_slims_and_keeps_its_function(spec):
    from compress.slim import Graph, build, max_output_diff, zero_gamma_keep

    rng = np.random.default_rng(3)
    model, info = tiny_model(spec, width=16, pooling="attention")
    for layer in model.layers:  # dead channels (gamma 0, beta -1: ReLU output exactly 0), the neck's too
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, mu, v = layer.get_weights()
            dead = rng.random(g.shape) < 0.4
            dead[0] = False
            g[dead], b[dead] = 0.0, -1.0
            layer.set_weights([g, b, mu, v])
    g = Graph(model)
    slim = build(g, zero_gamma_keep(g), probe=rng.integers(0, 255, (4, *info.size, 3)).astype(np.float32))
    assert slim.count_params() < model.count_params()
    # the neck's dead channels stay: the pooling reads them (its output is K x C wide)
    assert slim.get_layer("neck_conv").filters == model.get_layer("neck_conv").filters
    assert max_output_diff(model, slim, rng.integers(0, 255, (6, *info.size, 3)).astype(np.float32)) < 1e-5


@pytest.mark.parametrize("pooling", ["attention", "flatten+attention"])
def test_attention_model_quantises_for_qat(spec, pooling):
    from compress.qat import quantize

    model, info = tiny_model(spec, width=8, pooling=pooling)
    q = quantize(model)
    assert "quant_attention_pool" in {layer.name for layer in q.layers}
    images = np.random.default_rng(4).integers(0, 255, (4, *info.size, 3)).astype(np.float32)
    assert all(np.isfinite(o).all() for o in q.predict(images, verbose=0))


def test_attention_exports_keep_parity_and_int8_stays_in_one_xnnpack_piece(spec, tmp_path):
    from deploy.export import OnnxOptions, TFLiteOptions, export_onnx, export_tflite
    from deploy.predictor import Predictor
    from plates.training import predict_probs

    keras.utils.set_random_seed(5)
    model, info = tiny_model(spec, width=8, pooling="attention")
    images = np.random.default_rng(5).integers(0, 255, (32, *info.size, 3)).astype(np.float32)
    ref = predict_probs(model, images)
    fp32 = export_tflite(model, info, tmp_path / "fp32", TFLiteOptions("fp32"), None, images, 0.0, "tiny")
    assert fp32["xnnpack"] == {"partitions": 1, "outside": {}}
    int8 = export_tflite(model, info, tmp_path / "int8", TFLiteOptions("int8"), images, images, 0.0, "tiny")
    # no BATCH_MATMUL or run-time shape ops: the pooling's ops are all XNNPACK's
    assert int8["xnnpack"] == {"partitions": 1, "outside": {"QUANTIZE": 1}}, int8["xnnpack"]
    export_onnx(model, info, tmp_path / "onnx", OnnxOptions(), None, images, 0.0, "tiny")
    for bundle in ("fp32", "onnx"):
        probs = Predictor(tmp_path / bundle, threads=1).probs(images)
        assert max(np.abs(probs[n] - ref[n]).max() for n in info.spec.names) < 1e-4, bundle


def test_two_readers_average_their_heads_and_start_from_a_one_reader_model(spec, tmp_path):
    """flatten+attention: each head the mean of a flatten and an attention softmax; the flatten
    reader keeps the one-reader names, so --init-partial from a flatten model fills it."""
    from plates.modelio import head_names

    flat, info = tiny_model(spec, width=8)
    both, _ = tiny_model(spec, width=8, pooling="flatten+attention")
    assert head_names(both) == head_names(flat) == list(spec.names)
    for layer in flat.layers:
        if layer.weights:
            both.get_layer(layer.name).set_weights(layer.get_weights())
    images = np.random.default_rng(6).integers(0, 255, (4, *info.size, 3)).astype(np.float32)
    inner = keras.Model(
        both.input, [both.get_layer(f"{h}_{r}").output for h in spec.names for r in ("flatten", "attention")]
    )
    parts = inner.predict(images, verbose=0)
    flat_out, both_out = flat.predict(images, verbose=0), both.predict(images, verbose=0)
    for i, _ in enumerate(spec.names):
        np.testing.assert_allclose(parts[2 * i], flat_out[i], rtol=1e-5, atol=1e-6)  # the flatten reader, as taken
        np.testing.assert_allclose(both_out[i], (parts[2 * i] + parts[2 * i + 1]) / 2, rtol=1e-5, atol=1e-6)

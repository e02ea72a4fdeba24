"""The space-to-depth stem rewrite computes what the original stem computes, in float and in int8."""

import numpy as np
import pytest

from deploy.rewrite import space_to_depth_kernel, space_to_depth_stem
from plates.keras import keras, tf


@pytest.mark.parametrize("k", [1, 3, 5, 7])
def test_rearranged_kernel_gives_the_rearranged_convolution(k):
    rng = np.random.default_rng(k)
    x = rng.normal(size=(2, 8, 12, 3)).astype(np.float32)
    w = rng.normal(size=(k, k, 3, 5)).astype(np.float32)
    direct = tf.nn.conv2d(x, w, 1, "SAME")
    rearranged = tf.nn.depth_to_space(tf.nn.conv2d(tf.nn.space_to_depth(x, 2), space_to_depth_kernel(w), 1, "SAME"), 2)
    np.testing.assert_allclose(rearranged.numpy(), direct.numpy(), atol=1e-4)


def _net(stride=1, height=8, relu=True, branch=False):
    """whitening -> 3x3 stem -> BN -> ReLU -> a strided conv -> two softmax heads."""
    from plates.layers import PerImageWhitening

    inp = keras.Input((height, 16, 3), name="image")
    x = PerImageWhitening(name="normalise")(inp)
    x = keras.layers.Conv2D(4, 3, strides=stride, padding="same", use_bias=False, name="stem_conv")(x)
    bn = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_act")(bn) if relu else bn
    if branch:  # the BN output feeds two layers: nothing after it may be folded
        x = keras.layers.Add()([x, keras.layers.Conv2D(4, 1, name="side")(bn)])
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="body")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outs = [keras.layers.Dense(n, activation="softmax", name=name)(x) for name, n in (("a", 5), ("b", 3))]
    model = keras.Model(inp, outs)
    rng = np.random.default_rng(0)
    bn_layer = model.get_layer("stem_bn")
    bn_layer.set_weights([rng.uniform(0.5, 2, 4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.5, 2, 4)])
    return model


@pytest.mark.parametrize(
    "kwargs,folded",
    [
        ({}, ["stem_conv", "stem_bn", "stem_act"]),
        ({"relu": False}, ["stem_conv", "stem_bn"]),
        ({"branch": True}, ["stem_conv", "stem_bn"]),  # stem_bn's output feeds two layers: the ReLU stays
    ],
)
def test_stem_rewrite_is_exact_in_float(kwargs, folded):
    model = _net(**kwargs)
    rewritten, names = space_to_depth_stem(model)
    assert names == folded
    x = np.random.default_rng(1).integers(0, 256, (4, 8, 16, 3)).astype(np.float32)
    for a, b in zip(model.predict(x, verbose=0), rewritten.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(b, a, atol=1e-5)
    assert [o.name.split("/")[0] for o in rewritten.outputs] == [o.name.split("/")[0] for o in model.outputs]


@pytest.mark.parametrize("kwargs", [{"stride": 2}, {"height": 9}])
def test_stems_that_do_not_qualify_are_left_alone(kwargs):
    assert space_to_depth_stem(_net(**kwargs)) is None


def test_int8_export_with_the_rewrite_reads_like_without_it(spec, tmp_path):
    """Same integer arithmetic: the rewritten int8 model gives the plain int8 model's readings,
    and XNNPACK takes the whole graph (the ops it has no int8 kernel for stay float)."""
    from deploy.export import TFLiteOptions, export_tflite
    from deploy.predictor import Predictor
    from tests.conftest import short_student

    model, info = short_student(spec, (16, 48), minimalistic=True, stem_stride=1, normalisation="whiten", neck=16)
    images = np.random.default_rng(2).integers(0, 256, (64, 16, 48, 3)).astype(np.uint8)
    reports, probs = {}, {}
    for rewrite in (True, False):
        out = tmp_path / str(rewrite)
        reports[rewrite] = export_tflite(
            model, info, out, TFLiteOptions("int8", stem_rewrite=rewrite), images[:32], images, 0.0
        )
        probs[rewrite] = Predictor(out, threads=1).probs(images)
    assert reports[True]["stem_folded"] == ["stem_conv", "stem_bn", "stem_act"]
    assert reports[False]["stem_folded"] == []
    assert reports[True]["xnnpack"] == {"partitions": 1, "outside": {"QUANTIZE": 1}}  # uint8 -> int8 input
    for name in info.spec.names:
        assert np.abs(probs[True][name] - probs[False][name]).max() < 0.05, name

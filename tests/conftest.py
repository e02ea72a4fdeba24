"""Shared fixtures: a tiny synthetic set (made once per session) and tiny models."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TINY_SIZE = (16, 48)


@pytest.fixture(scope="session")
def spec():
    from plates.spec import default_spec

    return default_spec()


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory):
    from plates.synth.generate import generate

    return generate(tmp_path_factory.mktemp("synth") / "set", 160, seed=7, workers=1, progress=False)


@pytest.fixture(scope="session")
def synth_samples(synth_dir, spec):
    from plates.readers import read_any

    return read_any(synth_dir, spec)


def tiny_model(spec, size=TINY_SIZE, width=4, neck=8, pooling="flatten"):
    import teacher.backbones  # noqa: F401  (registers "tiny")
    from plates.heads import create_classifier

    return create_classifier(spec, size, "tiny", neck=neck, dropout=0.0, pooling=pooling, width=width)


def short_student(spec, size, alpha=0.35, minimalistic=False, normalisation="scale", neck=128, stem_stride=2):
    """A MobileNetV3-Small student cut to its first five blocks: every kind of block the whole one
    has (squeeze-excite, ReLU and hard-swish, a residual, the (2, 1) stride) in under half the
    layers, for tests whose cost is the graph (QAT wrapping, TFLite conversion), not the data."""
    from plates.backbones import BACKBONES, register_backbone
    from plates.heads import create_classifier
    from student.mobilenetv3 import SMALL, mobilenetv3

    if "mobilenetv3_small_short" not in BACKBONES:

        @register_backbone("mobilenetv3_small_short")
        def _short(x, alpha=1.0, minimalistic=False, stem_stride=2):
            return mobilenetv3(x, "small", alpha, minimalistic, config=SMALL[:5], stem_stride=stem_stride)

    return create_classifier(
        spec,
        size,
        "mobilenetv3_small_short",
        normalisation,
        neck,
        0.1,
        alpha=alpha,
        minimalistic=minimalistic,
        stem_stride=stem_stride,
    )


def save_tiny(folder, spec, fill=None, seed=0, **kwargs):
    """A seeded tiny model saved as a model folder (``fill``: every weight set to it); returns the model."""
    import numpy as np

    from plates.keras import tf
    from plates.modelio import save_model

    tf.keras.utils.set_random_seed(seed)
    model, info = tiny_model(spec, **kwargs)
    if fill is not None:
        model.set_weights([np.full_like(w, fill) for w in model.get_weights()])
    save_model(folder, model, info)
    return model


def randomise_bn(model, rng, dead_fraction=0.4, dead_beta=None):
    """Random BN statistics; a fraction of gammas set to exactly zero (``dead_beta`` for their beta):
    the dead channels slimming must remove."""
    import numpy as np

    from plates.keras import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, mu, v = layer.get_weights()
            g = rng.uniform(0.5, 1.5, g.shape).astype(np.float32)
            b = rng.normal(0, 0.5, b.shape).astype(np.float32)
            dead = rng.random(g.shape) < dead_fraction
            dead[0] = False
            g[dead] = 0
            if dead_beta is not None:
                b[dead] = dead_beta
            layer.set_weights(
                [g, b, rng.normal(0, 0.1, mu.shape).astype(np.float32), rng.uniform(0.5, 2, v.shape).astype(np.float32)]
            )

"""Quantisation-aware training with tensorflow-model-optimization.

tfmot's default 8-bit registry refuses the layers it has no entry for (squeeze-excite
``Multiply``, hard-swish / hard-sigmoid, the normalisers, the attention pooling, the ``Average``
of two readers' heads); they get
``plates.quantize_config.OutputQuantizeConfig``, a fake-quant on their output only.

tfmot starts every activation range at [-6, 6] and moves it with an EMA of decay 0.999, so a
few hundred QAT steps leave most of that initial range in place (tfmot issue #368): ReLU
outputs above 6 get clipped. ``calibrate_ranges`` starts the ranges from the float model's
activations on real images instead."""

from __future__ import annotations

import re

import numpy as np

from plates import logger
from plates.keras import keras, tfmot
from plates.layers import NORMALISERS, AttentionPool, HardSigmoid, HardSwish
from plates.quantize_config import OutputQuantizeConfig, qat_objects

OUTPUT_ONLY = (
    HardSwish,
    HardSigmoid,
    keras.layers.Multiply,
    keras.layers.Average,
    AttentionPool,
    *NORMALISERS.values(),
)


def scope() -> dict:
    """Objects needed to build or load a QAT model."""
    return qat_objects()


def quantize(model: keras.Model) -> keras.Model:
    """Annotate every layer (output-only config for the layers tfmot lacks) and apply QAT."""

    def annotate(layer):
        if isinstance(layer, OUTPUT_ONLY):
            return tfmot.quantization.keras.quantize_annotate_layer(layer, quantize_config=OutputQuantizeConfig())
        return tfmot.quantization.keras.quantize_annotate_layer(layer)

    annotated = keras.models.clone_model(model, clone_function=annotate)
    with tfmot.quantization.keras.quantize_scope(scope()):
        return tfmot.quantization.keras.quantize_apply(annotated)


# Narrowest activation range calibration sets: narrower ones (a barely trained model has near-dead
# layers) gave int8 models that crashed LiteRT (double free) in the tiny pipeline.
MIN_SPAN = 1.0
RANGE = re.compile(r"/(output|post_activation)_(min|max):0$")  # moving-average activation ranges


def calibrate_ranges(qat: keras.Model, float_model: keras.Model, images: np.ndarray, batch_size: int = 64) -> int:
    """Set the QAT model's activation ranges from the float model's activations on ``images``
    (mean of per-batch min / max, widened to contain 0 and to at least ``MIN_SPAN``, about where
    tfmot's EMA would settle), and
    the input range from the pixels. Returns the number of ranges set."""
    from plates.keras import tf

    targets: dict[str, list] = {}  # float layer name -> its [min, max] variables in the QAT model
    for layer in qat.layers:
        if layer.name.startswith("quant_"):
            for v in layer.weights:
                if RANGE.search(v.name):
                    targets.setdefault(layer.name[len("quant_") :], []).append(v)
    known = {layer.name for layer in float_model.layers}
    names = [n for n in targets if n in known]
    probe = keras.Model(float_model.input, [float_model.get_layer(n).output for n in names])
    lows: dict[str, list[float]] = {n: [] for n in names}
    highs: dict[str, list[float]] = {n: [] for n in names}
    for start in range(0, len(images), batch_size):
        outs = probe(tf.constant(images[start : start + batch_size], tf.float32), training=False)
        for n, out in zip(names, outs if isinstance(outs, list) else [outs], strict=True):
            lows[n].append(min(float(tf.reduce_min(out)), 0.0))
            highs[n].append(max(float(tf.reduce_max(out)), 0.0))
    for n in names:
        lo, hi = float(np.mean(lows[n])), float(np.mean(highs[n]))
        hi = max(hi, lo + MIN_SPAN)  # an all-zero activation (dead ReLU) would get a zero scale
        for v in targets[n]:
            v.assign(tf.fill(tf.shape(v), np.float32(lo if v.name.endswith("_min:0") else hi)))
    inputs = [x for x in qat.layers if type(x).__name__ == "QuantizeLayer"]  # not in the public API
    for v in (w for x in inputs for w in x.weights if re.search(r"_(min|max):0$", w.name)):
        v.assign(tf.fill(tf.shape(v), np.float32(min(images.min(), 0.0) if "_min" in v.name else images.max())))
    logger.info("QAT activation ranges calibrated on %d images (%d layers)", len(images), len(names))
    return len(names)

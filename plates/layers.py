"""Custom Keras layers every exported model may contain (registered for loading).

Normalisation lives inside the graph so exported artefacts take raw 0-255 pixels."""

from __future__ import annotations

import numpy as np

from plates.keras import keras, tf


@keras.utils.register_keras_serializable(package="plates")
class PerImageWhitening(keras.layers.Layer):
    """``(x - mean) / max(std, 1/sqrt(N))`` per image, as ``tf.image.per_image_standardization``.

    Written with plain reductions so TFLite (incl. int8) and ONNX convert it directly. Each mean
    is taken one axis at a time (channels, then width, then height): the same number in float,
    but TFLite's int8 MEAN over a whole 32x96x3 image in one op is biased (its variance comes out
    far too high), which flattens low-contrast plates; reduced one axis at a time the int8
    output keeps the float contrast (docs/experiments/006). The square is a product because
    TFLite fuses ``square(x - m)`` into SQUARED_DIFFERENCE, which XNNPACK has no int8 kernel for."""

    def call(self, x: tf.Tensor) -> tf.Tensor:
        x = tf.cast(x, tf.float32)
        n = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)
        centred = x - per_image_mean(x)
        var = per_image_mean(centred * centred)
        return centred * tf.math.rsqrt(tf.maximum(var, 1.0 / n))


def per_image_mean(x: tf.Tensor) -> tf.Tensor:
    """Mean over (H, W, C), kept as (N, 1, 1, 1), reduced one axis at a time (int8-exact, see above)."""
    for axis in (3, 2, 1):
        x = tf.reduce_mean(x, axis=axis, keepdims=True)
    return x


@keras.utils.register_keras_serializable(package="plates")
class ScaleToUnit(keras.layers.Layer):
    """``x / 127.5 - 1``: a fixed affine map, friendlier to int8 and QAT than whitening."""

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return tf.cast(x, tf.float32) * (1.0 / 127.5) - 1.0


NORMALISERS = {"whiten": PerImageWhitening, "scale": ScaleToUnit}


def create_normaliser(name: str, **kwargs) -> keras.layers.Layer:
    try:
        return NORMALISERS[name](name="normalise", **kwargs)
    except KeyError:
        raise ValueError(f"unknown normalisation {name!r}; choose from {sorted(NORMALISERS)}") from None


@keras.utils.register_keras_serializable(package="plates")
class HardSigmoid(keras.layers.Layer):
    """relu6(x + 3) / 6, as a real layer (not a ``x + 3`` TFOpLambda, which tfmot cannot
    annotate), written so the TFLite converter fuses it into its int8 kernels."""

    def call(self, x):
        return tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


@keras.utils.register_keras_serializable(package="plates")
class HardSwish(keras.layers.Layer):
    """x * relu6(x + 3) / 6 (a real layer for the same reason; TFLite fuses it into HARD_SWISH)."""

    def call(self, x):
        return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


ACTIVATIONS = (HardSigmoid, HardSwish)


@keras.utils.register_keras_serializable(package="plates")
class AttentionPool(keras.layers.Layer):
    """``[logits (N, H, W, K), features (N, H, W, C)] -> (N, K * C)``: per slot k, a softmax of
    its logits plus a learned position bias over the H*W positions, and the features summed
    under it.

    The position bias is what tells the slots apart: the backbone's features say *what* is at
    a position (a digit), hardly *which* character of the plate it is, so content logits alone
    let every middle slot find the same digits. The bias gives each slot a prior over where its
    character sits; the content logits can move the attention from there.

    A layer of its own, not stock ``Reshape`` + ``Dot``: Keras' ``Reshape`` reads the batch size
    at run time (SHAPE / STRIDED_SLICE / PACK ops that XNNPACK does not take) and ``Dot`` becomes
    BATCH_MATMUL, which XNNPACK has no int8 kernel for. Here every reshape is static and the
    weighted sum is a broadcast product and a SUM, XNNPACK ops in int8 and in float. A sum, not
    a mean: a mean would shrink what the heads read by H*W, and new heads would need that many
    times larger weights before they learn anything."""

    def build(self, input_shape):
        h, w, k = (int(d) for d in input_shape[0][1:])
        self.position_bias = self.add_weight(
            name="position_bias", shape=(k, h * w), initializer=keras.initializers.Constant(spread_slots(h, w, k))
        )
        super().build(input_shape)

    def call(self, inputs):
        logits, features = inputs
        h, w, k = (int(d) for d in logits.shape[1:])
        c = int(features.shape[-1])
        logits = tf.reshape(tf.transpose(logits, (0, 3, 1, 2)), (-1, k, h * w)) + self.position_bias
        weights = tf.nn.softmax(logits, axis=-1)  # (N, K, HW)
        features = tf.reshape(features, (-1, 1, h * w, c))
        pooled = tf.reduce_sum(weights[..., None] * features, axis=2)  # (N, K, C)
        return tf.reshape(pooled, (-1, k * c))

    def compute_output_shape(self, input_shape):
        logits, features = input_shape
        return (logits[0], int(logits[-1]) * int(features[-1]))


def spread_slots(h: int, w: int, k: int) -> np.ndarray:
    """(k, h * w) start of the position bias: slot i prefers the columns around the i-th of k
    equal steps across the width (a Gaussian bump one step wide, the same on every row), so the
    slots start apart instead of all alike; training moves them."""
    centres = (np.arange(k) + 0.5) * w / k
    columns = np.tile(np.arange(w) + 0.5, h)
    return (-0.5 * ((columns[None, :] - centres[:, None]) / (w / k)) ** 2).astype(np.float32)


def custom_objects() -> dict[str, type]:
    """Every custom layer a saved model may hold (normalisers, MobileNetV3 activations, the
    attention pooling)."""
    return {cls.__name__: cls for cls in (*NORMALISERS.values(), *ACTIVATIONS, AttentionPool)}

"""Custom Keras layers every exported model may contain (registered for loading).

Normalisation lives inside the graph so exported artefacts take raw 0-255 pixels."""

from __future__ import annotations

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


def custom_objects() -> dict[str, type]:
    """Every custom layer a saved model may hold (normalisers, MobileNetV3 activations)."""
    return {cls.__name__: cls for cls in (*NORMALISERS.values(), *ACTIVATIONS)}

"""Hard-swish / hard-sigmoid as real layers (not a ``x + 3`` TFOpLambda, which tfmot cannot
annotate), written so the TFLite converter fuses them into HARD_SWISH / int8 kernels."""

from __future__ import annotations

from plates.keras import keras, tf


@keras.utils.register_keras_serializable(package="plates")
class HardSigmoid(keras.layers.Layer):
    """relu6(x + 3) / 6"""

    def call(self, x):
        return tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


@keras.utils.register_keras_serializable(package="plates")
class HardSwish(keras.layers.Layer):
    """x * relu6(x + 3) / 6"""

    def call(self, x):
        return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


def custom_objects() -> dict[str, type]:
    return {"HardSigmoid": HardSigmoid, "HardSwish": HardSwish}

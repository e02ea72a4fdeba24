"""The serving function every export starts from: raw pixels in, ``{head: probabilities}`` out.

Returning a dict makes TFLite signatures and ONNX outputs carry the head names."""

from __future__ import annotations

from plates.bundle import ModelInfo
from plates.errors import ModelError
from plates.keras import keras, tf
from plates.modelio import check_heads, head_names


def serving_function(model: keras.Model, info: ModelInfo, batch: int | None = None):
    """A ``tf.function`` with input ``image`` (float32 0..255 NHWC) and one output per head."""
    if not isinstance(model, keras.Model):
        raise ModelError(f"expected a Keras model, got {type(model).__name__}")
    check_heads(model, info)
    names = head_names(model)
    spec = tf.TensorSpec((batch, info.height, info.width, info.channels), tf.float32, name="image")

    @tf.function(input_signature=[spec])
    def serve(image):
        outputs = model(image, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        by_name = dict(zip(names, outputs, strict=True))
        return {h.name: by_name[h.name] for h in info.spec.heads}

    return serve

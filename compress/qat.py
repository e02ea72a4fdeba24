"""Quantisation-aware training with tensorflow-model-optimization.

tfmot's default 8-bit registry has no entry for ``Multiply`` (squeeze-excite), for the
hard-swish / hard-sigmoid layers or for the normalisers, and refuses models containing
them. ``OutputQuantizeConfig`` gives those layers a fake-quant on their output only (they
have no weights), which is what the int8 TFLite kernels do."""

from __future__ import annotations

import tensorflow_model_optimization as tfmot

from plates.keras import keras
from plates.layers import NORMALISERS
from student.layers import HardSigmoid, HardSwish

quantizers = tfmot.quantization.keras.quantizers


class OutputQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    """Quantise only the layer's output (8-bit, asymmetric, moving-average ranges)."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [quantizers.MovingAverageQuantizer(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)]

    def get_config(self):
        return {}


OUTPUT_ONLY = (HardSwish, HardSigmoid, keras.layers.Multiply, *NORMALISERS.values())


def scope() -> dict:
    """Objects needed to build or load a QAT model."""
    from plates.layers import custom_objects

    return {"OutputQuantizeConfig": OutputQuantizeConfig, **custom_objects()}


def quantize(model: keras.Model) -> keras.Model:
    """Annotate every layer (output-only config for the layers tfmot lacks) and apply QAT."""

    def annotate(layer):
        if isinstance(layer, OUTPUT_ONLY):
            return tfmot.quantization.keras.quantize_annotate_layer(layer, quantize_config=OutputQuantizeConfig())
        return tfmot.quantization.keras.quantize_annotate_layer(layer)

    annotated = keras.models.clone_model(model, clone_function=annotate)
    with tfmot.quantization.keras.quantize_scope(scope()):
        return tfmot.quantization.keras.quantize_apply(annotated)

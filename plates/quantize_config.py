"""The tfmot config every QAT model of the toolkit holds, in the foundation so that any stage
can load a QAT model folder (``plates.modelio.load_model``) without importing ``compress``.

tfmot's default 8-bit registry has no entry for ``Multiply`` (squeeze-excite), for the
hard-swish / hard-sigmoid layers or for the normalisers; ``OutputQuantizeConfig`` gives those
layers a fake-quant on their output only (they have no weights), which is what the int8 TFLite
kernels do."""

from __future__ import annotations

from plates.keras import tfmot
from plates.layers import custom_objects

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


def qat_objects() -> dict:
    """Objects needed to build or load a QAT model."""
    return {"OutputQuantizeConfig": OutputQuantizeConfig, **custom_objects()}

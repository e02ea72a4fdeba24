"""Analytic multiply-accumulate count of a Keras model, one handler per layer type.

Only layers with weights that dominate cost are counted (conv, depthwise conv, dense); the
rest (BN folds into conv at export, activations, pooling) is ignored, as is usual."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from plates.keras import keras

layers = keras.layers


def _spatial(shape) -> int:
    return int(np.prod([d for d in shape[1:-1] if d is not None]))


def _conv(layer, inp, out) -> int:
    k = int(np.prod(layer.kernel_size))
    return _spatial(out) * k * int(inp[-1]) * layer.filters // layer.groups


def _depthwise(layer, inp, out) -> int:
    k = int(np.prod(layer.kernel_size))
    return _spatial(out) * k * int(inp[-1]) * layer.depth_multiplier


def _dense(layer, inp, out) -> int:
    return int(inp[-1]) * layer.units * max(_spatial(out), 1)


HANDLERS: dict[type, Callable] = {layers.DepthwiseConv2D: _depthwise, layers.Conv2D: _conv, layers.Dense: _dense}


def layer_macs(layer) -> int:
    """Shapes come from the outer layer: a tfmot QuantizeWrapper's inner layer is never called."""
    inner = getattr(layer, "layer", None)
    target = inner if isinstance(inner, keras.layers.Layer) else layer
    for cls, fn in HANDLERS.items():
        if isinstance(target, cls):
            return fn(target, layer.input_shape, layer.output_shape)
    return 0


def count_macs(model: keras.Model) -> int:
    """MACs for one image (FLOPs ~= 2 x MACs)."""
    total = 0
    for layer in model.layers:
        total += count_macs(layer) if isinstance(layer, keras.Model) else layer_macs(layer)
    return total

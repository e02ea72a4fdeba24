"""Per-layer behaviour of slimming, as a table: how each layer type moves channel spaces
(``propagate``), and how it is rebuilt with fewer channels (``config``, ``weights``). A new
layer type plugs in with one ``HANDLERS`` entry; an unknown one gets ``Handler``, which
protects every channel it touches."""

from __future__ import annotations

from typing import Any

import numpy as np

from compress.slim.channels import Layout
from plates.keras import keras
from plates.layers import NORMALISERS, HardSigmoid, HardSwish

layers = keras.layers
PASSTHROUGH = (
    layers.BatchNormalization,
    layers.ReLU,
    layers.Activation,
    HardSwish,
    HardSigmoid,
    layers.Dropout,
    layers.MaxPooling2D,
    layers.AveragePooling2D,
    layers.GlobalAveragePooling2D,
    layers.Softmax,
    layers.DepthwiseConv2D,
    layers.ZeroPadding2D,
)


class Handler:
    """Default: unknown layer. Its input channels are protected and its output is new and
    protected, so the planner never touches what it does not understand."""

    def propagate(self, g, layer, ins: list[Layout]) -> Layout:  # g: compress.slim.graph.Graph
        for lay in ins:
            g.protect_layout(lay, f"consumed by unsupported layer {layer.name} ({type(layer).__name__})")
        shape = layer.output_shape
        channels = int(shape[-1]) if isinstance(shape, tuple) and shape[-1] else 1
        return Layout([(g.new_space(channels, layer.name, f"output of unsupported {type(layer).__name__}"), channels)])

    def config(self, layer, keep_in: np.ndarray | None, keep_out: np.ndarray | None) -> dict[str, Any]:
        return layer.get_config()

    def weights(self, layer, keep_in, keep_out) -> list[np.ndarray]:
        return layer.get_weights()


class Producer(Handler):
    """Conv2D / Dense: a new channel space; the input dimension is sliced."""

    size_key = "filters"

    def propagate(self, g, layer, ins):
        if isinstance(layer, layers.Conv2D) and layer.groups != 1:
            return super().propagate(g, layer, ins)
        n = int(layer.get_config()[self.size_key])
        reason = "protected by name" if any(p in layer.name for p in g.protect) else ""
        return Layout([(g.new_space(n, layer.name, reason), n)])

    def config(self, layer, keep_in, keep_out):
        cfg = layer.get_config()
        cfg[self.size_key] = len(keep_out)
        return cfg

    def weights(self, layer, keep_in, keep_out):
        w = layer.get_weights()
        kernel = w[0][..., keep_in, :][..., keep_out] if keep_in is not None else w[0][..., keep_out]
        return [kernel] + ([w[1][keep_out]] if len(w) > 1 else [])


class DenseHandler(Producer):
    size_key = "units"


class Passthrough(Handler):
    """Same channels out as in (BN, activations, pooling, depthwise conv with multiplier 1)."""

    def propagate(self, g, layer, ins):
        lay = ins[0]
        if isinstance(layer, layers.DepthwiseConv2D) and layer.depth_multiplier != 1:
            return super().propagate(g, layer, ins)
        if lay.spatial:
            g.protect_layout(lay, f"{layer.name} after Flatten")
        if isinstance(layer, layers.BatchNormalization):
            off = 0
            for sid, n in lay.segments:
                g.spaces[sid].bns.append((layer.name, off))
                off += n
        for sid, _ in lay.segments:
            g.spaces[sid].members.append(layer.name)
        return Layout(list(lay.segments), lay.spatial)

    def weights(self, layer, keep_in, keep_out):
        w = layer.get_weights()
        if not w or keep_in is None:
            return w
        if isinstance(layer, layers.DepthwiseConv2D):
            return [w[0][:, :, keep_in, :]] + ([w[1][keep_in]] if len(w) > 1 else [])
        return [x[keep_in] for x in w]  # BatchNormalization: gamma, beta, mean, variance


class Merge(Handler):
    """Add / Multiply: every input carries the same channels, so their spaces are tied."""

    def propagate(self, g, layer, ins):
        first = ins[0]
        for other in ins[1:]:
            if [n for _, n in other.segments] != [n for _, n in first.segments] or other.spatial != first.spatial:
                return super().propagate(g, layer, ins)
            for (a, _), (b, _) in zip(first.segments, other.segments, strict=True):
                g.union(a, b)
        return Layout(list(first.segments), first.spatial)


class ConcatHandler(Handler):
    def propagate(self, g, layer, ins):
        if layer.axis not in (-1, 3) or any(lay.spatial for lay in ins):
            return super().propagate(g, layer, ins)
        return Layout([seg for lay in ins for seg in lay.segments])


class FlattenHandler(Handler):
    def propagate(self, g, layer, ins):
        shape = layer.input_shape
        return Layout(list(ins[0].segments), int(np.prod(shape[1:-1])))


HANDLERS: dict[type, Handler] = {
    layers.Dense: DenseHandler(),
    layers.DepthwiseConv2D: Passthrough(),  # before Conv2D: it subclasses Conv2D
    layers.Conv2D: Producer(),
    layers.Add: Merge(),
    layers.Multiply: Merge(),
    layers.Concatenate: ConcatHandler(),
    layers.Flatten: FlattenHandler(),
    **{cls: Passthrough() for cls in PASSTHROUGH if cls is not layers.DepthwiseConv2D},
    # the input normalisers keep the channels they are given (whitening reduces over them all,
    # but the model input is a protected space, so nothing upstream is ever cut)
    **{cls: Passthrough() for cls in NORMALISERS.values()},
}


def handler_for(layer) -> Handler:
    for cls, h in HANDLERS.items():
        if type(layer) is cls:
            return h
    for cls, h in HANDLERS.items():
        if isinstance(layer, cls):
            return h
    return Handler()

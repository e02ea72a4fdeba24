"""Rebuild a model with fewer channels, slicing weights and folding removed channels'
constants into the consumers' biases; the equivalence check."""

from __future__ import annotations

from typing import Any

import numpy as np

from compress.slim.channels import Layout
from compress.slim.graph import Graph
from compress.slim.handlers import Producer, handler_for
from plates.keras import keras

layers = keras.layers


def _keep_for(g: Graph, layout: Layout, keep: dict[int, np.ndarray]) -> np.ndarray | None:
    """Indices along a tensor's channel (or flattened feature) axis that survive."""
    parts, off, changed = [], 0, False
    for sid, n in layout.segments:
        k = keep.get(g.find(sid))
        if k is None:
            k = np.arange(n)
        else:
            changed = changed or len(k) != n
        parts.append(off + k)
        off += n
    idx = np.concatenate(parts)
    if layout.spatial:
        idx = (np.arange(layout.spatial)[:, None] * off + idx[None, :]).reshape(-1)
    return idx if changed else None


def build(g: Graph, keep: dict[int, np.ndarray], weights: bool = True, probe: np.ndarray | None = None) -> keras.Model:
    """The slimmed model. With ``weights``, weights are sliced and - given ``probe`` images -
    what each removed input channel contributed is folded into its consumer's bias."""
    tensors: dict[str, Any] = {}
    pending: list[tuple[keras.layers.Layer, list[np.ndarray]]] = []
    plans = []
    for layer in g.model.layers:
        if isinstance(layer, layers.InputLayer):
            shape = layer.input_shape[0] if isinstance(layer.input_shape, list) else layer.input_shape
            tensors[layer.name] = keras.Input(batch_shape=shape, name=layer.name)
            continue
        handler = handler_for(layer)
        inbound = g.inputs[layer.name]
        keep_in = _keep_for(g, g.layouts[inbound[0]], keep)
        out_layout = g.layouts[layer.name]
        keep_out = _keep_for(g, out_layout, keep)
        if keep_out is None and isinstance(handler, Producer):
            keep_out = np.arange(out_layout.channels)
        cfg = handler.config(layer, keep_in, keep_out)
        fold = weights and probe is not None and isinstance(handler, Producer) and keep_in is not None
        if fold:
            cfg["use_bias"] = True
        new = type(layer).from_config(cfg)
        args = [tensors[n] for n in inbound]
        tensors[layer.name] = new(args if len(args) > 1 else args[0])
        if weights:
            pending.append((new, handler.weights(layer, keep_in, keep_out)))
            if fold:
                plans.append((len(pending) - 1, layer, inbound[0], keep_in, keep_out))
    outputs = [tensors[t._keras_history.layer.name] for t in g.model.outputs]  # noqa: SLF001
    model = keras.Model([tensors[n] for n in g.model.input_names], outputs, name=g.model.name)
    if plans and probe is not None:  # plans are only made with a probe
        means = _input_means(g.model, [src for _, _, src, _, _ in plans], probe)
        for i, layer, src, keep_in, keep_out in plans:
            assert keep_in is not None and keep_out is not None  # folds are planned for producers with both
            pending[i] = (pending[i][0], _fold(layer, means[src], keep_in, keep_out, pending[i][1]))
    for new, w in pending:
        new.set_weights(w)
    return model


def _input_means(model: keras.Model, names: list[str], probe: np.ndarray) -> dict[str, np.ndarray]:
    """Mean activation per channel (per feature after Flatten) of the named layers' outputs."""
    names = sorted(set(names))
    probe_model = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    outs = probe_model.predict(np.asarray(probe, np.float32), verbose=0)
    outs = outs if isinstance(outs, list) else [outs]
    return {n: o.reshape(-1, o.shape[-1]).mean(0) for n, o in zip(names, outs, strict=True)}


def _fold(layer, mean: np.ndarray, keep_in: np.ndarray, keep_out: np.ndarray, w: list[np.ndarray]) -> list:
    """bias += sum over removed inputs i of mean_i * sum over kernel taps of W[..., i, :].

    Exact for dead channels (gamma = 0: the channel is the constant act(beta)) away from
    zero-padded borders; mean-replacement for the other removed channels."""
    kernel = layer.get_weights()[0]
    removed = np.setdiff1d(np.arange(kernel.shape[-2]), keep_in)
    bias = w[1] if len(w) > 1 else np.zeros(len(keep_out), np.float32)
    if len(removed):
        taps = kernel[..., removed, :].sum(axis=tuple(range(kernel.ndim - 2)))  # (removed, out)
        bias = bias + (mean[removed] @ taps)[keep_out]
    return [w[0], bias.astype(np.float32)]


def zero_gamma_keep(g: Graph, tol: float = 0.0) -> dict[int, np.ndarray]:
    """Keep exactly the channels whose importance is above ``tol`` (for the equivalence check)."""
    out = {}
    for r in g.prunable():
        s = g.gammas(r)
        k = np.nonzero(s > tol)[0]
        out[r] = k if len(k) else np.array([int(np.argmax(s))])
    return out


def max_output_diff(a: keras.Model, b: keras.Model, images: np.ndarray) -> float:
    """Largest absolute difference of any output probability (the equivalence check)."""
    oa, ob = a.predict(images, verbose=0), b.predict(images, verbose=0)
    oa, ob = (oa if isinstance(oa, list) else [oa]), (ob if isinstance(ob, list) else [ob])
    return max(float(np.abs(x - y).max()) for x, y in zip(oa, ob, strict=True))

"""Exact export-time rewrites that make int8 TFLite faster without changing what it computes.

``space_to_depth_stem``: a stride-1 stem (3x3 convolution on the 3-channel image at full
resolution) is the slowest layer of a stride-1 student in int8 with XNNPACK on x86, slower than
in fp32: XNNPACK's int8 convolution pays per output pixel, and a 3-channel image at full
resolution has many pixels and little work in each. The same convolution on the image
rearranged 2x2 into channels (``SPACE_TO_DEPTH``), with a kernel that computes the four output
pixels of each 2x2 block as 4x the output channels, followed by ``DEPTH_TO_SPACE``, is the
same arithmetic on a quarter of the pixels. The rearranged kernel holds every weight of each
output channel once per block position (plus zeros), so per-channel int8 scales and the integer
sums are those of the original. The batch norm and a ReLU after the stem are folded into it,
because a ``DEPTH_TO_SPACE`` between them would stop the converter fusing them. The export's
parity check compares the result with the unchanged Keras model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from plates import logger
from plates.keras import keras, tf
from plates.modelio import inbound_names

Folded = tuple[np.ndarray, np.ndarray, str]  # kernel (HWIO), bias, activation


def _fold_batch_norm(layer: keras.layers.Layer, folded: Folded) -> Folded | None:
    if folded[2] != "linear" or layer.axis not in (-1, [-1], [3], 3):
        return None
    gamma = layer.gamma.numpy() if layer.gamma is not None else 1.0
    beta = layer.beta.numpy() if layer.beta is not None else 0.0
    scale = gamma / np.sqrt(layer.moving_variance.numpy() + layer.epsilon)
    kernel, bias, _ = folded
    return kernel * scale, (bias - layer.moving_mean.numpy()) * scale + beta, "linear"


def _relu_kind(layer: keras.layers.Layer) -> str | None:
    config = layer.get_config()
    if isinstance(layer, keras.layers.Activation):
        return {"relu": "relu", "linear": "linear", "relu6": "relu6"}.get(str(config.get("activation")))
    if config.get("negative_slope", 0) or config.get("threshold", 0):
        return None
    return {None: "relu", 6.0: "relu6"}.get(None if config.get("max_value") is None else float(config["max_value"]))


def _fold_activation(layer: keras.layers.Layer, folded: Folded) -> Folded | None:
    kind = _relu_kind(layer)
    if folded[2] != "linear" or kind is None:
        return None
    return folded[0], folded[1], kind


# what each layer type that may follow the stem contributes to the folded convolution
FOLD_HANDLERS: dict[type, Callable[[keras.layers.Layer, Folded], Folded | None]] = {
    keras.layers.BatchNormalization: _fold_batch_norm,
    keras.layers.ReLU: _fold_activation,
    keras.layers.Activation: _fold_activation,
}
ACTIVATIONS = {"linear": lambda x: x, "relu": tf.nn.relu, "relu6": tf.nn.relu6}


def space_to_depth_kernel(kernel: np.ndarray, block: int = 2) -> np.ndarray:
    """The ``SAME``, stride-1 kernel on the ``block``-rearranged input that gives the outputs of
    ``kernel`` (odd, square, HWIO, stride 1, ``SAME``) rearranged the same way.

    Output pixel ``(block*I + p, block*J + q)`` reads input pixels ``block*I + p + di``; in the
    rearranged input that is block row ``I + floor((p + di) / block)``, sub-row ``(p + di) mod block``."""
    k, _, channels, outs = kernel.shape
    r = k // 2
    reach = max(abs((p + d) // block) for p in range(block) for d in (-r, r))
    size = 2 * reach + 1
    out = np.zeros((size, size, block * block * channels, block * block * outs), kernel.dtype)
    for p in range(block):
        for q in range(block):
            o = (p * block + q) * outs
            for di in range(-r, r + 1):
                rows, a = divmod(p + di, block)
                for dj in range(-r, r + 1):
                    cols, b = divmod(q + dj, block)
                    c = (a * block + b) * channels
                    out[rows + reach, cols + reach, c : c + channels, o : o + outs] = kernel[di + r, dj + r]
    return out


class SpaceToDepthConv(keras.layers.Layer):
    """A folded stride-1 convolution run on the 2x2-rearranged input (see the module docstring).
    Export-only: built from an existing model's weights, never trained or saved."""

    def __init__(self, kernel: np.ndarray, bias: np.ndarray, activation: str, block: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block = block
        self.kernel = tf.constant(space_to_depth_kernel(kernel.astype(np.float32), block))
        self.bias = tf.constant(np.tile(bias.astype(np.float32), block * block))
        self.activation = activation

    def call(self, x: tf.Tensor) -> tf.Tensor:
        y = tf.nn.space_to_depth(x, self.block)
        y = ACTIVATIONS[self.activation](tf.nn.bias_add(tf.nn.conv2d(y, self.kernel, 1, "SAME"), self.bias))
        return tf.nn.depth_to_space(y, self.block)


def _consumers(model: keras.Model) -> dict[str, list[keras.layers.Layer]]:
    users: dict[str, list[keras.layers.Layer]] = {}
    for layer in model.layers:
        for parent in inbound_names(layer):
            users.setdefault(parent, []).append(layer)
    return users


def _stem(model: keras.Model, block: int) -> keras.layers.Conv2D | None:
    """The first convolution when it is a plain stride-1 odd square convolution on a 3-channel
    input whose height and width ``block`` divides; else None."""
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs or type(convs[0]) is not keras.layers.Conv2D:
        return None
    conv = convs[0]
    k = conv.kernel_size
    _, height, width, channels = conv.input.shape
    plain = conv.strides == (1, 1) and tuple(conv.dilation_rate) == (1, 1) and conv.groups == 1
    fits = channels == 3 and height % block == 0 and width % block == 0
    if not (plain and fits and conv.padding == "same" and k[0] == k[1] and k[0] % 2 == 1):
        return None
    return conv


def space_to_depth_stem(model: keras.Model, block: int = 2) -> tuple[keras.Model, list[str]] | None:
    """``model`` with its stride-1 stem (and the batch norm / ReLU right after it) replaced by a
    ``SpaceToDepthConv``, plus the names of the layers folded; None when the stem does not qualify."""
    conv = _stem(model, block)
    if conv is None:
        return None
    weights = conv.get_weights()
    bias = weights[1] if conv.use_bias else np.zeros(conv.filters, np.float32)
    folded: Folded = (weights[0], bias, str(conv.get_config()["activation"]))
    if folded[2] not in ACTIVATIONS:
        return None
    users = _consumers(model)
    chain = [conv]
    while len(users.get(chain[-1].name, [])) == 1:
        nxt = users[chain[-1].name][0]
        handler = FOLD_HANDLERS.get(type(nxt))
        step = handler(nxt, folded) if handler else None
        if step is None:
            break
        folded = step
        chain.append(nxt)
    names = {layer.name for layer in chain}

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if layer is conv:
            return SpaceToDepthConv(*folded, block=block, name=conv.name)
        if layer.name in names:
            return keras.layers.Activation("linear", name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    rewritten = keras.models.clone_model(model, clone_function=clone)
    for layer in rewritten.layers:
        if layer.name not in names:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    logger.info("int8 stem: %s folded into a %dx%d space-to-depth convolution", " + ".join(names), block, block)
    return rewritten, [layer.name for layer in chain]

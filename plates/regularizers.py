"""Weight decay split by parameter role, and the L1-on-gamma sparsity of network slimming.

The seed recipe decays conv/dense kernels and BN gamma with separate strengths and never
decays biases or beta; network slimming (Liu et al. 2017) adds L1 on every BN gamma so
unimportant channels go to zero and can be removed."""

from __future__ import annotations

import dataclasses

from plates.keras import keras, tf

KERNEL_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)


@dataclasses.dataclass(frozen=True)
class Decay:
    kernel_l2: float = 5e-5
    gamma_l2: float = 0.0
    gamma_l1: float = 0.0  # slimming sparsity
    exclude: tuple[str, ...] = ()  # layer-name prefixes without L1 (e.g. protected heads)
    gamma_l1_prox: bool = False  # L1 as a soft-threshold after each step instead of a loss term


def kernels(model: keras.Model) -> list[tf.Variable]:
    out = []
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            out.append(layer.depthwise_kernel)
        elif isinstance(layer, KERNEL_LAYERS):
            out.append(layer.kernel)
    return out


def gammas(model: keras.Model, exclude: tuple[str, ...] = ()) -> list[tf.Variable]:
    return [
        layer.gamma
        for layer in _all_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
        and layer.scale
        and not any(layer.name.startswith(p) for p in exclude)
    ]


def _all_layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        elif isinstance(getattr(layer, "layer", None), keras.layers.Layer):  # tfmot QuantizeWrapper
            yield layer.layer
        else:
            yield layer


def penalty(model: keras.Model, decay: Decay) -> tf.Tensor:
    """The scalar regularisation term to add to the loss."""
    total = tf.constant(0.0)
    ks = kernels(model)
    if ks and decay.kernel_l2:
        total += decay.kernel_l2 * 0.5 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in ks])
    gs = gammas(model)
    if gs and decay.gamma_l2:
        total += decay.gamma_l2 * 0.5 * tf.add_n([tf.reduce_sum(tf.square(g)) for g in gs])
    gs = gammas(model, decay.exclude)
    if gs and decay.gamma_l1 and not decay.gamma_l1_prox:
        total += decay.gamma_l1 * tf.add_n([tf.reduce_sum(tf.abs(g)) for g in gs])
    return total


def shrink_gammas(model: keras.Model, decay: Decay, lr: tf.Tensor) -> None:
    """Proximal L1 step: gamma <- sign(gamma) * max(|gamma| - lr * gamma_l1, 0).

    Why: as a loss term under RAdam the L1 gradient is rescaled with the task gradient, so the
    gammas barely move towards zero; soft-thresholding reaches exact zeros, which is what the
    pruning threshold and the equivalence check want. The strength needs tuning
    (docs/experiments/003)."""
    step = tf.cast(lr, tf.float32) * decay.gamma_l1
    for g in gammas(model, decay.exclude):
        g.assign(tf.sign(g) * tf.maximum(tf.abs(g) - step, 0.0))

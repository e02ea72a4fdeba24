"""The teacher's backbones (ResNet-18 with a plate stem, and a tiny one for tests),
registered into ``plates.backbones`` when this module is imported.

A backbone is a function on a Keras tensor (already normalised) returning a 4-D feature
map. Convolutions have no bias (BN follows), so L2 goes on kernels and the BN gamma carries
each channel's scale, which is what network slimming prunes on."""

from __future__ import annotations

from collections.abc import Sequence

from plates.backbones import register_backbone
from plates.keras import keras, tf

layers = keras.layers


def conv_bn(
    x: tf.Tensor, filters: int, kernel: int | tuple[int, int], strides=1, name: str = "", act: bool = True
) -> tf.Tensor:
    x = layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if act else x


def basic_block(x: tf.Tensor, filters: int, strides, name: str) -> tf.Tensor:
    shortcut = x
    y = conv_bn(x, filters, 3, strides, f"{name}_1")
    y = conv_bn(y, filters, 3, 1, f"{name}_2", act=False)
    if strides != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, strides, f"{name}_down", act=False)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


@register_backbone("resnet18")
def resnet18(x: tf.Tensor, width: int = 64, strides: Sequence = (1, 2, 2, 2), stem_pool: bool = True) -> tf.Tensor:
    """ResNet-18 with a plate stem: 3x3 stride-2 conv (no 7x7; plates are only ~48 px tall),
    optional 2x2 max-pool, then 4 stages of 2 basic blocks, channels width*(1, 2, 4, 8).

    At 48x144 the output is 2x5 (stride 32); ``strides`` shifts where resolution drops."""
    x = conv_bn(x, width, 3, 2, "stem")
    if stem_pool:
        x = layers.MaxPool2D(2, name="stem_pool")(x)
    for stage, s in enumerate(strides):
        filters = width * 2**stage
        x = basic_block(x, filters, s, f"stage{stage + 1}_block1")
        x = basic_block(x, filters, 1, f"stage{stage + 1}_block2")
    return x


@register_backbone("tiny")
def tiny(x: tf.Tensor, width: int = 8) -> tf.Tensor:
    """A few-thousand-parameter net for unit tests: stem, one residual block, a strided conv."""
    x = conv_bn(x, width, 3, 2, "stem")
    x = basic_block(x, width, 1, "stage1_block1")
    return conv_bn(x, width * 2, 3, 2, "stage2")

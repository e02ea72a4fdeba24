"""MobileNetV3-Small / -Large backbones for plate-shaped inputs.

Keras' own MobileNetV3 refuses inputs under 32 px and breaks tfmot (hard-swish as a
TFOpLambda, ``Rescaling``). This one is built from Conv/DepthwiseConv/BN/ReLU plus the
``HardSwish``/``HardSigmoid`` layers, and its stride plan keeps horizontal resolution: the
last two downsamplings are (2, 1), so a 32x96 plate ends at 1x12 and a 48x144 one at 2x18
- one or two columns per character instead of three for all eight."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from plates.backbones import register_backbone
from plates.errors import ModelError
from plates.keras import keras, tf
from plates.layers import HardSigmoid, HardSwish

layers = keras.layers

# kernel, expansion, out, SE, activation, stride   (Howard et al. 2019, tables 1 and 2)
SMALL = [
    (3, 16, 16, True, "RE", 2),
    (3, 72, 24, False, "RE", 2),
    (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", (2, 1)),
    (5, 240, 40, True, "HS", 1),
    (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1),
    (5, 144, 48, True, "HS", 1),
    (5, 288, 96, True, "HS", (2, 1)),
    (5, 576, 96, True, "HS", 1),
    (5, 576, 96, True, "HS", 1),
]
LARGE = [
    (3, 16, 16, False, "RE", 1),
    (3, 64, 24, False, "RE", 2),
    (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2),
    (5, 120, 40, True, "RE", 1),
    (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", (2, 1)),
    (3, 200, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 480, 112, True, "HS", 1),
    (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", (2, 1)),
    (5, 960, 160, True, "HS", 1),
    (5, 960, 160, True, "HS", 1),
]
LAST = {"small": 576, "large": 960}


def make_divisible(v: float, divisor: int = 8) -> int:
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def _act(x, kind: str, name: str):
    return HardSwish(name=name)(x) if kind == "HS" else layers.ReLU(name=name)(x)


def _se(x, filters: int, name: str):
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(x)
    s = layers.Conv2D(make_divisible(filters / 4), 1, name=f"{name}_se_reduce")(s)
    s = layers.ReLU(name=f"{name}_se_relu")(s)
    s = layers.Conv2D(filters, 1, name=f"{name}_se_expand")(s)
    s = HardSigmoid(name=f"{name}_se_gate")(s)
    return layers.Multiply(name=f"{name}_se_mul")([x, s])


def _bn(x, name: str):
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name=name)(x)


def inverted_residual(x, kernel: int, expansion: int, out: int, se: bool, act: str, stride, name: str):
    inp = x.shape[-1]
    y = x
    if expansion != inp:
        y = layers.Conv2D(expansion, 1, use_bias=False, name=f"{name}_expand_conv")(y)
        y = _act(_bn(y, f"{name}_expand_bn"), act, f"{name}_expand_act")
    y = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw_conv")(y)
    y = _act(_bn(y, f"{name}_dw_bn"), act, f"{name}_dw_act")
    if se:
        y = _se(y, expansion, name)
    y = layers.Conv2D(out, 1, use_bias=False, name=f"{name}_project_conv")(y)
    y = _bn(y, f"{name}_project_bn")
    if stride == 1 and inp == out:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


@functools.cache
def check_unequal_depthwise_strides() -> None:
    """Fail at build time, with the fix, where TensorFlow cannot run (2, 1) depthwise strides.

    Its plain CPU kernel refuses them ("only supports equal length strides"); oneDNN (which
    ``plates.keras`` turns on) and GPUs take them. Without this check the error comes from deep
    inside the first training step."""
    try:
        tf.nn.depthwise_conv2d(tf.zeros((1, 4, 4, 1)), tf.zeros((3, 3, 1, 1)), (1, 2, 1, 1), "SAME")
    except tf.errors.InvalidArgumentError as e:
        raise ModelError(
            "this TensorFlow cannot run depthwise convolutions with unequal strides, which the students' "
            "plate-shaped stride plan needs; leave TF_ENABLE_ONEDNN_OPTS unset or set it to 1 "
            f"(it is {os.environ.get('TF_ENABLE_ONEDNN_OPTS')!r})"
        ) from e


def mobilenetv3(
    x: tf.Tensor,
    variant: str = "small",
    alpha: float = 1.0,
    minimalistic: bool = False,
    config: Sequence | None = None,
    stem_stride: int | tuple[int, int] = 2,
) -> tf.Tensor:
    """``stem_stride=1`` keeps twice the resolution in every block (4x the MACs): at 32x96
    the stock plan is at 4x12 after three layers, a column and a half per character.
    ``(2, 1)`` keeps only the columns (2x the MACs)."""
    rows = config or (SMALL if variant == "small" else LARGE)
    if any(isinstance(r[5], (list, tuple)) and len(set(r[5])) > 1 for r in rows):
        check_unequal_depthwise_strides()
    stem_act = "RE" if minimalistic else "HS"
    x = layers.Conv2D(
        make_divisible(16 * alpha), 3, strides=stem_stride, padding="same", use_bias=False, name="stem_conv"
    )(x)
    x = _act(_bn(x, "stem_bn"), stem_act, "stem_act")
    for i, (k, exp, out, se, act, stride) in enumerate(rows, 1):
        if minimalistic:
            k, se, act = 3, False, "RE"
        x = inverted_residual(
            x,
            k,
            make_divisible(exp * alpha),
            make_divisible(out * alpha),
            se,
            act,
            tuple(stride) if isinstance(stride, list) else stride,
            f"block{i}",
        )
    last = make_divisible(LAST[variant] * alpha) if alpha > 1 else LAST[variant]
    x = layers.Conv2D(last, 1, use_bias=False, name="last_conv")(x)
    return _act(_bn(x, "last_bn"), stem_act, "last_act")


@register_backbone("mobilenetv3_small")
def mobilenetv3_small(x, alpha: float = 1.0, minimalistic: bool = False, stem_stride: int | tuple = 2):
    return mobilenetv3(x, "small", alpha, minimalistic, stem_stride=stem_stride)


@register_backbone("mobilenetv3_large")
def mobilenetv3_large(x, alpha: float = 1.0, minimalistic: bool = False, stem_stride: int | tuple = 2):
    return mobilenetv3(x, "large", alpha, minimalistic, stem_stride=stem_stride)


def create_student(
    spec,
    input_size=(48, 144),
    arch: str = "small",
    alpha: float = 1.0,
    minimalistic: bool = False,
    neck: int = 128,
    dropout: float = 0.1,
    normalisation: str = "scale",
    *,
    stem_stride: int | tuple[int, int] = 2,
    pooling: str = "flatten",
):
    """A multi-head MobileNetV3 classifier and its ModelInfo (``pooling``: see ``plates.heads``)."""
    from plates.heads import create_classifier

    if arch not in ("small", "large"):
        raise ValueError(f"arch must be small or large, not {arch!r}")
    return create_classifier(
        spec,
        input_size,
        f"mobilenetv3_{arch}",
        normalisation,
        neck,
        dropout,
        pooling,
        alpha=alpha,
        minimalistic=minimalistic,
        stem_stride=stem_stride,
    )

"""Multi-head classifier builder shared by the teacher and the students.

image (raw 0..255) -> normalise -> backbone -> 1x1 neck -> flatten (keeps position)
-> one Dense+softmax per head, each output named after its head."""

from __future__ import annotations

from plates.bundle import ModelInfo
from plates.keras import keras, tf
from plates.layers import create_normaliser
from plates.spec import PlateSpec

layers = keras.layers


def attach_heads(features: tf.Tensor, spec: PlateSpec, neck: int = 128, dropout: float = 0.1) -> list[tf.Tensor]:
    """Per-head softmax outputs from a feature map. Flatten, not global pooling: a head must
    know *where* its character is."""
    x = features
    if neck:
        x = layers.Conv2D(neck, 1, use_bias=False, kernel_initializer="he_normal", name="neck_conv")(x)
        x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="neck_bn")(x)
        x = layers.ReLU(name="neck_relu")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = []
    for head in spec.heads:
        logits = layers.Dense(len(head.classes), kernel_initializer="glorot_uniform", name=f"{head.name}_logits")(x)
        outputs.append(layers.Softmax(name=head.name)(logits))
    return outputs


def build_classifier(
    info: ModelInfo,
    backbone,
    normalisation: str = "whiten",
    neck: int = 128,
    dropout: float = 0.1,
    name: str = "plate_classifier",
) -> keras.Model:
    """``backbone`` maps a normalised tensor to a feature map (see ``plates.backbones``)."""
    inputs = keras.Input((info.height, info.width, info.channels), name="image")
    x = create_normaliser(normalisation)(inputs)
    features = backbone(x)
    return keras.Model(inputs, attach_heads(features, info.spec, neck, dropout), name=name)


def create_classifier(
    spec: PlateSpec,
    input_size: tuple[int, int] = (48, 144),
    backbone: str = "resnet18",
    normalisation: str = "whiten",
    neck: int = 128,
    dropout: float = 0.1,
    **backbone_kwargs,
) -> tuple[keras.Model, ModelInfo]:
    from plates.backbones import create_backbone

    info = ModelInfo(
        spec,
        int(input_size[0]),
        int(input_size[1]),
        extra={
            "architecture": {
                "backbone": backbone,
                "normalisation": normalisation,
                "neck": neck,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in backbone_kwargs.items()},
            }
        },
    )
    model = build_classifier(
        info,
        lambda x: create_backbone(backbone, x, **backbone_kwargs),
        normalisation,
        neck,
        dropout,
        name=f"plates_{backbone}",
    )
    return model, info

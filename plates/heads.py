"""Multi-head classifier builder shared by the teacher and the students.

image (raw 0..255) -> normalise -> backbone -> 1x1 neck -> pooling -> one Dense+softmax per
head, each output named after its head.

The pooling turns the feature map into the vector the heads read, from the ``POOLINGS``
registry (``create_pooling``):

- ``flatten`` keeps every position: a head's weights are tied to where in the crop its
  character sits.
- ``attention``: one softmax over the positions per head (a slot), from the features and a
  learned position prior, and the features summed under it; the heads read the slots. The
  heads take far fewer weights, and they make other mistakes than flatten's. A stock Conv2D
  makes the attention logits; ``plates.layers.AttentionPool`` does the rest in ops XNNPACK
  takes in int8.
- ``flatten+attention``: both, each with its own Dense per head, the probabilities averaged
  (``attach_heads``).
"""

from __future__ import annotations

from collections.abc import Callable

from plates.bundle import ModelInfo
from plates.errors import PlateError
from plates.keras import keras, tf
from plates.layers import AttentionPool, create_normaliser
from plates.spec import PlateSpec

layers = keras.layers


Pooling = Callable[[tf.Tensor, int], tf.Tensor]  # (feature map, number of heads) -> (batch, features)
POOLINGS: dict[str, Pooling] = {}


def register_pooling(name: str) -> Callable[[Pooling], Pooling]:
    def add(fn: Pooling) -> Pooling:
        POOLINGS[name] = fn
        return fn

    return add


def create_pooling(name: str) -> list[tuple[str, Pooling]]:
    """The readers ``name`` asks for, as (name, pooling): one pooling, or several joined by ``+``
    (e.g. ``flatten+attention``), each with its own Dense per head, the heads' probabilities
    averaged."""
    try:
        return [(part, POOLINGS[part]) for part in name.split("+")]
    except KeyError:
        raise PlateError(f"unknown pooling {name!r}; known: {', '.join(POOLINGS)}, or several joined by +") from None


@register_pooling("flatten")
def flatten_pooling(x: tf.Tensor, slots: int) -> tf.Tensor:
    """Every position's features in a row: the heads know where each feature was."""
    return layers.Flatten(name="flatten")(x)


@register_pooling("attention")
def attention_pooling(x: tf.Tensor, slots: int) -> tf.Tensor:
    """``slots`` attention maps over the positions (3x3 conv logits, so a position sees its
    neighbours when it decides whether it holds the character), each a softmax over all
    positions, and the features summed under each map, in a row (``AttentionPool``)."""
    logits = layers.Conv2D(slots, 3, padding="same", name="attention_logits")(x)
    return AttentionPool(name="attention_pool")([logits, x])


def attach_heads(
    features: tf.Tensor, spec: PlateSpec, neck: int = 128, dropout: float = 0.1, pooling: str = "flatten"
) -> list[tf.Tensor]:
    """Per-head softmax outputs from a feature map. Never global pooling: a head must know
    *where* its character is (from the position, or from its own attention map).

    With several readers (``flatten+attention``) each head is the mean of one softmax per
    reader: two readers on one backbone, as two separate models with different heads made
    different mistakes (docs/experiments/026 found no gain from this one-model form). The first
    reader's layers keep the single-reader names (``char1_logits``), so ``--init-partial`` from a
    model with that pooling starts it trained."""
    readers = create_pooling(pooling)
    x = features
    if neck:
        x = layers.Conv2D(neck, 1, use_bias=False, kernel_initializer="he_normal", name="neck_conv")(x)
        x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="neck_bn")(x)
        x = layers.ReLU(name="neck_relu")(x)
    per_head: dict[str, list[tf.Tensor]] = {head.name: [] for head in spec.heads}
    for i, (reader_name, reader) in enumerate(readers):
        tag = "" if i == 0 else f"{reader_name}_"
        pooled = reader(x, len(spec.heads))
        if dropout:
            pooled = layers.Dropout(dropout, name=f"{tag}dropout")(pooled)
        for head in spec.heads:
            logits = layers.Dense(
                len(head.classes), kernel_initializer="glorot_uniform", name=f"{head.name}_{tag}logits"
            )(pooled)
            own = head.name if len(readers) == 1 else f"{head.name}_{reader_name}"
            per_head[head.name].append(layers.Softmax(name=own)(logits))
    return [p[0] if len(p) == 1 else layers.Average(name=name)(p) for name, p in per_head.items()]


def build_classifier(
    info: ModelInfo,
    backbone,
    normalisation: str = "whiten",
    neck: int = 128,
    dropout: float = 0.1,
    name: str = "plate_classifier",
    pooling: str = "flatten",
) -> keras.Model:
    """``backbone`` maps a normalised tensor to a feature map (see ``plates.backbones``)."""
    inputs = keras.Input((info.height, info.width, info.channels), name="image")
    x = create_normaliser(normalisation)(inputs)
    features = backbone(x)
    return keras.Model(inputs, attach_heads(features, info.spec, neck, dropout, pooling), name=name)


def create_classifier(
    spec: PlateSpec,
    input_size: tuple[int, int] = (48, 144),
    backbone: str = "resnet18",
    normalisation: str = "whiten",
    neck: int = 128,
    dropout: float = 0.1,
    pooling: str = "flatten",
    **backbone_kwargs,
) -> tuple[keras.Model, ModelInfo]:
    from plates.backbones import create_backbone

    create_pooling(pooling)  # an unknown name fails before the backbone is built

    info = ModelInfo(
        spec,
        int(input_size[0]),
        int(input_size[1]),
        extra={
            "architecture": {
                "backbone": backbone,
                "normalisation": normalisation,
                "neck": neck,
                "pooling": pooling,
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
        pooling=pooling,
    )
    return model, info

"""Backbone registry: ``create_backbone(name, x, **kwargs)`` -> feature map.

The foundation holds the registry; model families (``teacher.backbones``,
``student.mobilenetv3``) register into it when imported, so neither family imports the other
and a new one plugs in with ``@register_backbone("name")``."""

from __future__ import annotations

from collections.abc import Callable

from plates.keras import tf

BACKBONES: dict[str, Callable[..., tf.Tensor]] = {}


def register_backbone(name: str):
    def wrap(fn):
        BACKBONES[name] = fn
        return fn

    return wrap


def create_backbone(name: str, x: tf.Tensor, **kwargs) -> tf.Tensor:
    try:
        fn = BACKBONES[name]
    except KeyError:
        raise ValueError(
            f"unknown backbone {name!r}; registered: {sorted(BACKBONES)} (a family registers itself when its module "
            "is imported: teacher.backbones, student.mobilenetv3)"
        ) from None
    return fn(x, **kwargs)

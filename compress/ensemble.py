"""Ensembles: several models in one graph, each head the mean of the members' probabilities.

Two models trained apart (another pooling, another seed) make different mistakes, so the mean
of their probabilities reads plates that neither reads alone. An ensemble costs the sum of its
members at inference, so it is rarely the model to ship on a device; it is the model to learn
*from*: a teacher for ``compress distill`` and a labeller for ``teacher pseudo-label``, which
both take a model folder. Unlike a soup (``compress.soup``) the members may differ in
architecture and input size; only their heads and classes must match.

The members are copied into one flat graph (every layer renamed ``m<i>_<name>``), not nested
as sub-models: the export stages (stem rewrite, int8 ops, ONNX) walk a model's layers and
would not look inside a nested one. The graph is built from the members' configs, renamed, not
with ``clone_model``, whose rebuild loops forever once a clone function renames the layers.
A member of another input size reads the ensemble input through a bilinear resize to its own
size."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plates.bundle import ModelInfo
from plates.errors import ModelError, SpecError

if TYPE_CHECKING:
    from plates.keras import keras

logger = logging.getLogger("plates")


@dataclasses.dataclass
class Ensemble:
    """The one-graph model, its labels, and its members (folders)."""

    model: keras.Model
    info: ModelInfo
    members: list[str]


def member_prefix(index: int) -> str:
    return f"m{index}_"


def renamed_refs(value: Any, rename: dict[str, str]) -> Any:
    """``value`` (a functional config's inbound nodes, or a part of them) with every reference
    ``[layer, node, tensor, ...]`` to a layer in ``rename`` pointing to its new name."""
    if isinstance(value, list):
        if len(value) >= 3 and isinstance(value[0], str) and value[0] in rename and isinstance(value[1], int):
            return [rename[value[0]], *value[1:]]
        return [renamed_refs(v, rename) for v in value]
    if isinstance(value, dict):
        return {k: renamed_refs(v, rename) for k, v in value.items()}
    return value


def member_layers(model: keras.Model, prefix: str, source: str) -> tuple[list[dict], dict[str, str]]:
    """The layer configs of the functional ``model`` renamed ``prefix + name``, its input layer
    left out and read from the layer ``source`` instead; and the old -> new name map."""
    config = model.get_config()
    if len(config.get("input_layers", [])) != 1:
        raise ModelError(f"{model.name}: an ensemble member must be a functional model with one input")
    image = config["input_layers"][0][0]
    rename = {layer["name"]: prefix + layer["name"] for layer in config["layers"]}
    rename[image] = source
    layers = []
    for layer in config["layers"]:
        if layer["name"] == image:
            continue
        layers.append(
            {
                **layer,
                "name": rename[layer["name"]],
                "config": {**layer["config"], "name": rename[layer["name"]]},
                "inbound_nodes": renamed_refs(layer["inbound_nodes"], rename),
            }
        )
    return layers, rename


def input_layer(info: ModelInfo) -> dict:
    """The config of the ensemble's input layer ``image`` (raw pixels, as every member takes)."""
    shape = [None, *info.size, info.channels]
    return {
        "class_name": "InputLayer",
        "name": "image",
        "config": {"batch_input_shape": shape, "dtype": "float32", "sparse": False, "name": "image"},
        "inbound_nodes": [],
    }


def resize_layer(name: str, size: tuple[int, int]) -> dict:
    """The config of a bilinear resize of ``image`` to a member's own input size."""
    from plates.keras import keras

    config = keras.layers.Resizing(*size, name=name).get_config()
    return {"class_name": "Resizing", "name": name, "config": config, "inbound_nodes": [[["image", 0, 0, {}]]]}


def make_ensemble(
    folders: Sequence[str | os.PathLike], name: str = "ensemble", weights: Sequence[int] | None = None
) -> Ensemble:
    """One Keras model whose every head is the mean of the heads of the model folders ``folders``.

    The ensemble takes the first member's input size; the heads (names, classes, order) must be
    the same in every member, as the mean of two different class lists means nothing.

    ``weights`` (whole numbers, one per member) count a member that many times in the mean: a
    soup of several fine-tunes stands for them in one member at their combined weight, so the
    teacher costs two members instead of one per fine-tune. The mean stays Keras's ``Average``
    (a member's head repeated in its inputs), so every export path reads it as before."""
    from plates.keras import keras
    from plates.layers import custom_objects
    from plates.modelio import head_names, load_model

    if len(folders) < 2:
        raise ModelError("an ensemble needs at least two model folders")
    weights = list(weights) if weights is not None else [1] * len(folders)
    if len(weights) != len(folders) or min(weights) < 1:
        n = len(folders)
        raise ModelError(f"an ensemble of {n} models needs {n} weights of 1 or more, not {weights}")
    names = [str(f) for f in folders]
    loaded = [load_model(f) for f in names]
    first = loaded[0][1]
    for folder, (_, info) in zip(names[1:], loaded[1:], strict=True):
        if info.spec.to_dict() != first.spec.to_dict():
            raise SpecError(f"{folder}: its heads or classes differ from {names[0]}'s (labels.json)")
    layers: list[dict] = [input_layer(first)]
    per_head: dict[str, list] = {h.name: [] for h in first.spec.heads}
    renames = []
    for index, (model, info) in enumerate(loaded):
        prefix, source = member_prefix(index), "image"
        if info.size != first.size:  # pixels stay 0-255: each member normalises inside its graph
            source = prefix + "resize"
            layers.append(resize_layer(source, info.size))
        member, rename = member_layers(model, prefix, source)
        layers += member
        renames.append(rename)
        for head, ref in zip(head_names(model), model.get_config()["output_layers"], strict=True):
            per_head[head] += [[rename[ref[0]], *ref[1:], {}]] * weights[index]
    for head, refs in per_head.items():
        layers.append({"class_name": "Average", "name": head, "config": {"name": head}, "inbound_nodes": [refs]})
    config = {"name": name, "layers": layers, "input_layers": [["image", 0, 0]]}
    config["output_layers"] = [[head, 0, 0] for head in per_head]
    model = keras.Model.from_config(config, custom_objects=custom_objects())
    for (member_model, _), rename in zip(loaded, renames, strict=True):
        for layer in member_model.layers:
            if layer.weights and layer.name in rename:
                model.get_layer(rename[layer.name]).set_weights(layer.get_weights())
    members = [
        {"model": f, "architecture": i.extra.get("architecture")} for f, (_, i) in zip(names, loaded, strict=True)
    ]
    extra = {"architecture": {"ensemble": members}, "ensemble": {"members": names, "weights": weights}}
    info = dataclasses.replace(first, extra=extra)
    logger.info("ensemble of %d models (weights %s): %d parameters", len(names), weights, model.count_params())
    return Ensemble(model, info, names)


def save_ensemble(out: str | os.PathLike, ensemble: Ensemble) -> Path:
    """The ensemble as a model folder (model.keras + labels.json, which names the members)."""
    from plates.modelio import save_model

    return save_model(out, ensemble.model, ensemble.info)

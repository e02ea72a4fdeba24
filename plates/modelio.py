"""Save and load Keras models together with their ``labels.json``.

A model folder holds ``model.keras`` and ``labels.json``; every stage reads the previous
stage's folder this way."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from plates.atomic import atomic_path
from plates.bundle import ModelInfo, read_labels, write_labels
from plates.errors import ModelError
from plates.keras import keras, tf
from plates.layers import custom_objects

MODEL_FILE = "model.keras"
QAT_MODEL_FILE = "model.h5"  # tfmot wrappers do not round-trip through the .keras format


def save_model(folder: str | os.PathLike, model: keras.Model, info: ModelInfo) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = QAT_MODEL_FILE if info.extra.get("qat") else MODEL_FILE
    with atomic_path(folder / name) as tmp:
        model.save(tmp)
    write_labels(folder, info)
    return folder


def model_file(path: str | os.PathLike) -> Path:
    """The model file of a folder (``model.keras``, or ``model.h5`` for QAT models)."""
    path = Path(path)
    if not path.is_dir():
        return path
    for name in (MODEL_FILE, QAT_MODEL_FILE):
        if (path / name).exists():
            return path / name
    return path / MODEL_FILE


def require_model(path: str | os.PathLike) -> Path:
    """The model file of ``path``, or a one-line ``ModelError`` when there is none: commands check
    their model options with it before they read data or write anything."""
    file = model_file(path)
    if not file.is_file():
        raise ModelError(f"{file}: no Keras model here (expected {MODEL_FILE} in the folder)")
    return file


def load_model(path: str | os.PathLike, compile: bool = False) -> tuple[keras.Model, ModelInfo]:
    """Load ``model.keras`` (given the file or its folder) and the ``labels.json`` beside it."""
    file = require_model(path)
    info = read_labels(file.parent)
    scope = contextlib.nullcontext()
    if info.extra.get("qat"):  # tfmot wrappers need their scope to deserialise
        from plates.keras import tfmot
        from plates.quantize_config import qat_objects

        scope = tfmot.quantization.keras.quantize_scope(qat_objects())
    try:
        with scope:
            model = keras.models.load_model(file, custom_objects=custom_objects(), compile=compile)
    except Exception as exc:  # Keras raises many kinds for a corrupt file
        raise ModelError(f"{file}: cannot load Keras model ({type(exc).__name__}: {str(exc)[:200]})") from None
    check_heads(model, info, str(file))
    return model, info


QAT_PREFIX = "quant_"  # tfmot renames every layer it wraps


def head_names(model: keras.Model) -> list[str]:
    """Output names as head names (a QAT model's ``quant_char1`` is head ``char1``)."""
    return [n[len(QAT_PREFIX) :] if n.startswith(QAT_PREFIX) else n for n in model.output_names]


def check_heads(model: keras.Model, info: ModelInfo, where: str = "model") -> None:
    """The model must have one softmax output per head, named after it, of the right width."""
    names = head_names(model)
    for head in info.spec.heads:
        if head.name not in names:
            raise ModelError(f"{where}: has no output named {head.name!r} (outputs: {names})")
        width = model.outputs[names.index(head.name)].shape[-1]
        if width != len(head.classes):
            raise ModelError(
                f"{where}: output {head.name!r} has {width} classes, labels.json lists {len(head.classes)}"
            )


def outputs_by_name(model: keras.Model, outputs) -> dict:
    """Map a Keras model's output list to ``{head name: tensor}``."""
    if isinstance(outputs, dict):
        return outputs
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return dict(zip(head_names(model), outputs, strict=True))


def inbound_names(layer: keras.layers.Layer) -> list[str]:
    """The names of the layers whose outputs ``layer`` takes, in a functional model."""
    if not layer._inbound_nodes:  # noqa: SLF001 - Keras exposes the graph only here
        return []
    node = layer._inbound_nodes[0]  # noqa: SLF001
    return [t._keras_history.layer.name for t in tf.nest.flatten(node.input_tensors)]  # noqa: SLF001

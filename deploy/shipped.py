"""Where the shipped models live, so ``deploy predict IMAGE`` reads plates with no bundle given.

The repository's ``models/`` folder holds the reference models with their cards; the student's
int8 TFLite bundle is the default because it is what a device runs."""

from __future__ import annotations

import os
from pathlib import Path

from deploy.predictor import BundleError


def _models() -> Path:
    """The checkout's ``models/`` (an editable install), else ``./models`` (running from a
    checkout with a plain ``pip install .``, which does not copy the models into site-packages)."""
    beside = Path(__file__).resolve().parents[1] / "models"
    return beside if beside.is_dir() or not (Path.cwd() / "models").is_dir() else Path.cwd() / "models"


MODELS = _models()
DEFAULT_BUNDLE = MODELS / "student" / "tflite-int8"


def is_bundle(path: str | os.PathLike) -> bool:
    """A bundle folder (it has labels.json) or a model file."""
    p = Path(path)
    return (p.is_dir() and (p / "labels.json").exists()) or (p.is_file() and p.suffix in (".tflite", ".onnx"))


def split_bundle(inputs: list[str], bundle: str | None = None) -> tuple[Path, list[str]]:
    """(bundle, images) from ``deploy predict``'s inputs: an explicit ``--bundle``, else a first
    input that is a bundle, else the shipped default."""
    if bundle is not None:
        return Path(bundle), inputs
    if inputs and is_bundle(inputs[0]):
        if len(inputs) == 1:
            raise BundleError(f"{inputs[0]}: a bundle, but no images to read after it")
        return Path(inputs[0]), inputs[1:]
    if not (DEFAULT_BUNDLE / "labels.json").exists():
        raise BundleError(f"no bundle given and no shipped model at {DEFAULT_BUNDLE}; give a bundle folder first")
    return DEFAULT_BUNDLE, inputs

"""What an artefact is: a Keras model folder or an exported bundle, with its size, precision,
parameters and MACs (from its Keras source)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from deploy.xnnpack import XNNPACK_FLOAT_OPS
from plates.errors import ModelError

GENERIC = {"int8", "fp32", "fp16", "dynamic", "bundle", "model"}


@dataclasses.dataclass
class Artefact:
    name: str
    path: Path  # the model file
    kind: str  # keras | tflite | onnx
    precision: str  # fp32 | fp16 | dynamic | int8 | int8+float (some ops kept in float)
    source: Path | None  # Keras model folder it came from
    size_bytes: int

    @property
    def folder(self) -> Path:
        return self.path.parent

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "kind": self.kind,
            "precision": self.precision,
            "source": str(self.source) if self.source else None,
            "size_bytes": self.size_bytes,
        }


def find_artefacts(paths: list[str | os.PathLike]) -> list[Artefact]:
    """Each path: a Keras model folder, a bundle folder, or a folder of those (one level)."""
    out: list[Artefact] = []
    for p in map(Path, paths):
        found = _one(p)
        if found is None and p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_dir() and (a := _one(child)) is not None:
                    out.append(a)
            if not any(str(a.path).startswith(str(p)) for a in out):
                raise ModelError(f"{p}: no model.keras, model.tflite or model.onnx here or one level below")
        elif found is None:
            raise ModelError(f"{p}: not a model folder")
        else:
            out.append(found)
    names = [a.name for a in out]
    for a in out:  # make names unique
        if names.count(a.name) > 1:
            a.name = f"{a.folder.parent.name}/{a.name}"
    return out


def _one(folder: Path) -> Artefact | None:
    if not folder.is_dir():
        return None
    report = folder / "export_report.json"
    info = json.loads(report.read_text()) if report.exists() else {}
    for kind, file in (
        ("tflite", "model.tflite"),
        ("onnx", "model.onnx"),
        ("keras", "model.keras"),
        ("keras", "model.h5"),
    ):
        path = folder / file
        if path.exists():
            if kind == "tflite":  # int8+float: --keep-float left more than XNNPACK_FLOAT_OPS in float
                extra = set(info.get("keep_float", ())) - set(XNNPACK_FLOAT_OPS)
                precision = info.get("mode", "fp32") + ("+float" if extra else "")
            elif kind == "onnx":
                precision = "int8" if info.get("int8") else "fp32"
            else:
                labels = json.loads((folder / "labels.json").read_text()) if (folder / "labels.json").exists() else {}
                precision = "qat" if labels.get("qat") else "fp32"
            source = Path(info["source_model"]) if info.get("source_model") else (folder if kind == "keras" else None)
            if source is not None and not source.is_absolute() and not source.exists():
                source = None
            name = folder.name if folder.name not in GENERIC else f"{folder.parent.name}/{folder.name}"
            return Artefact(name, path, kind, precision, source, path.stat().st_size)
    return None

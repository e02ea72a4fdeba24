"""``labels.json``: what a model takes and what its heads mean, beside every model.

With only that file and a runtime anyone can score a model: input size and pixel format,
the heads in output order with their classes in plate order (``""`` = no character),
which heads form the text and which are attributes."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from plates.atomic import write_json
from plates.errors import SpecError
from plates.spec import PlateSpec

FORMAT = "plates-labels/1"
LABELS_FILE = "labels.json"


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    spec: PlateSpec
    height: int
    width: int
    channels: int = 3
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.height, self.width

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "input": {
                "height": self.height,
                "width": self.width,
                "channels": self.channels,
                "layout": "NHWC",
                "colour": "RGB",
                "range": [0, 255],
                "note": "raw pixels; normalisation is inside the model",
            },
            "heads": self.spec.to_dict(),
            "text_heads": [h.name for h in self.spec.char_heads],
            "attribute_heads": [h.name for h in self.spec.attribute_heads],
            "confidence": "min over text heads of the top probability",
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "labels.json") -> ModelInfo:
        if data.get("format") != FORMAT:
            raise SpecError(f"{where}: format is {data.get('format')!r}, expected {FORMAT!r}")
        try:
            inp = data["input"]
            spec = PlateSpec.from_dict(data["heads"])
            extra = {
                k: v
                for k, v in data.items()
                if k not in ("format", "input", "heads", "text_heads", "attribute_heads", "confidence")
            }
            return cls(spec, int(inp["height"]), int(inp["width"]), int(inp.get("channels", 3)), extra)
        except SpecError as exc:  # a head list the spec refuses (a class too few, one twice): the file is at fault
            raise SpecError(f"{where}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError(f"{where}: malformed ({exc!r})") from None


def write_labels(folder: str | os.PathLike, info: ModelInfo) -> Path:
    return write_json(Path(folder) / LABELS_FILE, info.to_dict())


def read_labels(path: str | os.PathLike) -> ModelInfo:
    """Read ``labels.json`` (given the file, or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / LABELS_FILE
    if not path.is_file():
        raise SpecError(f"{path}: not found (every model folder needs its labels.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid JSON ({exc})") from None
    return ModelInfo.from_dict(data, str(path))

"""A Triton Inference Server model repository for an ONNX bundle.

REPO/NAME/config.pbtxt            onnxruntime backend, dynamic batching
REPO/NAME/1/model.onnx
REPO/NAME/<head>_labels.txt       one class per line (an empty line = no character)
REPO/NAME/labels.json
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from plates.atomic import atomic_path, write_text
from plates.bundle import read_labels
from plates.errors import PlateError


def write_triton_repo(
    bundle: str | os.PathLike,
    repo: str | os.PathLike,
    name: str = "plates",
    max_batch: int = 64,
    preferred: tuple[int, ...] = (8, 32),
    delay_us: int = 2000,
    instances: int = 1,
) -> Path:
    bundle = Path(bundle)
    model = bundle / "model.onnx"
    if not model.is_file():
        raise PlateError(f"{bundle}: no model.onnx (run 'deploy onnx' first; Triton is given the ONNX model)")
    info = read_labels(bundle)
    target = Path(repo) / name
    with atomic_path(target) as tmp:
        (tmp / "1").mkdir(parents=True)
        shutil.copy(model, tmp / "1" / "model.onnx")
        shutil.copy(bundle / "labels.json", tmp / "labels.json")
        outputs = []
        for head in info.spec.heads:
            (tmp / f"{head.name}_labels.txt").write_text("\n".join(head.classes) + "\n", encoding="utf-8")
            outputs.append(
                f'  {{\n    name: "{head.name}"\n    data_type: TYPE_FP32\n    dims: [ {len(head.classes)} ]\n'
                f'    label_filename: "{head.name}_labels.txt"\n  }}'
            )
        config = (
            f'name: "{name}"\nbackend: "onnxruntime"\nmax_batch_size: {max_batch}\n'
            f'input [\n  {{\n    name: "image"\n    data_type: TYPE_FP32\n    format: FORMAT_NHWC\n'
            f"    dims: [ {info.height}, {info.width}, {info.channels} ]\n  }}\n]\n"
            f"output [\n" + ",\n".join(outputs) + "\n]\n"
            f"dynamic_batching {{\n  preferred_batch_size: [ {', '.join(map(str, preferred))} ]\n"
            f"  max_queue_delay_microseconds: {delay_us}\n}}\n"
            f"instance_group [\n  {{\n    count: {instances}\n    kind: KIND_CPU\n  }}\n]\n"
        )
        write_text(tmp / "config.pbtxt", config)
    return target

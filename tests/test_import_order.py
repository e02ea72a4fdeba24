"""TensorFlow must be imported after ``plates.keras`` has set its environment (legacy Keras for
tfmot, oneDNN for the (2, 1) depthwise strides). A module that imports TensorFlow, tf_keras, tfmot
or tf2onnx at its top runs first whenever it is the first one imported: ``compress qat`` once
imported tfmot at the top of ``compress/qat.py``, started TensorFlow without oneDNN on an AVX2 host
and failed on the students' depthwise strides."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("plates", "teacher", "student", "compress", "deploy", "benchmarks", "tests")
TF_FAMILY = {"tensorflow", "tf_keras", "tensorflow_model_optimization", "tf2onnx"}
SHIM = ROOT / "plates" / "keras.py"


def imported_roots(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name.split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module.split(".")[0]} | ({node.module} if node.module == "plates.keras" else set())
    return set()


def test_only_the_keras_shim_imports_tensorflow_at_module_level():
    offenders, unguarded = [], []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == SHIM:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            top = set().union(*(imported_roots(n) for n in tree.body))
            anywhere = set().union(*(imported_roots(n) for n in ast.walk(tree)))
            rel = path.relative_to(ROOT)
            offenders += [f"{rel}: {name}" for name in sorted(top & TF_FAMILY)]
            if anywhere & TF_FAMILY and "plates.keras" not in top:  # a function-level import is
                unguarded.append(str(rel))  # safe only once the shim has run
    assert not offenders, f"import these through plates.keras instead: {offenders}"
    assert not unguarded, f"import plates.keras at the top of: {unguarded}"

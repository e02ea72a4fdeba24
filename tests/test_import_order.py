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


LAYERS = {"plates": 0, "teacher": 1, "student": 1, "deploy": 2, "compress": 3, "benchmarks": 4}


def _module_imports() -> dict[str, set[str]]:
    """Every toolkit module and the toolkit modules it imports, at any depth of the file."""
    graph: dict[str, set[str]] = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            found = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    found |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            graph[name] = {m for m in found if m.split(".")[0] in LAYERS}
    return graph


def test_every_import_follows_the_layers():
    """plates -> teacher, student (siblings, neither imports the other) -> deploy -> compress ->
    benchmarks: a module imports from its own package and the layers below, never upwards."""
    wrong = []
    for module, imports in _module_imports().items():
        own = module.split(".")[0]
        for target in sorted(imports):
            other = target.split(".")[0]
            if other != own and LAYERS[other] >= LAYERS[own]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_cycles_between_modules():
    graph = _module_imports()
    modules = set(graph)
    edges = {m: {t for t in targets if t in modules and t != m} for m, targets in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(path[path.index(t) :] + [t]) if t in path else f"{m} -> {t}")
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_no_function_in_the_packages_is_longer_than_60_lines():
    """Long functions are split into named phases (a reader sees the steps, a test can reach one)."""
    long = []
    for package in PACKAGES[:-1]:  # not the tests
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > 60:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long

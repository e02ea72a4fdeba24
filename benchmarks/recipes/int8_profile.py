"""Where the shipped student's time goes in fp32 and int8 under LiteRT / XNNPACK on this host.

LiteRT's Python API has no per-op profiler, so this times the student cut after successive
layers (each prefix converted on its own, the output an intermediate tensor): the difference
between two cut points is the cost of the layers between them. Three conversions of each
prefix, timed in turns at 1 thread, batch 1: fp32, int8 as the default export makes it (the ops
XNNPACK has no int8 kernel for in float, deploy.xnnpack.XNNPACK_FLOAT_OPS), and the same with
the stride-1 stem run as a space-to-depth convolution (deploy.rewrite). Then the stem
convolution alone at full resolution, fp32 vs int8. Writes
benchmarks/results/int8_profile.{json,md}. Run from the repository root with no training running:
``.venv/bin/python benchmarks/recipes/int8_profile.py [MODEL]`` (default models/student/keras)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from deploy.representative import draw_images
from deploy.rewrite import space_to_depth_stem
from deploy.xnnpack import XNNPACK_FLOAT_OPS, xnnpack_coverage
from plates.keras import keras, tf
from plates.modelio import load_model
from plates.runinfo import machine, versions
from plates.timing import measure_in_turns

CUTS = ("normalise", "stem_act", "block2_project_bn", "block4_project_bn", "block8_add", "block11_add", "neck_relu")
OUT = Path("benchmarks/results/int8_profile")


def convert(model: keras.Model, rep: np.ndarray, int8: bool) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([img[None].astype(np.float32)] for img in rep)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        debug = tf.lite.experimental.QuantizationDebugger(
            converter=converter,
            debug_dataset=converter.representative_dataset,
            debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(XNNPACK_FLOAT_OPS)),
        )
        from tensorflow.lite.python.convert import mlir_quantize  # as deploy.export does: uint8 input

        return mlir_quantize(
            debug.calibrated_model,
            input_data_type=tf.uint8,
            output_data_type=tf.float32,
            denylisted_ops=list(XNNPACK_FLOAT_OPS),
        )
    return converter.convert()


def runner(data: bytes, folder: Path, name: str):
    from ai_edge_litert.interpreter import Interpreter

    path = folder / f"{name}.tflite"
    path.write_bytes(data)
    it = Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], np.random.default_rng(0).integers(0, 256, d["shape"]).astype(d["dtype"]))
    return it.invoke, xnnpack_coverage(path)


def main() -> None:
    source = sys.argv[1] if len(sys.argv) > 1 else "models/student/keras"
    model, info = load_model(source)
    rep = draw_images(["runs/real-dev-split/train.txt"], info, 100, 0)
    variants: dict[str, tuple] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for cut in (*CUTS, None):
            prefix = model if cut is None else keras.Model(model.input, model.get_layer(cut).output)
            label = cut or "full model"
            variants[f"{label} | fp32"] = runner(convert(prefix, rep, False), folder, f"{label}-fp32")
            variants[f"{label} | int8"] = runner(convert(prefix, rep, True), folder, f"{label}-int8")
            if cut != "normalise":
                rewritten, _ = space_to_depth_stem(prefix) or (prefix, [])
                data = convert(rewritten, rep, True)
                variants[f"{label} | int8 stem rewritten"] = runner(data, folder, f"{label}-s2d")
        stem = model.get_layer("stem_conv")
        inp = keras.Input(stem.input.shape[1:])
        alone = keras.Model(inp, keras.layers.Conv2D.from_config(stem.get_config())(inp))
        alone.layers[-1].set_weights(stem.get_weights())
        variants["stem_conv alone | fp32"] = runner(convert(alone, rep, False), folder, "stem-fp32")
        variants["stem_conv alone | int8"] = runner(convert(alone, rep, True), folder, "stem-int8")
        names = list(variants)
        stats = measure_in_turns([variants[n][0] for n in names], warmup=50, runs=500, min_seconds=2.0, rounds=5)
    rows = [
        {"setting": n, "p50_ms": s["p50_ms"], "p90_ms": s["p90_ms"], "p99_ms": s["p99_ms"], "xnnpack": variants[n][1]}
        for n, s in zip(names, stats, strict=True)
    ]
    command = "python benchmarks/recipes/int8_profile.py" + (f" {source}" if len(sys.argv) > 1 else "")
    host, libs = machine(), versions()
    meta = {"command": command, "model": source, "threads": 1, "batch": 1, "machine": host, "versions": libs}
    OUT.with_suffix(".json").write_text(json.dumps({**meta, "rows": rows}, indent=1, ensure_ascii=False))
    lines = [
        "# Where the student's time goes: fp32 vs int8 prefixes under LiteRT / XNNPACK",
        "",
        f"- command: `{command}`",
        f"- model: `{source}`; LiteRT, 1 thread, batch 1, every setting timed in 5 turns",
        f"- machine: {host.get('cpu', '')}, {host.get('cores', '')} cores; "
        f"versions: {', '.join(f'{k} {v}' for k, v in libs.items())}",
        "- each row is the model cut after that layer (the cost of a span = the difference of two rows)",
        "",
        "| cut after | conversion | p50 ms | p90 ms | p99 ms | XNNPACK pieces |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        cut, kind = row["setting"].split(" | ")
        pieces = row["xnnpack"].get("partitions", "-")
        lines.append(f"| {cut} | {kind} | {row['p50_ms']:.3f} | {row['p90_ms']:.3f} | {row['p99_ms']:.3f} | {pieces} |")
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(OUT.with_suffix(".md"))


if __name__ == "__main__":
    main()

"""Export a Keras multi-head model to TFLite (fp32 / fp16 / dynamic / full int8) and ONNX
(fp32 / static QDQ int8) bundles, each checked against Keras right after conversion.

A bundle folder: ``model.tflite`` or ``model.onnx``, ``labels.json`` (the same JSON is
embedded in the ONNX ``metadata_props``), ``export_report.json``."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deploy.parity import ParityError, compare, enforce
from deploy.signature import serving_function
from deploy.xnnpack import XNNPACK_FLOAT_OPS
from plates import logger
from plates.atomic import atomic_path, write_bytes, write_json
from plates.bundle import ModelInfo, write_labels
from plates.errors import PlateError
from plates.keras import keras, tf
from plates.training import predict_probs

TFLITE_MODES = ("fp32", "fp16", "dynamic", "int8")
MAX_PIECES = 4  # XNNPACK pieces before an export warns (input quantise / whitening / softmax cut a few)
IO_TYPES = {"uint8": tf.uint8, "int8": tf.int8, "float32": tf.float32}


@dataclasses.dataclass
class TFLiteOptions:
    mode: str = "fp32"
    input_type: str = "uint8"  # int8 mode only: uint8 takes raw pixels with scale 1
    output_type: str = "float32"
    keep_float: Sequence[str] = ()  # layer-name substrings or op types kept in float
    debug_quant: bool = False
    integer_only: bool = False  # int8 only: every op int8, XNNPACK_FLOAT_OPS included (integer accelerators)
    stem_rewrite: bool = True  # int8 only: a stride-1 stem runs space-to-depth (deploy.rewrite), exactly

    def float_ops(self) -> tuple[str, ...]:
        """What an int8 export keeps in float: ``keep_float`` plus, unless integer-only, the ops
        XNNPACK cannot run in int8."""
        extra = () if self.integer_only or self.mode != "int8" else XNNPACK_FLOAT_OPS
        return tuple(dict.fromkeys((*extra, *self.keep_float)))


def float_ends(model: keras.Model) -> tuple[str, ...]:
    """``--keep-float`` names for ``--float-ends``: the input normalisation layer and the softmaxes.

    The default int8 export already keeps in float only what XNNPACK cannot run in int8 (the
    whitening's one-number scale and the softmaxes: ``XNNPACK_FLOAT_OPS``); float ends also run
    the whole whitening on the image in float, for inputs whose int8 statistics are too coarse.
    The input stays raw uint8 pixels."""
    from plates.layers import NORMALISERS

    normalisers = set(NORMALISERS.values())
    return (*(layer.name for layer in model.layers if type(layer) in normalisers), "SOFTMAX")


def _rep_dataset(images: np.ndarray):
    def gen():
        for img in images:
            yield [img[None].astype(np.float32)]

    return gen


def convert_tflite(
    model: keras.Model, info: ModelInfo, options: TFLiteOptions, rep: np.ndarray | None, debug_dir: Path | None = None
) -> bytes:
    if options.mode not in TFLITE_MODES:
        raise PlateError(f"unknown TFLite mode {options.mode!r}; choose from {TFLITE_MODES}")
    if options.mode == "int8" and (rep is None or not len(rep)):
        raise PlateError("--int8 needs a representative set: pass --data SRC (training images)")
    keep_float = options.float_ops()
    serve = serving_function(model, info)
    concrete = serve.get_concrete_function()

    def make_converter():  # a converter converts once; the debugger path needs fresh ones
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
        if options.mode == "fp16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif options.mode == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        elif options.mode == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = _rep_dataset(rep)
            ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if keep_float:  # selective quantisation: float kernels beside int8 ones
                ops.append(tf.lite.OpsSet.TFLITE_BUILTINS)
            converter.target_spec.supported_ops = ops
            converter.inference_input_type = IO_TYPES[options.input_type]
            converter.inference_output_type = IO_TYPES[options.output_type]
        return converter

    if options.mode == "int8" and (keep_float or options.debug_quant):
        assert rep is not None  # refused above
        return _debugged_int8(make_converter, options, keep_float, rep, debug_dir)
    return make_converter().convert()


def _debugged_int8(
    make_converter, options: TFLiteOptions, keep_float: Sequence[str], rep: np.ndarray, debug_dir: Path | None
) -> bytes:
    """QuantizationDebugger path: per-layer error report and/or denylisted (float) nodes.

    The debugger's own quantised model has float32 input and outputs (it ignores the
    converter's inference types), so the kept-float model is re-quantised from the
    debugger's calibration with the requested input type: ``--keep-float SOFTMAX`` still
    takes raw uint8 pixels. Outputs stay float32 (a kept-float op usually ends the graph);
    export_report.json records the actual tensor types."""
    ops = [k for k in keep_float if k.isupper()]  # op types, e.g. MEAN, RSQRT
    nodes_substr = [k for k in keep_float if k not in ops]
    nodes: list[str] = []
    if nodes_substr:
        names = _tensor_names(make_converter().convert())
        nodes = [n for n in names if any(s in n for s in nodes_substr)]
        if not nodes:
            raise PlateError(
                f"--keep-float {nodes_substr}: no tensor names contain these; "
                "run --debug-quant and pick from the report's tensor_name column"
            )
    debug_options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_ops=ops or None, denylisted_nodes=nodes or None
    )
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=make_converter(), debug_dataset=_rep_dataset(rep[:64]), debug_options=debug_options
    )
    if options.debug_quant and debug_dir is not None:
        debugger.run()
        with atomic_path(debug_dir / "quant_debug.csv") as tmp, open(tmp, "w") as f:
            debugger.layer_statistics_dump(f)
        logger.info("per-layer quantisation error report: %s", debug_dir / "quant_debug.csv")
    if not keep_float:
        return make_converter().convert()
    return _requantise(debugger, options, ops, nodes)


def _requantise(debugger, options: TFLiteOptions, ops: list[str], nodes: list[str]) -> bytes:
    """The debugger's calibrated model quantised like ``get_nondebug_quantized_model`` does,
    plus the input type (TensorFlow's private ``mlir_quantize``; without it, float32 input)."""
    if options.output_type != "float32":
        logger.warning("--keep-float: outputs stay float32 (--output-type %s is not applied)", options.output_type)
    try:
        from tensorflow.lite.python.convert import mlir_quantize

        return mlir_quantize(
            debugger.calibrated_model,
            disable_per_channel=debugger.converter._experimental_disable_per_channel,
            input_data_type=IO_TYPES[options.input_type],
            output_data_type=tf.float32,
            denylisted_ops=ops or None,
            denylisted_nodes=nodes or None,
        )
    except (ImportError, AttributeError, TypeError) as exc:
        logger.warning("--keep-float: this TensorFlow cannot set the input type (%s); the input stays float32", exc)
        return debugger.get_nondebug_quantized_model()


def _tensor_names(model: bytes) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter

    return [d["name"] for d in Interpreter(model_content=model).get_tensor_details()]


def _refuse_other_format(out: Path, suffix: str) -> None:
    """A bundle holds one model: exporting ONNX into a TFLite bundle (or back) would leave two,
    and the predictor could read neither."""
    others = sorted(p.name for p in out.glob("*") if p.suffix in (".tflite", ".onnx") and p.suffix != suffix)
    if others:
        raise PlateError(f"{out}: already holds {', '.join(others)}; export {suffix} models into another --out folder")


def export_tflite(
    model: keras.Model,
    info: ModelInfo,
    out: str | os.PathLike,
    options: TFLiteOptions,
    rep: np.ndarray | None,
    parity_images: np.ndarray,
    min_agreement: float | None = None,
    source: str = "",
) -> dict[str, Any]:
    """Convert, write the bundle, check parity with the Keras model; returns the report."""
    from deploy.predictor import Predictor
    from deploy.xnnpack import describe, xnnpack_coverage

    out = Path(out)
    _refuse_other_format(out, ".tflite")
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    converted, folded = model, list[str]()
    if options.mode == "int8" and options.stem_rewrite:
        from deploy.rewrite import space_to_depth_stem

        converted, folded = space_to_depth_stem(model) or (model, [])
    data = convert_tflite(converted, info, options, rep, out)
    seconds = time.time() - start
    with tempfile.TemporaryDirectory() as tmp:  # check before anything replaces an old bundle
        staged = Path(tmp)
        (staged / "model.tflite").write_bytes(data)
        write_labels(staged, info)
        predictor = Predictor(staged)
        report = _parity(model, info, predictor, parity_images, options.mode, min_agreement, out / "model.tflite")
        io_types = {
            "input": str(predictor._in[predictor._input_name]["dtype"].__name__),
            "outputs": sorted({d["dtype"].__name__ for d in predictor._out.values()}),
        }
        coverage = xnnpack_coverage(staged / "model.tflite")
    write_bytes(out / "model.tflite", data)
    write_labels(out, info)
    report = {
        "format": "tflite",
        **dataclasses.asdict(options),
        "keep_float": list(options.float_ops()),
        "stem_folded": folded,  # layers run as one space-to-depth convolution (deploy.rewrite)
        "source_model": source,
        "size_bytes": len(data),
        "conversion_seconds": round(seconds, 2),
        "representative_images": 0 if rep is None else len(rep),
        "tensor_types": io_types,
        "xnnpack": coverage,
        "parity": report,
    }
    write_json(out / "export_report.json", report)
    if coverage.get("partitions", 1) > MAX_PIECES:
        logger.warning(
            "%s: %s - expect it to run slower than one piece would", out / "model.tflite", describe(coverage)
        )
    elif coverage:
        logger.info("%s: %s", out / "model.tflite", describe(coverage))
    return report


def _parity(model, info, predictor, images: np.ndarray, kind: str, min_agreement: float | None, where) -> dict:
    from deploy.runner import batched_probs

    report = compare(info.spec, predict_probs(model, images), batched_probs(predictor, images))
    logger.info(
        "parity %s: plate agreement %.4f, max |dp| %.2e on %d images",
        where,
        report["plate_agreement"],
        report["max_abs_prob_diff"],
        report["images"],
    )
    bundle = where.resolve().parent
    failed = bundle.with_name(bundle.name + ".parity-failed.json")
    try:
        report = enforce(report, kind, min_agreement, str(where))
        failed.unlink(missing_ok=True)  # an earlier failed check's report is stale now
        return report
    except ParityError as exc:  # the bundle folder keeps its old, passing files: the failed check goes beside it
        write_json(failed, {"kind": kind, **report})
        if bundle.is_dir() and not any(bundle.iterdir()):
            bundle.rmdir()  # created by this export, nothing in it
        raise ParityError(f"{exc}; the failed check's report: {failed}") from None


@dataclasses.dataclass
class OnnxOptions:
    opset: int = 17
    int8: bool = False
    optimize: bool = False  # also write onnxruntime's optimised graph (ORT_ENABLE_EXTENDED)
    per_channel: bool = True
    # int8 weights in 7 bits: x86 CPUs without VNNI (AVX2, most AVX-512) sum pairs of uint8 x int8
    # products in int16, which saturates with full-range weights, so the same bundle reads worse
    # there than where it was checked; 7 bits cannot saturate and cost little accuracy
    reduce_range: bool = True


def export_onnx(
    model: keras.Model,
    info: ModelInfo,
    out: str | os.PathLike,
    options: OnnxOptions,
    rep: np.ndarray | None,
    parity_images: np.ndarray,
    min_agreement: float | None = None,
    source: str = "",
) -> dict[str, Any]:
    import onnx
    import tf2onnx

    from deploy.predictor import Predictor

    out = Path(out)
    _refuse_other_format(out, ".onnx")
    out.mkdir(parents=True, exist_ok=True)
    if options.int8 and (rep is None or not len(rep)):
        raise PlateError("--int8 needs a calibration set: pass --data SRC (training images)")
    serve = serving_function(model, info)
    start = time.time()
    spec = [tf.TensorSpec((None, info.height, info.width, info.channels), tf.float32, name="image")]
    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=options.opset)
    _attach_labels(proto, info)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        fp32 = staged / "fp32.onnx"
        onnx.save(proto, fp32)
        final = staged / "model.onnx"
        if options.int8:
            assert rep is not None  # refused above
            _quantize_static(fp32, final, rep, options)
        else:
            shutil.copy(fp32, final)
        if options.optimize:
            _optimise(final)
        final_proto = onnx.load(final)
        _attach_labels(final_proto, info)  # quantisation and optimisation drop metadata
        onnx.save(final_proto, final)
        seconds = time.time() - start
        write_labels(staged, info)
        (staged / "fp32.onnx").unlink()
        kind = "int8" if options.int8 else "fp32"
        parity = _parity(model, info, Predictor(staged), parity_images, kind, min_agreement, out / "model.onnx")
        data = final.read_bytes()
    write_bytes(out / "model.onnx", data)
    write_labels(out, info)
    report = {
        "format": "onnx",
        **dataclasses.asdict(options),
        "source_model": source,
        "size_bytes": len(data),
        "conversion_seconds": round(seconds, 2),
        "representative_images": 0 if rep is None else len(rep),
        "quantisation": _onnx_quantisation(options) if options.int8 else None,
        "parity": parity,
    }
    write_json(out / "export_report.json", report)
    return report


def _onnx_quantisation(options: OnnxOptions) -> str:
    weights = "7-bit (reduced range)" if options.reduce_range else "8-bit"
    per = "per-channel" if options.per_channel else "per-tensor"
    return f"QDQ, activations QUInt8 per-tensor, weights QInt8 {weights} {per}"


def _attach_labels(proto, info: ModelInfo) -> None:
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = "labels.json", json.dumps(info.to_dict(), ensure_ascii=False)


def _quantize_static(src: Path, dst: Path, rep: np.ndarray, options: OnnxOptions) -> None:
    """Static QDQ: uint8 activations + int8 per-channel weights, the combination ONNX
    Runtime's x86/ARM CPU kernels run fastest (QLinearConv/ MatMulInteger via QDQ fusion);
    weights in 7 bits unless ``options.reduce_range`` is off (see ``OnnxOptions``)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(rep[i : i + 1].astype(np.float32) for i in range(len(rep)))

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {"image": x}

    pre = src.with_name("pre.onnx")
    try:
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    except Exception as exc:  # pre-processing is an optimisation only
        logger.warning("onnx quant pre-processing skipped: %s", exc)
        shutil.copy(src, pre)
    quantize_static(
        str(pre),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=options.per_channel,
        reduce_range=options.reduce_range,
    )
    pre.unlink()


def _optimise(path: Path) -> None:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(path.with_name("optimised.onnx"))
    ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    os.replace(path.with_name("optimised.onnx"), path)

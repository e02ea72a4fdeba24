"""``deploy``: export a Keras model folder to TFLite / ONNX bundles, predict, Triton repo."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from deploy.predictor import VIEWS
from plates.cli_support import add_common, run


def _add_export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="Keras model folder (model.keras + labels.json)")
    p.add_argument("--out", required=True, help="bundle folder to write")
    p.add_argument("--data", action="append", metavar="SRC", help="calibration set for int8 (training images)")
    p.add_argument(
        "--calibration-images",
        "--calib-size",
        dest="calib_size",
        type=int,
        default=300,
        help="images drawn from --data to set the int8 ranges",
    )
    p.add_argument("--calibration-seed", "--calib-seed", dest="calib_seed", type=int, default=0)
    p.add_argument(
        "--parity-data",
        action="append",
        metavar="SRC",
        help="parity set: images on which the bundle must agree with its Keras model (default: --data; use real)",
    )
    p.add_argument("--parity-images", "--parity-size", dest="parity_size", type=int, default=300)
    p.add_argument(
        "--min-agreement",
        type=float,
        default=None,
        help="minimum plate-level agreement with Keras (default by kind: fp32 .999, int8 .95)",
    )


def _load(args):
    from deploy.representative import draw_images
    from plates.modelio import load_model

    model, info = load_model(args.model)
    needs_rep = getattr(args, "int8", False)
    rep = draw_images(args.data, info, args.calib_size, args.calib_seed) if needs_rep else None
    parity_src = args.parity_data or args.data
    parity = draw_images(parity_src, info, args.parity_size, 1, what="parity")
    return model, info, rep, parity


def cmd_tflite(args: argparse.Namespace) -> int:
    from deploy.export import TFLiteOptions, export_tflite, float_ends
    from plates.errors import PlateError

    mode = "int8" if args.int8 else "fp16" if args.fp16 else "dynamic" if args.dynamic else "fp32"
    if args.float_ends and mode != "int8":
        raise PlateError("--float-ends applies to --int8 exports only")
    model, info, rep, parity = _load(args)
    keep = [*float_ends(model), *args.keep_float] if args.float_ends else args.keep_float
    if (args.integer_only or args.no_stem_rewrite) and mode != "int8":
        raise PlateError("--integer-only and --no-stem-rewrite apply to --int8 exports only")
    options = TFLiteOptions(
        mode,
        args.input_type,
        args.output_type,
        tuple(dict.fromkeys(keep)),
        args.debug_quant,
        integer_only=args.integer_only,
        stem_rewrite=not args.no_stem_rewrite,
    )
    report = export_tflite(model, info, args.out, options, rep, parity, args.min_agreement, args.model)
    _print(args.out, "model.tflite", report)
    return 0


def cmd_onnx(args: argparse.Namespace) -> int:
    from deploy.export import OnnxOptions, export_onnx
    from plates.errors import PlateError

    if args.full_range and not args.int8:
        raise PlateError("--full-range applies to --int8 exports only")
    model, info, rep, parity = _load(args)
    report = export_onnx(
        model,
        info,
        args.out,
        OnnxOptions(args.opset, args.int8, args.optimize, reduce_range=not args.full_range),
        rep,
        parity,
        args.min_agreement,
        args.model,
    )
    _print(args.out, "model.onnx", report)
    return 0


def _print(out: str, name: str, report: dict) -> None:
    p = report["parity"]
    print(
        f"{out}/{name}: {report['size_bytes'] / 1e6:.3f} MB, converted in {report['conversion_seconds']}s; "
        f"parity on {p['images']} images: plate agreement {p['plate_agreement']:.4f} "
        f"(threshold {p['threshold']}), max |dp| {p['max_abs_prob_diff']:.2e}"
    )


def cmd_predict(args: argparse.Namespace) -> int:
    """Read every image; one that cannot be read gets its error line and the rest still run."""
    from deploy.predictor import BundleError, Predictor
    from deploy.shipped import split_bundle

    bundle, images = split_bundle(args.inputs, args.bundle)
    p = Predictor(bundle, threads=args.threads)
    failed = 0
    for path in images:
        try:
            r = p.read(p.load(path), args.views)[0]
        except BundleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            print(json.dumps({"image": path, **r}, ensure_ascii=False))
        else:
            attrs = " ".join(f"{k}={v}" for k, v in r["attributes"].items())
            print(f"{path}\t{r['text']}\t{r['confidence']:.4f}\t{attrs}")
    if failed:
        print(f"error: {failed} of {len(images)} images could not be read", file=sys.stderr)
    return 1 if failed else 0


def add_views_option(p: argparse.ArgumentParser, cost: str) -> None:
    """``--views N`` (``deploy.predictor.VIEWS``), for every command that reads crops."""
    p.add_argument(
        "--views",
        type=int,
        choices=sorted(VIEWS),
        default=1,
        help=f"read each crop this many times (as given, 5%% tighter, 5%% looser) and average: reads more "
        f"crops from other detectors, {cost}",
    )


def cmd_triton(args: argparse.Namespace) -> int:
    from deploy.triton import write_triton_repo

    path = write_triton_repo(args.bundle, args.repo, args.name, args.max_batch)
    print(f"Triton model repository: {path} (tritonserver --model-repository {args.repo})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deploy", description=__doc__)
    add_common(parser)
    sub = parser.add_subparsers(metavar="COMMAND")
    _add_tflite_parser(sub)
    p = sub.add_parser("onnx", help="ONNX bundle (tf2onnx), optionally static QDQ --int8")
    _add_export_options(p)
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--int8", action="store_true", help="static QDQ quantisation (onnxruntime.quantization)")
    p.add_argument("--optimize", action="store_true", help="store onnxruntime's optimised graph")
    p.add_argument(
        "--full-range",
        action="store_true",
        help="int8 weights in 8 bits instead of 7: only for hosts with VNNI or ARM dot products (x86 CPUs "
        "without VNNI saturate with them and read worse)",
    )
    p.set_defaults(func=cmd_onnx)
    p = sub.add_parser("predict", help="read plates with a bundle (no TensorFlow needed); default: the shipped student")
    p.add_argument("inputs", nargs="+", metavar="[BUNDLE] IMAGE", help="a bundle folder (optional), then images")
    p.add_argument("--bundle", help="bundle folder or model file (default: the first input if it is one, else shipped)")
    p.add_argument("--threads", type=int, default=None)
    add_views_option(p, "for that many runs of the model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("triton", help="write a Triton model repository for an ONNX bundle")
    p.add_argument("bundle")
    p.add_argument("--repo", required=True)
    p.add_argument("--name", default="plates")
    p.add_argument("--max-batch", type=int, default=64)
    p.set_defaults(func=cmd_triton)
    return parser


def _add_tflite_parser(sub) -> None:
    p = sub.add_parser("tflite", help="TFLite bundle: fp32 (default), --fp16, --dynamic or --int8")
    _add_export_options(p)
    kind = p.add_mutually_exclusive_group()
    kind.add_argument(
        "--int8",
        action="store_true",
        help="post-training int8 quantisation (the ops XNNPACK has no int8 kernel for stay float; see --integer-only)",
    )
    kind.add_argument("--fp16", action="store_true", help="float16 weights")
    kind.add_argument("--dynamic", action="store_true", help="dynamic-range (int8 weights, float activations)")
    p.add_argument(
        "--input-type",
        choices=("uint8", "int8", "float32"),
        default="uint8",
        help="--int8 input tensor type (uint8 = raw pixels, no float maths on the device)",
    )
    p.add_argument(
        "--output-type",
        choices=("uint8", "int8", "float32"),
        default="float32",
        help=(
            "--int8 output tensor type (float32 is dequantised; with --integer-only an int8 softmax "
            "moves in steps of 1/256)"
        ),
    )
    p.add_argument(
        "--keep-float",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "keep tensors whose name contains NAME (or an op type like SOFTMAX) in float; the input keeps "
            "--input-type, outputs are float32; repeatable"
        ),
    )
    p.add_argument(
        "--float-ends",
        action="store_true",
        help=(
            "--int8 with the input normalisation and the softmaxes in float (= --keep-float normalise "
            "--keep-float SOFTMAX): XNNPACK takes the whole graph; uint8 input, float32 outputs"
        ),
    )
    p.add_argument(
        "--integer-only",
        action="store_true",
        help=(
            "--int8 with every op in int8, for integer-only accelerators; by default the ops XNNPACK has "
            "no int8 kernel for (the whitening's one-number scale, the softmaxes) stay float"
        ),
    )
    p.add_argument(
        "--no-stem-rewrite",
        action="store_true",
        help="--int8 without running a stride-1 stem as a space-to-depth convolution (the same maths, int8 "
        "rounding may differ on a few plates; which graph is faster depends on the CPU: docs/experiments/033, 034)",
    )
    p.add_argument("--debug-quant", action="store_true", help="write quant_debug.csv (per-layer quantisation error)")
    p.set_defaults(func=cmd_tflite)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

"""``teacher``: train, evaluate and run the large multi-head plate classifier."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from plates.cli_support import add_common, add_pooling_option, count, parse_size, probability, run, share
from plates.train_cli import add_train_options, parse_weights, run_training


def parse_strides(text: str) -> list:
    """``1,2,2,2x1`` -> [1, 2, 2, [2, 1]] (an ``AxB`` item is a (height, width) stride)."""
    out = []
    for item in text.split(","):
        try:
            out.append([int(v) for v in item.split("x")] if "x" in item else int(item))
        except ValueError:
            raise argparse.ArgumentTypeError(f"strides must look like 1,2,2,2x1, got {text!r}") from None
    return out


TEACHER_BACKBONES = ("resnet18", "tiny")  # what teacher.backbones registers (importing it starts TensorFlow)


def cmd_train(args: argparse.Namespace) -> int:
    import teacher.backbones  # noqa: F401  (registers the teacher's backbones)
    from plates.heads import create_classifier
    from plates.spec import default_spec

    spec = default_spec(attributes=not args.no_attributes)
    kwargs = {"width": args.width, "strides": args.strides} if args.backbone == "resnet18" else {"width": args.width}
    make = lambda: create_classifier(
        spec,
        args.input_size,
        args.backbone,
        args.normalisation,
        args.neck,  # noqa: E731
        args.dropout,
        args.pooling,
        **kwargs,
    )
    _, info = make()
    return run_training(
        args, lambda: make()[0], info, {"model": info.extra["architecture"], "input_size": list(args.input_size)}
    )


def cmd_eval(args: argparse.Namespace) -> int:
    from plates.evaluate import evaluate_model, summary_lines, write_eval
    from plates.modelio import load_model
    from plates.readers import read_sources

    model, info = load_model(args.model)
    samples = read_sources(args.data, info.spec)
    metrics, probs = evaluate_model(model, info, samples)
    print("\n".join(summary_lines(metrics)))
    if args.out:
        write_eval(args.out, model.name, metrics, info, samples.labels, probs, {"data": args.data, "model": args.model})
        print(f"wrote {args.out}/eval.json and {args.out}/coverage.png")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from plates.codec import decode
    from plates.images import load_crop
    from plates.modelio import load_model
    from plates.training import predict_probs

    model, info = load_model(args.model)
    images = np.stack([load_crop(p, (info.width, info.height)) for p in args.images])
    for path, r in zip(args.images, decode(info.spec, predict_probs(model, images)), strict=False):
        attrs = " ".join(f"{k}={v}" for k, v in r.attributes.items())
        print(f"{path}\t{r.text}\t{r.confidence:.4f}\t{attrs}")
    return 0


def cmd_pseudo_label(args: argparse.Namespace) -> int:
    from plates.errors import DataError
    from plates.modelio import load_model
    from teacher.pseudo import PseudoLabelConfig, list_images, pseudo_label, write_pseudo_labels

    head_thresholds = tuple(parse_weights(args.head_threshold, "--head-threshold").items())  # OptionError
    masked = tuple((head, value) for head, _, value in (item.partition("=") for item in args.mask_class))
    try:
        config = PseudoLabelConfig(
            args.threshold,
            args.min_char_heads,
            head_thresholds=head_thresholds,
            min_colour_share=args.min_colour_share,
            masked_classes=masked,
        )
    except ValueError as exc:  # a head threshold outside (0, 1]; argparse checked the other options
        raise DataError(f"--head-threshold: {exc}") from None
    readers = [load_model(folder) for folder in args.model]
    paths = [p for folder in args.unlabelled for p in list_images(folder)]
    result = pseudo_label(readers, paths, config)
    out = write_pseudo_labels(args.out, result, {"models": args.model, "unlabelled": args.unlabelled})
    s = result.stats
    print(
        f"{out}: {s['kept']} of {s['images']} crops labelled ({s['fully_labelled']} on every character head), "
        f"{s['rejected']} rejected, {s['unreadable']} unreadable; counts in {out.with_suffix('.json')}"
    )
    return 0


def mask_class(text: str) -> str:
    """``HEAD=CLASS`` (argparse type); the head and class are checked against the model's spec."""
    head, sep, value = text.partition("=")
    if not (sep and head and value):
        raise argparse.ArgumentTypeError(f"expected HEAD=CLASS, e.g. char1=苏, got {text!r}")
    return text


def add_teacher_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--backbone", choices=TEACHER_BACKBONES, default="resnet18", help="the teacher's backbones (teacher.backbones)"
    )
    g.add_argument("--width", type=int, default=64, help="base channels (64 = standard ResNet-18)")
    g.add_argument("--strides", type=parse_strides, default=[1, 2, 2, 2], help="stage strides, e.g. 1,2,2,2x1")
    g.add_argument("--input-size", type=parse_size, default=(48, 144), help="HEIGHTxWIDTH")
    g.add_argument("--normalisation", choices=("whiten", "scale"), default="whiten")
    g.add_argument("--neck", type=int, default=128, help="1x1 conv channels before the heads")
    add_pooling_option(g)
    g.add_argument("--dropout", type=float, default=0.1)
    g.add_argument("--no-attributes", action="store_true", help="only character heads")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teacher", description=__doc__)
    add_common(parser)
    sub = parser.add_subparsers(metavar="COMMAND")
    p = sub.add_parser("train", help="train a teacher (seed recipe: per-head CE/LS/focal/GHM, RAdam + warm-up)")
    add_teacher_options(p)
    add_train_options(p)
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("eval", help="metrics of a model folder on labelled data")
    p.add_argument("model", help="model folder (model.keras + labels.json)")
    p.add_argument("--data", action="append", required=True, metavar="SRC")
    p.add_argument("--out", help="write eval.json + coverage.png here")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("predict", help="images -> plate text + confidence")
    p.add_argument("model")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser(
        "pseudo-label",
        help="label unlabelled crops where a model is confident (-1 elsewhere), for semi-supervised training",
    )
    p.add_argument(
        "model", nargs="+", help="model folder(s) that read the crops; with several, their probabilities are averaged"
    )
    p.add_argument("--unlabelled", action="append", required=True, metavar="DIR", help="folder of images")
    p.add_argument("--out", required=True, help="label file to write (a training source; counts in OUT.json)")
    p.add_argument("--threshold", type=probability, default=0.9, help="top probability a head needs to keep its label")
    p.add_argument(
        "--min-char-heads",
        type=count,
        default=6,
        help="reject a crop (as a non-plate or unreadable) with fewer confident character heads; 0 = all of them",
    )
    p.add_argument(
        "--head-threshold",
        action="append",
        default=[],
        metavar="HEAD=T",
        help="a stricter (or looser) threshold for one head, e.g. char1=0.99 for the province",
    )
    p.add_argument(
        "--min-colour-share",
        type=share,
        default=0.05,
        metavar="F",
        help="reject a crop read as a blue, yellow or green plate when fewer than this share of its pixels show "
        "that colour (grilles, bumpers); 0 = no check",
    )
    p.add_argument(
        "--mask-class",
        action="append",
        default=[],
        type=mask_class,
        metavar="HEAD=CLASS",
        help="never keep this class as a label of this head (repeatable), e.g. char1=苏 after a look at the crops "
        "labelled 苏 found most of them another province",
    )
    p.set_defaults(func=cmd_pseudo_label)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

"""``student``: MobileNetV3 multi-head students trained from labels alone (the baseline
that distillation must beat)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from plates.cli_support import add_common, add_pooling_option, parse_size, run
from plates.train_cli import add_train_options, run_training

STEM_STRIDES: dict[str, int | tuple[int, int]] = {"1": 1, "2": 2, "2x1": (2, 1)}


def parse_stem_stride(text: str) -> int | tuple[int, int]:
    """``1``, ``2`` or ``2x1`` (halve the height only)."""
    try:
        return STEM_STRIDES[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"stem stride must be one of {', '.join(STEM_STRIDES)}, got {text!r}"
        ) from None


def add_student_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("student model")
    g.add_argument("--arch", choices=("small", "large"), default="small", help="MobileNetV3 variant")
    g.add_argument("--alpha", type=float, default=1.0, help="width multiplier")
    g.add_argument("--minimalistic", action="store_true", help="no SE, no hard-swish, 3x3 only")
    g.add_argument("--input-size", type=parse_size, default=(48, 144), help="HEIGHTxWIDTH (e.g. 48x144, 24x94)")
    g.add_argument(
        "--stem-stride",
        type=parse_stem_stride,
        default=2,
        help="1 keeps twice the resolution (4x the MACs; see docs/experiments/007); "
        "2x1 (height x width) keeps only the horizontal resolution (2x the MACs)",
    )
    g.add_argument("--neck", type=int, default=128)
    add_pooling_option(g)
    g.add_argument("--dropout", type=float, default=0.1)
    g.add_argument("--normalisation", choices=("scale", "whiten"), default="scale")
    g.add_argument("--no-attributes", action="store_true")


def student_builder(args: argparse.Namespace, spec=None):
    from plates.spec import default_spec
    from student.mobilenetv3 import create_student

    spec = spec or default_spec(attributes=not args.no_attributes)
    make = lambda: create_student(  # noqa: E731
        spec,
        args.input_size,
        args.arch,
        args.alpha,
        args.minimalistic,
        args.neck,
        args.dropout,
        args.normalisation,
        stem_stride=args.stem_stride,
        pooling=args.pooling,
    )
    return make


def cmd_train(args: argparse.Namespace) -> int:
    make = student_builder(args)
    _, info = make()
    return run_training(
        args, lambda: make()[0], info, {"model": info.extra["architecture"], "input_size": list(args.input_size)}
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="student", description=__doc__)
    add_common(parser)
    sub = parser.add_subparsers(metavar="COMMAND")
    p = sub.add_parser("train", help="train a MobileNetV3 student from labels alone")
    add_student_options(p)
    add_train_options(p, epochs=10, lr=3e-3)
    p.set_defaults(func=cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

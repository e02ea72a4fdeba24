"""Shared CLI plumbing: logging, clean one-line errors for bad input, size parsing."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from plates.errors import PlateError


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("absl", "tensorflow", "tf2onnx", "h5py", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:  # e.g. tf.function retracing advice while several models are evaluated in turn
        for noisy in ("absl", "tensorflow"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


def count(text: str) -> int:
    """A non-negative integer option (a number of images or steps)."""
    return _at_least(text, 0)


def positive(text: str) -> int:
    """An integer option that must be at least 1 (a number of rounds)."""
    return _at_least(text, 1)


def weight_list(text: str) -> list[int]:
    """Comma-separated whole numbers >= 1, one per model (ensemble weights)."""
    return [_at_least(part.strip(), 1) for part in text.split(",")]


def _at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
        if value < minimum:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}") from None
    return value


def fraction(text: str, closed_top: bool = False) -> float:
    """A number strictly between 0 and 1 (a split fraction)."""
    try:
        value = float(text)
        if not (0.0 < value < 1.0 or (closed_top and value == 1.0)):
            raise ValueError
    except ValueError:
        top = "1]" if closed_top else "1)"
        raise argparse.ArgumentTypeError(f"expected a number in (0, {top}, got {text!r}") from None
    return value


def _in_range(text: str, lo: float, hi: float, what: str) -> float:
    try:
        value = float(text)
        if not lo <= value <= hi:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what} in [{lo:g}, {hi:g}], got {text!r}") from None
    return value


def margin(text: str) -> float:
    """A number in [0, 0.5] (a fraction of a crop added per side)."""
    return _in_range(text, 0.0, 0.5, "a number")


def share(text: str) -> float:
    """A number in [0, 1] (a share of the data)."""
    return _in_range(text, 0.0, 1.0, "a share")


def degrees(text: str) -> float:
    """An angle in [0, 45] degrees (an augmentation's range either way)."""
    return _in_range(text, 0.0, 45.0, "degrees")


def probability(text: str) -> float:
    """A number in (0, 1] (a confidence threshold, or a cap on a share)."""
    return fraction(text, closed_top=True)


def share_range(text: str) -> tuple[float, float]:
    """``LO,HI`` with 0 <= LO <= HI <= 1 (a range of shares to draw from)."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected LO,HI (two shares in [0, 1]), got {text!r}")
    lo, hi = (share(p.strip()) for p in parts)
    if lo > hi:
        raise argparse.ArgumentTypeError(f"expected LO <= HI, got {text!r}")
    return lo, hi


MAX_SIDE = 1024  # a plate crop; far larger sizes only exhaust memory deep inside TensorFlow


def parse_size(text: str) -> tuple[int, int]:
    """``48x144`` -> (48, 144) as (height, width), each side 8..MAX_SIDE."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like HEIGHTxWIDTH (e.g. 48x144), got {text!r}") from None
    if not (8 <= h <= MAX_SIDE and 8 <= w <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"each side of {text!r} must be between 8 and {MAX_SIDE} pixels")
    return h, w


#: the command line of the toolkit command being run (recorded in run manifests)
COMMAND: list[str] = []


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse, dispatch to ``args.func`` and turn user-input errors into one line + exit 2."""
    COMMAND[:] = [parser.prog, *(sys.argv[1:] if argv is None else argv)]
    args = parser.parse_args(argv)
    if getattr(args, "verbose", False):
        os.environ["PLATE_EDGE_VERBOSE"] = "1"  # before TensorFlow is imported: keep its start-up lines
    setup_logging(getattr(args, "verbose", False))
    func: Callable | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except PlateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


# what plates.heads registers (importing it starts TensorFlow; a test keeps the two equal), and
# the one combination offered on the command line (plates.heads.attach_heads takes any)
POOLING_NAMES = ("flatten", "attention")
POOLING_CHOICES = (*POOLING_NAMES, "flatten+attention")


def add_pooling_option(group) -> None:
    """``--pooling``: how the heads read the feature map (``plates.heads``)."""
    group.add_argument(
        "--pooling",
        choices=POOLING_CHOICES,
        default="flatten",
        help="flatten: the heads read every position; attention: one attention map over the positions "
        "per head; flatten+attention: both, each head the mean of the two (plates.heads)",
    )

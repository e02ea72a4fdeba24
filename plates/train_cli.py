"""The options and the run every training command shares (teacher, student, slimming
fine-tune, distillation, QAT): one listing of the training flags, the ``TrainConfig`` they
make, and the data -> strategy -> fit -> final evaluation sequence."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from plates.cli_support import degrees, margin
from plates.errors import OptionError


def parse_weights(items: Sequence[str], option: str = "--head-weight") -> dict[str, float]:
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise OptionError(f"{option} wants NAME=FLOAT, got {item!r}") from None
    return out


def add_train_options(p: argparse.ArgumentParser, epochs: int = 10, lr: float = 2e-3) -> None:
    """Options every training command shares (teacher, student, fine-tune, distill)."""
    g = p.add_argument_group("data")
    g.add_argument(
        "--train",
        action="append",
        required=True,
        metavar="SRC",
        help="labelled source: folder from 'plates synth', label file, folder of named crops, ccpd:DIR; "
        "SRC*N repeats it N times; repeat the option to mix sources",
    )
    g.add_argument("--val", metavar="SRC", help="validation source (best model is kept by its full-plate accuracy)")
    g.add_argument("--run", required=True, help="run folder (rerun the same command to resume)")
    g.add_argument(
        "--skip-bad-images", action="store_true", help="drop unreadable images (counted) instead of refusing the set"
    )
    g = p.add_argument_group("augmentation")
    g.add_argument("--no-augment", action="store_true")
    for flag, kind, metavar, text in _AUGMENT_RANGES:
        g.add_argument(flag, type=kind, default=0.0, metavar=metavar, help=text)
    _add_optimisation_options(p.add_argument_group("optimisation"), epochs, lr)


#: the augmentations off by default, as (option, its type, metavar, help): each is a range drawn
#: per crop, so that crops from other cameras and detectors read like the training crops
_AUGMENT_RANGES = (
    (
        "--zoom-out",
        margin,
        "F",
        "also train on crops up to F of the crop looser per side (edges replicated), so that "
        "crops from other detectors, looser than the training crops, read alike",
    ),
    (
        "--zoom-in",
        margin,
        "F",
        "also train on crops up to F of the crop tighter per side (the plate's ends cut), as tight detectors crop",
    ),
    (
        "--cut-ends",
        margin,
        "F",
        "also train on crops with up to F of the width cut from each end on its own, the height kept, "
        "as boxes that clip the province character give",
    ),
    (
        "--rotate",
        degrees,
        "DEG",
        "also train on crops tilted up to DEG degrees either way (edges replicated), as real cameras see them",
    ),
    (
        "--shear",
        degrees,
        "DEG",
        "also train on crops sheared vertically up to DEG degrees (a plate seen from the side)",
    ),
    (
        "--perspective",
        margin,
        "F",
        "also train on crops in perspective: one end of the plate up to F shorter than the other",
    ),
    (
        "--blur",
        margin,
        "F",
        "also train on crops that lost up to F of their resolution (shrunk, then enlarged back), as soft cameras give",
    ),
)


def _add_optimisation_options(g, epochs: int, lr: float) -> None:
    g.add_argument("--epochs", type=int, default=epochs)
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--steps-per-epoch", type=int, default=0, help="0 = one pass over --train")
    g.add_argument("--lr", type=float, default=lr, help="peak learning rate (RAdam)")
    g.add_argument("--warmup-epochs", type=float, default=1.0)
    g.add_argument("--schedule", choices=("cosine", "step", "constant"), default="cosine")
    g.add_argument("--loss", choices=("ce", "focal", "ghm"), default="ce")
    g.add_argument("--label-smoothing", type=float, default=0.1)
    g.add_argument("--focal-gamma", type=float, default=2.0)
    g.add_argument("--ghm-bins", type=int, default=10)
    g.add_argument("--ghm-momentum", type=float, default=0.75)
    g.add_argument("--head-weight", action="append", default=[], metavar="HEAD=W", help="loss weight of one head")
    g.add_argument("--kernel-l2", type=float, default=5e-5, help="L2 on conv/dense kernels")
    g.add_argument("--gamma-l2", type=float, default=0.0, help="L2 on BatchNorm gamma")
    g.add_argument("--gamma-l1", type=float, default=0.0, help="L1 on BatchNorm gamma (network-slimming sparsity)")
    g.add_argument(
        "--gamma-l1-prox",
        action="store_true",
        help="apply --gamma-l1 as a soft-threshold after each step (lr x gamma-l1 per step; exact zeros)",
    )
    g.add_argument(
        "--ema",
        type=float,
        default=0.0,
        metavar="DECAY",
        help="evaluate and save an exponential moving average of the weights (e.g. 0.999; 0 = off)",
    )
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--init",
        default="",
        metavar="MODEL",
        help="start a new run from this model folder's weights (same architecture and heads); a resume ignores it",
    )
    g.add_argument(
        "--init-partial",
        action="store_true",
        help="with --init: take only the layers whose weights fit (e.g. the backbone of a model at another input "
        "size); the others start afresh",
    )
    g.add_argument("--checkpoint-every", type=int, default=200, help="also checkpoint every N steps")
    g.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default")
    g.add_argument("--devices", type=int, default=0, help="logical CPU devices for --strategy mirrored on a CPU host")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def train_config(args: argparse.Namespace):
    """The ``TrainConfig`` of parsed training options: every field with a flag of the same name
    (``--batch-size`` is ``batch_size``) is taken from it, so a new field needs only its flag;
    the two flags that are not a field's value are converted here."""
    import dataclasses

    from plates.training import TrainConfig

    converted = {"head_weights": parse_weights(args.head_weight), "augment": not args.no_augment}
    taken = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    return TrainConfig(**{**taken, **converted})


def run_training(args: argparse.Namespace, build, info, extra_config: dict, extra_loss=None, prepare=None) -> int:
    """Shared tail of every training command: data, strategy, fit, final evaluation.

    ``prepare(train) -> (train, extra_loss)`` may rewrite the training set first (cached teacher)."""
    from plates.distribute import create_strategy
    from plates.evaluate import evaluate_model, summary_lines, write_eval
    from plates.modelio import load_model, model_file, require_model
    from plates.readers import read_sources
    from plates.training import Trainer

    init = getattr(args, "init", None)
    if init and not (Path(args.run) / "checkpoints").exists():  # a new run starts from it: fail before writing
        require_model(init)
    strategy = create_strategy(args.strategy, args.devices)
    train = read_sources(args.train, info.spec)
    val = read_sources([args.val], info.spec) if args.val else None
    if val is not None and getattr(args, "skip_bad_images", False):  # the final evaluation reads it too
        from plates import logger
        from plates.pipeline import decode_all

        kept = decode_all(val, info.size, skip_bad=True)[1]  # the same reading training does (CCPD quads too)
        if len(kept) < len(val):
            logger.warning("left out %d unreadable validation images", len(val) - len(kept))
            val = val.subset(kept)
    if prepare is not None:
        train, extra_loss = prepare(train)
    trainer = Trainer(
        build, info, train_config(args), args.run, strategy, extra_loss=extra_loss, progress=not args.quiet
    )
    trainer.write_run_files(
        extra_config,
        {"train": args.train, "train_images": len(train), "val": args.val, "val_images": len(val) if val else 0},
    )
    result = trainer.fit(train, val)
    if not trainer.is_chief:
        return 0
    if val is not None:
        model, info = load_model(args.run)
        metrics, probs = evaluate_model(model, info, val)
        write_eval(
            args.run,
            f"{model.name} on {args.val}",
            metrics,
            info,
            val.labels,
            probs,
            {"data": args.val, "train_seconds": result["train_seconds_this_session"]},
        )
        print("\n".join(summary_lines(metrics)))
    print(f"model: {model_file(args.run)} (+ labels.json); logs: {args.run}/tb; history: {args.run}/history.json")
    return 0

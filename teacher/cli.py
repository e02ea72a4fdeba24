"""``teacher``: train, evaluate and run the large multi-head plate classifier."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from plates.cli_support import add_common, count, parse_size, probability, run


def parse_strides(text: str) -> list:
    """``1,2,2,2x1`` -> [1, 2, 2, [2, 1]] (an ``AxB`` item is a (height, width) stride)."""
    out = []
    for item in text.split(","):
        try:
            out.append([int(v) for v in item.split("x")] if "x" in item else int(item))
        except ValueError:
            raise argparse.ArgumentTypeError(f"strides must look like 1,2,2,2x1, got {text!r}") from None
    return out


def parse_weights(items: Sequence[str], option: str = "--head-weight") -> dict[str, float]:
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} wants NAME=FLOAT, got {item!r}") from None
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
    g.add_argument("--no-augment", action="store_true")
    g.add_argument(
        "--skip-bad-images", action="store_true", help="drop unreadable images (counted) instead of refusing the set"
    )
    g = p.add_argument_group("optimisation")
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
    g.add_argument("--checkpoint-every", type=int, default=200, help="also checkpoint every N steps")
    g.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default")
    g.add_argument("--devices", type=int, default=0, help="logical CPU devices for --strategy mirrored on a CPU host")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def train_config(args: argparse.Namespace):
    from teacher.training import TrainConfig

    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch,
        lr=args.lr,
        warmup_epochs=args.warmup_epochs,
        schedule=args.schedule,
        loss=args.loss,
        label_smoothing=args.label_smoothing,
        focal_gamma=args.focal_gamma,
        ghm_bins=args.ghm_bins,
        ghm_momentum=args.ghm_momentum,
        head_weights=parse_weights(args.head_weight),
        kernel_l2=args.kernel_l2,
        gamma_l2=args.gamma_l2,
        gamma_l1=args.gamma_l1,
        gamma_l1_prox=getattr(args, "gamma_l1_prox", False),
        augment=not args.no_augment,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        hard_weight=getattr(args, "hard_weight", 1.0),
        ema=args.ema,
        init=getattr(args, "init", ""),
        skip_bad_images=getattr(args, "skip_bad_images", False),
    )


def run_training(args: argparse.Namespace, build, info, extra_config: dict, extra_loss=None, prepare=None) -> int:
    """Shared tail of every training command: data, strategy, fit, final evaluation.

    ``prepare(train) -> (train, extra_loss)`` may rewrite the training set first (cached teacher)."""
    from plates.modelio import load_model
    from plates.readers import read_sources
    from teacher.distribute import create_strategy
    from teacher.evaluate import evaluate_model, summary_lines, write_eval
    from teacher.training import Trainer

    strategy = create_strategy(args.strategy, args.devices)
    train = read_sources(args.train, info.spec)
    val = read_sources([args.val], info.spec) if args.val else None
    if val is not None and getattr(args, "skip_bad_images", False):  # the final evaluation reads it too
        from plates import logger
        from plates.checker import unreadable

        bad = unreadable(val)
        if bad:
            logger.warning("left out %d unreadable validation images (first: %s)", len(bad), bad[0][1])
            val = val.subset(sorted(set(range(len(val))) - {i for i, _ in bad}))
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
    from plates.modelio import model_file

    print(f"model: {model_file(args.run)} (+ labels.json); logs: {args.run}/tb; history: {args.run}/history.json")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from plates.spec import default_spec
    from teacher.heads import create_classifier

    spec = default_spec(attributes=not args.no_attributes)
    kwargs = {"width": args.width, "strides": args.strides} if args.backbone == "resnet18" else {"width": args.width}
    make = lambda: create_classifier(
        spec,
        args.input_size,
        args.backbone,
        args.normalisation,
        args.neck,  # noqa: E731
        args.dropout,
        **kwargs,
    )
    _, info = make()
    return run_training(
        args, lambda: make()[0], info, {"model": info.extra["architecture"], "input_size": list(args.input_size)}
    )


def cmd_eval(args: argparse.Namespace) -> int:
    from plates.modelio import load_model
    from plates.readers import read_sources
    from teacher.evaluate import evaluate_model, summary_lines, write_eval

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
    from teacher.training import predict_probs

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

    try:
        head_thresholds = tuple(parse_weights(args.head_threshold, "--head-threshold").items())
        config = PseudoLabelConfig(args.threshold, args.min_char_heads, head_thresholds=head_thresholds)
    except argparse.ArgumentTypeError as exc:  # not NAME=FLOAT
        raise DataError(str(exc)) from None
    except ValueError as exc:  # a threshold outside (0, 1]
        raise DataError(f"--head-threshold: {exc}") from None
    model, info = load_model(args.model)
    paths = [p for folder in args.unlabelled for p in list_images(folder)]
    result = pseudo_label(model, info, paths, config)
    out = write_pseudo_labels(args.out, result, {"model": args.model, "unlabelled": args.unlabelled})
    s = result.stats
    print(
        f"{out}: {s['kept']} of {s['images']} crops labelled ({s['fully_labelled']} on every character head), "
        f"{s['rejected']} rejected, {s['unreadable']} unreadable; counts in {out.with_suffix('.json')}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teacher", description=__doc__)
    add_common(parser)
    sub = parser.add_subparsers(metavar="COMMAND")
    p = sub.add_parser("train", help="train a teacher (seed recipe: per-head CE/LS/focal/GHM, RAdam + warm-up)")
    g = p.add_argument_group("model")
    g.add_argument("--backbone", default="resnet18", help="registered backbone (resnet18, tiny)")
    g.add_argument("--width", type=int, default=64, help="base channels (64 = standard ResNet-18)")
    g.add_argument("--strides", type=parse_strides, default=[1, 2, 2, 2], help="stage strides, e.g. 1,2,2,2x1")
    g.add_argument("--input-size", type=parse_size, default=(48, 144), help="HEIGHTxWIDTH")
    g.add_argument("--normalisation", choices=("whiten", "scale"), default="whiten")
    g.add_argument("--neck", type=int, default=128, help="1x1 conv channels before the heads")
    g.add_argument("--dropout", type=float, default=0.1)
    g.add_argument("--no-attributes", action="store_true", help="only character heads")
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
    p.add_argument("model", help="model folder that reads the crops")
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
    p.set_defaults(func=cmd_pseudo_label)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

"""``compress``: network slimming, knowledge distillation, quantisation-aware training, model soups and
ensembles.

Each command reads a model folder (model.keras + labels.json) and writes a new one, so
stages chain: teacher -> slim -> distill -> qat -> deploy."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from compress.soup import SOUP_RECIPES
from plates.cli_support import add_common, count, run, weight_list
from plates.errors import PlateError
from plates.train_cli import add_train_options, run_training
from student.cli import add_student_options, student_builder


def cmd_distill(args: argparse.Namespace) -> int:
    from compress.distill import Distiller, cache_teacher
    from plates.modelio import load_model

    teacher, t_info = load_model(args.teacher)
    make = student_builder(args, t_info.spec)
    _, info = make()
    info.extra["distilled_from"] = args.teacher
    hint = tuple(args.hint.split(":", 1)) if args.hint else None
    if hint is not None and len(hint) != 2:
        raise PlateError("--hint wants STUDENT_LAYER:TEACHER_LAYER")

    def online(student):
        t, _ = load_model(args.teacher)  # inside the strategy scope
        return Distiller(
            student,
            t,
            args.temperature,
            1.0 - args.kd_alpha,
            hint,
            args.hint_weight,
            heads=[h.name for h in info.spec.heads],
        )

    prepare = None
    if args.cache_teacher:
        if not args.no_augment:
            raise PlateError("--cache-teacher needs --no-augment (cached outputs are per un-augmented image)")

        def prepare(train):
            train, table = cache_teacher(teacher, train, info, args.run, args.skip_bad_images)
            return train, lambda student: Distiller(
                student,
                None,
                args.temperature,
                1.0 - args.kd_alpha,
                cached=table,
                heads=[h.name for h in info.spec.heads],
            )

    args.hard_weight = args.kd_alpha
    config = {
        "model": info.extra["architecture"],
        "input_size": list(args.input_size),
        "teacher": args.teacher,
        "temperature": args.temperature,
        "kd_alpha": args.kd_alpha,
        "hint": args.hint,
        "cache_teacher": args.cache_teacher,
    }
    return run_training(
        args, lambda: make()[0], info, config, extra_loss=None if args.cache_teacher else online, prepare=prepare
    )


def cmd_qat(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from compress.qat import calibrate_ranges, quantize
    from deploy.evaluate import evaluate_bundle
    from deploy.export import TFLiteOptions, export_tflite
    from deploy.parity import ParityError
    from deploy.representative import draw_images
    from plates.atomic import write_json
    from plates.evaluate import evaluate_model
    from plates.modelio import load_model
    from plates.readers import read_sources

    _, info = load_model(args.model)
    info.extra["qat"] = True
    info.extra["quantised_from"] = args.model

    def build():
        float_model = load_model(args.model)[0]
        qat = quantize(float_model)
        if args.calibration_images:
            calibrate_ranges(qat, float_model, draw_images(args.train, info, args.calibration_images, 2, "calibration"))
        return qat

    config = {"source": args.model, "calibration_images": args.calibration_images}
    rc = run_training(args, build, info, config)
    if rc or not args.val:
        return rc
    model, info = load_model(args.run)
    val = read_sources([args.val], info.spec)
    keras_metrics, _ = evaluate_model(model, info, val)
    rep = draw_images(args.train, info, 200, 0)
    bundle = Path(args.run) / "int8"
    try:
        export_tflite(
            model,
            info,
            bundle,
            TFLiteOptions("int8"),
            rep,
            draw_images([args.val], info, 300, 1, "parity"),
            args.min_agreement,
            args.run,
        )
    except ParityError as exc:  # the QAT model is trained and kept: say so in its report, then fail
        failed = {"val": args.val, "qat_keras_plate_accuracy": keras_metrics["plate_accuracy"], "int8_export": str(exc)}
        write_json(Path(args.run) / "qat_report.json", failed)
        raise
    tfl_metrics, _ = evaluate_bundle(bundle, val)
    report = {
        "val": args.val,
        "qat_keras_plate_accuracy": keras_metrics["plate_accuracy"],
        "tflite_int8_plate_accuracy": tfl_metrics["plate_accuracy"],
        "gap_points": 100 * (keras_metrics["plate_accuracy"] - tfl_metrics["plate_accuracy"]),
        "tflite_bundle": str(bundle),
    }
    write_json(Path(args.run) / "qat_report.json", report)
    print(json.dumps(report, indent=2))
    return 0


class ValScorer:
    """Full-plate accuracy of models on ``--val`` data, keeping the last call's probabilities and
    metrics so the final model's evaluation can be written without a second pass."""

    def __init__(self, sources: list[str], first_model: str, batch_size: int):
        from plates.bundle import read_labels
        from plates.pipeline import load_images
        from plates.readers import read_sources

        first = read_labels(first_model)
        self.sources, self.batch_size = sources, batch_size
        self.samples = read_sources(sources, first.spec)
        self.images = load_images(self.samples, first.size)
        self.probs: dict | None = None
        self.metrics: dict | None = None

    def __call__(self, model, info) -> float:
        from plates.metrics import evaluate
        from plates.training import predict_probs

        self.probs = predict_probs(model, self.images, self.batch_size)
        self.metrics = evaluate(info.spec, self.samples.labels, self.probs)
        return float(self.metrics["plate_accuracy"])

    def write_last(self, out, model, info) -> None:
        """Print the last scored model's summary and write its eval.json into ``out``."""
        from plates.evaluate import summary_lines, write_eval

        assert self.metrics is not None and self.probs is not None, "score a model first"
        print("\n".join(summary_lines(self.metrics)))
        write_eval(out, model.name, self.metrics, info, self.samples.labels, self.probs, {"data": self.sources})


def cmd_soup(args: argparse.Namespace) -> int:
    from compress.soup import make_soup, save_soup

    if SOUP_RECIPES[args.recipe] and not args.val:
        raise PlateError(f"--recipe {args.recipe} picks ingredients on a validation set: give --val DATA")
    score = ValScorer(args.val, args.models[0], args.eval_batch_size) if args.val else None
    soup = make_soup(args.models, args.recipe, score)
    out = save_soup(args.out, soup)
    for name in soup.ingredients:
        print(f"  ingredient {name}" + (f": {soup.scores[name]:.4f}" if name in soup.scores else ""))
    if score is not None:  # the last call scored the soup itself
        score.write_last(out, soup.model, soup.info)
    print(f"{out}: {args.recipe} soup of {len(soup.ingredients)} of {len(args.models)} models")
    return 0


def cmd_ensemble(args: argparse.Namespace) -> int:
    from compress.ensemble import make_ensemble, save_ensemble

    ensemble = make_ensemble(args.models, weights=args.weights)
    out = save_ensemble(args.out, ensemble)
    if args.val:
        score = ValScorer(args.val, str(out), args.eval_batch_size)
        score(ensemble.model, ensemble.info)
        score.write_last(out, ensemble.model, ensemble.info)
    print(f"{out}: ensemble of {len(ensemble.members)} models, {ensemble.model.count_params():,} parameters")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compress", description=__doc__)
    add_common(parser)
    sub = parser.add_subparsers(metavar="COMMAND")
    p = sub.add_parser("distill", help="distil a teacher (plain or slimmed) into a MobileNetV3 student")
    p.add_argument("--teacher", required=True, help="teacher model folder")
    add_student_options(p)
    g = p.add_argument_group("distillation")
    g.add_argument("--temperature", type=float, default=4.0)
    g.add_argument("--kd-alpha", type=float, default=0.5, help="weight of the label loss; KD gets 1 - alpha")
    g.add_argument("--hint", metavar="STUDENT_LAYER:TEACHER_LAYER", help="feature distillation through a 1x1 adapter")
    g.add_argument("--hint-weight", type=float, default=1.0)
    g.add_argument("--cache-teacher", action="store_true", help="compute teacher outputs once (needs --no-augment)")
    add_train_options(p, epochs=10, lr=3e-3)
    p.set_defaults(func=cmd_distill)
    p = sub.add_parser("qat", help="quantisation-aware fine-tuning (tfmot), then int8 TFLite and its accuracy gap")
    p.add_argument("model", help="model folder to fine-tune (e.g. a distilled student)")
    p.add_argument("--min-agreement", type=float, default=None, help="int8 parity threshold")
    p.add_argument(
        "--calibration-images",
        type=count,
        default=256,
        help="training images that set the activation ranges before QAT (0 = tfmot's [-6, 6] start)",
    )
    add_train_options(p, epochs=2, lr=2e-4)
    p.set_defaults(func=cmd_qat)
    p = sub.add_parser(
        "soup", help="average the weights of several fine-tunes of one model into one model of the same size"
    )
    p.add_argument("models", nargs="+", metavar="MODEL", help="model folders fine-tuned from the same start")
    p.add_argument("--out", required=True, help="model folder to write (model.keras, labels.json, soup.json)")
    p.add_argument(
        "--recipe",
        choices=tuple(SOUP_RECIPES),
        default="uniform",
        help="uniform: every model; greedy: best-first on --val, each kept only if the soup reads no fewer plates",
    )
    p.add_argument("--val", action="append", metavar="DATA", help="labelled set to score models and soup on")
    p.add_argument("--eval-batch-size", type=count, default=256)
    p.set_defaults(func=cmd_soup)
    p = sub.add_parser(
        "ensemble",
        help="several models in one graph, each head the mean of their probabilities (a teacher or labeller)",
    )
    p.add_argument("models", nargs="+", metavar="MODEL", help="model folders with the same heads")
    p.add_argument("--out", required=True, help="model folder to write (model.keras, labels.json)")
    p.add_argument(
        "--weights",
        type=weight_list,
        metavar="W,W,...",
        help="a whole-number weight per model in the mean (default: equal), e.g. 1,2: a soup at twice the weight",
    )
    p.add_argument("--val", action="append", metavar="DATA", help="labelled set to score the ensemble on")
    p.add_argument("--eval-batch-size", type=count, default=256)
    p.set_defaults(func=cmd_ensemble)
    from compress.slim_cli import add_slim_parsers

    add_slim_parsers(sub, add_train_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

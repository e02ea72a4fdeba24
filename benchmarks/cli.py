"""``benchmarks``: accuracy and latency of every artefact, reports, device runners and the
end-to-end pipeline (the README's main job)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deploy.cli import add_views_option
from plates.cli_support import add_common, positive, run


def cmd_run(args: argparse.Namespace) -> int:
    """Accuracy and/or latency of artefacts, in one process, written as JSON + Markdown."""
    import time
    from pathlib import Path

    from benchmarks.artefacts import find_artefacts
    from benchmarks.measure import agreement, warnings
    from benchmarks.report import write_report
    from deploy.predictor import Predictor
    from plates.bundle import read_labels
    from plates.pipeline import load_images
    from plates.readers import read_sources
    from plates.runinfo import command, machine, versions

    arts = find_artefacts(args.artefacts)
    for a in arts:  # a labels.json that does not describe its model (e.g. a head cut short) is refused
        if a.kind != "keras":  # here, naming it, not later as labels the data holds "out of range"
            Predictor(a.path, threads=1)
    info = read_labels(arts[0].folder)
    samples = read_sources(args.data, info.spec) if args.data else None
    images = load_images(samples, info.size) if samples is not None else None
    results, sizes, reference = [], [], None
    for a in arts:
        a_info = read_labels(a.folder)
        sizes.append(a_info.size)
        row = _describe_artefact(a)
        if samples is not None and not args.latency_only:
            imgs = images if a_info.size == info.size else load_images(samples, a_info.size)
            row["accuracy"], probs = _artefact_accuracy(a, a_info, samples, imgs, getattr(args, "views", 1))
            reference = probs if reference is None else reference
            row["agreement"] = agreement(a_info.spec, reference, probs)
        results.append(row)
    if not args.accuracy_only:
        _time_in_turns(args, arts, results, sizes, images, info.size)
    result = {
        "title": args.title,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": command(),
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "data": args.data,
            "images": 0 if samples is None else len(samples),
            "views": getattr(args, "views", 1),
            "threads": args.threads,
            "batches": args.batch,
            "warmup": args.warmup,
            "runs": args.runs,
            "min_seconds": args.min_seconds,
            "rounds": args.rounds,
            "reference": arts[0].name,
        },
        "artefacts": results,
        "warnings": warnings(results),
    }
    for w in result["warnings"]:
        print(f"warning: {w}")
    path = write_report([result], Path(args.out), args.name)
    print(f"wrote {path} (+ {args.name}.json, plots) in {args.out}")
    return 0


def _describe_artefact(a) -> dict:
    """What an artefact is: kind, size, MACs, what it was slimmed from, XNNPACK pieces."""
    from benchmarks.measure import model_stats
    from plates.bundle import read_labels

    row = {**a.describe(), **model_stats(a)}
    source_labels = a.source / "labels.json" if a.source else None
    slim = read_labels(a.source).extra.get("slimmed_from") if source_labels and source_labels.exists() else None
    if slim:
        row["slimmed_from"] = slim
    if a.kind == "tflite":
        from deploy.xnnpack import xnnpack_coverage

        row["xnnpack"] = xnnpack_coverage(a.path)
    return row


def _artefact_accuracy(a, info, samples, images, views: int = 1) -> tuple[dict, dict]:
    """Accuracy metrics (with the coverage curve) of one artefact, and its probabilities."""
    from benchmarks.measure import accuracy
    from plates.codec import confidence, top_labels
    from plates.metrics import coverage_curve, plate_correct

    metrics, probs = accuracy(a, samples, images, views)
    correct = plate_correct(info.spec, samples.labels, top_labels(info.spec, probs))
    metrics["coverage_curve"] = coverage_curve(confidence(info.spec, probs), correct, 51)
    return metrics, probs


def _time_in_turns(args: argparse.Namespace, arts, results: list[dict], sizes, images, size) -> None:
    """Every setting (threads x batch) of every artefact, timed in turns within one run, so
    the compared settings share the machine's state; adds ``latency`` to each row."""
    import numpy as np

    from benchmarks.measure import latency_in_turns, timed_setting

    settings, rows = [], []
    for a, row, a_size in zip(arts, results, sizes, strict=True):
        image = (
            np.random.default_rng(0).integers(0, 256, (*a_size, 3), dtype=np.uint8)
            if images is None or a_size != size
            else images[0]
        )
        row["latency"] = []
        for threads in args.threads:
            for batch in args.batch:
                if a.kind == "keras" and threads != args.threads[0]:
                    continue  # TF threads are fixed per process
                settings.append((a.name, *timed_setting(a, image, threads, batch)))
                rows.append(row)
    timed = latency_in_turns(settings, args.warmup, args.runs, args.min_seconds, args.rounds)
    for row, stats in zip(rows, timed, strict=True):
        row["latency"].append(stats)


def cmd_report(args: argparse.Namespace) -> int:
    from benchmarks.report import load_results, write_report

    runs: list[dict] = []
    for r in load_results(args.results):
        runs += r["runs"] if "runs" in r else [r]
    print(f"wrote {write_report(runs, args.out, args.name)}")
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    import time

    from benchmarks.server import load_test
    from plates.atomic import write_json, write_text
    from plates.runinfo import command, machine, versions

    rows = load_test(args.bundle, args.clients, args.batch, args.seconds, args.intra_threads)
    host, libs = machine(), versions()
    lines = [
        f"# Server load: {args.bundle}",
        "",
        f"- command: `{command()}`",
        f"- when: {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"- machine: {host['cpu']}, {host['cores']} cores, {host['system']} ({host['arch']})",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in libs.items()),
        f"- runtime: {rows[0]['runtime'] if rows else '?'}, {rows[0]['intra_threads'] if rows else '?'} "
        f"intra-op thread(s) per session; {args.seconds:g} s per setting after one warm-up call per client",
        "",
        "| clients | batch | img/s | p50 ms | p90 ms | p99 ms | requests |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['clients']} | {r['batch']} | {r['throughput_ips']:.1f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
        f"{r['p99_ms']:.2f} | {r['runs']} |"
        for r in rows
    ]
    result = {
        "title": f"server load {args.bundle}",
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": command(),
        "machine": host,
        "versions": libs,
        "rows": rows,
    }
    write_json(f"{args.out}.json", result)
    write_text(f"{args.out}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from benchmarks.record import record

    print(f"wrote {record(args.runs, args.out, args.title)} (+ .json)")
    return 0


def cmd_android(args: argparse.Namespace) -> int:
    import json

    from benchmarks import android

    if args.parse:
        from pathlib import Path

        from plates.errors import DataError

        try:
            parsed = android.parse(Path(args.parse).read_text(errors="replace"))
        except OSError as exc:
            raise DataError(f"{args.parse}: cannot read ({exc.strerror})") from None
        except ValueError as exc:
            raise DataError(f"{args.parse}: {exc}") from None
        print(json.dumps(android.to_result(parsed, args.model, args.threads, args.gpu), indent=2))
        return 0
    for c in android.commands(args.model, args.threads, args.runs, gpu=args.gpu):
        print(c)
    return 0


def cmd_device_package(args: argparse.Namespace) -> int:
    import tarfile
    from pathlib import Path

    import deploy.predictor as predictor

    runner = Path(__file__).resolve().parent / "device" / "runner.py"  # not imported: it expects predictor.py beside it

    from plates.atomic import atomic_path
    from plates.errors import DataError

    for b in map(Path, args.bundles):  # every bundle checked before anything is written
        if not (b / "labels.json").is_file() or not any(b.glob("model.*")):
            raise DataError(f"{b}: not a bundle folder (model.tflite or model.onnx + labels.json)")
    out = Path(args.out)
    with atomic_path(out, ".tar.gz") as tmp, tarfile.open(tmp, "w:gz") as tar:
        tar.add(runner, "plates-bench/runner.py")
        tar.add(predictor.__file__, "plates-bench/predictor.py")
        for b in map(Path, args.bundles):
            tar.add(b, f"plates-bench/bundles/{b.name}")
    print(
        f"wrote {out}. On the device:\n  tar xzf {out.name} && cd plates-bench && "
        "python3 -m pip install ai-edge-litert numpy pillow  # 32-bit: tflite-runtime 'numpy<2'\n"
        "  python3 runner.py bundles/* --threads 1 4 --out device.json\n"
        "then copy device.json back and: benchmarks report device.json host.json --out benchmarks/results"
    )
    return 0


def cmd_compare_reads(args: argparse.Namespace) -> int:
    from benchmarks.reads import compare_reads, write_comparison
    from plates.runinfo import command

    result = compare_reads(args.device, args.host)
    for r in result["bundles"]:
        print(f"{r['bundle']}: same text on {100 * r['same_text']:.2f}% of {r['images']} images")
    print(f"wrote {write_comparison(result, args.out, command())} (+ .json)")
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    """Write (or --check) the model card of a shipped model folder."""
    from benchmarks.card import CardError, card_inputs, check_card, write_card

    if args.check:
        problems = check_card(args.folder)
        for p in problems:
            print(f"{args.folder}: {p}")
        return 1 if problems else 0
    results = {}
    for item in args.results:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise CardError(f"--results {item!r}: expected SET=RESULT.json")
        results[name] = path
    if not results:
        raise CardError("give at least one --results SET=RESULT.json (a 'benchmarks run' output)")
    inputs = card_inputs(
        args.folder,
        **{k: getattr(args, k) for k in ("title", "trained_on", "recipe", "notes", "selection")},
    )
    print(f"wrote {write_card(args.folder, results, inputs, args.samples)} (+ card.json)")
    return 0


def cmd_pipeline(args: argparse.Namespace) -> int:
    if args.scale == "shipped":
        from benchmarks.shipped import run_shipped

        return run_shipped(args.out, real=args.real, real_val=args.real_val, progress=not args.quiet)
    from benchmarks.pipeline import run_pipeline

    return run_pipeline(args.out, args.scale, args.real, not args.quiet)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks", description=__doc__)
    add_common(parser)
    sub = parser.add_subparsers(metavar="COMMAND")
    _add_measure_parsers(sub)
    _add_result_parsers(sub)
    _add_device_parsers(sub)
    _add_shipped_parsers(sub)
    return parser


def _add_measure_parsers(sub) -> None:
    """run / accuracy / latency: one set of flags, three modes."""
    modes = {
        "run": ("accuracy + latency of artefacts (Keras folders, TFLite/ONNX bundles) in one run", None),
        "accuracy": ("accuracy only (full-plate, characters, per head, thresholds, agreement, confusions)", "accuracy"),
        "latency": ("latency only (warm-up, >=runs and >=min-seconds, p50/p90/p99, threads x batch)", "latency"),
    }
    for name, (help_text, only) in modes.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "artefacts", nargs="+", help="model/bundle folders (or folders of them); the first is the reference"
        )
        p.add_argument(
            "--data", action="append", metavar="SRC", required=only == "accuracy", help="labelled set for accuracy"
        )
        p.add_argument("--threads", type=int, nargs="+", default=[1])
        p.add_argument("--batch", type=int, nargs="+", default=[1], help="batch sizes (1 = device; sweep for server)")
        if only != "latency":
            add_views_option(p, "for accuracy (latency stays one view a call: N views cost about --batch N)")
        p.add_argument("--warmup", type=int, default=20)
        p.add_argument("--runs", type=int, default=200)
        p.add_argument("--min-seconds", type=float, default=10.0)
        p.add_argument(
            "--rounds",
            type=positive,
            default=5,
            help="time the settings in this many turns, so drift of the machine's speed hits all alike",
        )
        if only is None:
            p.add_argument("--accuracy-only", action="store_true")
            p.add_argument("--latency-only", action="store_true")
        p.add_argument("--title", default="host")
        p.add_argument("--name", default=name if only else "report")
        p.add_argument(
            "--out", default="runs/benchmarks", help="report folder (benchmarks/results/ is for reports kept in git)"
        )
        p.set_defaults(func=cmd_run, accuracy_only=only == "accuracy", latency_only=only == "latency")


def _add_result_parsers(sub) -> None:
    """report / server: merge results; load an inference server."""
    p = sub.add_parser("report", help="merge result JSON files (host, device) into one report")
    p.add_argument("results", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--name", default="report")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("server", help="ONNX Runtime / LiteRT under concurrent client threads and batching")
    p.add_argument("bundle")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--batch", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--seconds", type=float, default=5.0, help="per setting")
    p.add_argument("--intra-threads", type=int, default=None, help="runtime threads per session")
    p.add_argument("--out", required=True, help="output path without suffix (.md and .json)")
    p.set_defaults(func=cmd_server)


def _add_device_parsers(sub) -> None:
    """record, and the device side: Android commands, the Raspberry Pi package, device vs host reads."""
    p = sub.add_parser("record", help="record training run folders (command, config, time, evaluation) as results")
    p.add_argument("runs", nargs="+")
    p.add_argument("--out", required=True, help="output path without suffix (writes .md and .json)")
    p.add_argument("--title", default="training runs")
    p.set_defaults(func=cmd_record)
    p = sub.add_parser("android", help="adb + benchmark_model commands, or --parse its output")
    p.add_argument("model", nargs="?", default="model.tflite", help="bundle folder or .tflite file")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--gpu", action="store_true", help="GPU delegate instead of XNNPACK")
    p.add_argument(
        "--parse", metavar="OUTPUT.txt", help="benchmark_model output -> result JSON (stdout) for 'benchmarks report'"
    )
    p.set_defaults(func=cmd_android)
    p = sub.add_parser("device-package", help="tar.gz of bundles + the TensorFlow-free runner for a Raspberry Pi")
    p.add_argument("bundles", nargs="+")
    p.add_argument("--out", default="plates-bench.tar.gz")
    p.set_defaults(func=cmd_device_package)
    p = sub.add_parser(
        "compare-reads", help="do a device's bundles read the same plates as the host's? (runner --images)"
    )
    p.add_argument("device", help="runner.py JSON from the device (or emulator)")
    p.add_argument("host", help="runner.py JSON from the host, same bundles and images")
    p.add_argument("--out", required=True, help="output path without suffix (.md and .json)")
    p.set_defaults(func=cmd_compare_reads)


def _add_shipped_parsers(sub) -> None:
    """card / pipeline: the shipped models' cards and the main job."""
    p = sub.add_parser("card", help="model card (MODEL.md + card.json) of a shipped folder from benchmark results")
    p.add_argument("folder", help="shipped model folder (bundles and/or a Keras folder below it)")
    p.add_argument("--results", action="append", default=[], metavar="SET=JSON", help="'benchmarks run' output per set")
    keep = " (default: as the folder's card says, so a card measured again keeps its text)"
    p.add_argument("--title", help="what the model is" + keep)
    p.add_argument("--trained-on", help="the training data, in words" + keep)
    p.add_argument("--recipe", help="the command that reproduces the model" + keep)
    p.add_argument("--notes", help="anything else a user should know" + keep)
    p.add_argument(
        "--selection", help="how the model was selected (default: as the card says, else the plates-real-val note)"
    )
    p.add_argument("--samples", help="folder of sample crops named by plate text, read by every bundle")
    p.add_argument("--check", action="store_true", help="only check the files against the card's sha256")
    p.set_defaults(func=cmd_card)

    p = sub.add_parser(
        "pipeline", help="README main job: compress the shipped model and benchmark it; --scale: train from scratch"
    )
    p.add_argument(
        "--scale",
        choices=("shipped", "tiny", "small", "real"),
        default="shipped",
        help="shipped: slim the shipped model, export, benchmark against the shipped bundles (minutes); "
        "tiny / small / real: the whole chain from synthetic data (seconds / minutes / hours, resumable)",
    )
    p.add_argument("--out", default="runs/pipeline")
    p.add_argument(
        "--real", default=None, help="real labelled set (default: shared plates-real-dev if present; 'none': synthetic)"
    )
    p.add_argument(
        "--real-val", default=None, help="second real set, accuracy only (default: shared plates-real-val if present)"
    )
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_pipeline)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

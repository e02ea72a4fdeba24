"""``compress slim`` and ``compress sensitivity``: the orchestration around ``compress.slim``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from plates import logger
from plates.atomic import atomic_path, write_json, write_text


def gamma_histograms(model, path: Path, title: str) -> None:
    """One small histogram of |gamma| per BN layer, so a user sees whether sparsity happened."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plates.regularizers import _all_layers

    bns = [layer for layer in _all_layers(model) if layer.__class__.__name__ == "BatchNormalization"]
    cols = 6
    rows = max(1, int(np.ceil(len(bns) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 1.6 * rows), dpi=90, squeeze=False)
    for ax, bn in zip(axes.flat, bns, strict=False):
        ax.hist(np.abs(bn.gamma.numpy()), bins=30, color="tab:blue")
        ax.set_title(bn.name[:28], fontsize=6)
        ax.tick_params(labelsize=5)
    for ax in list(axes.flat)[len(bns) :]:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _cpu_latency(model, size, runs: int = 50) -> float:
    from plates.keras import tf
    from plates.timing import measure

    fn = tf.function(lambda x: model(x, training=False))
    x = tf.zeros((1, *size, 3), tf.float32)
    return measure(lambda: fn(x), warmup=10, runs=runs, min_seconds=2.0)["p50_ms"]


def _file_size(model) -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.keras"
        model.save(path)
        return path.stat().st_size


def describe(model, info, val, label: str, threads: int = 1) -> dict[str, Any]:
    from compress.latency import litert_p50_ms
    from plates.evaluate import evaluate_model
    from plates.flops import count_macs

    row = {
        "model": label,
        "params": int(model.count_params()),
        "macs": int(count_macs(model)),
        "file_bytes": _file_size(model),
        "cpu_p50_ms_batch1": _cpu_latency(model, info.size),
        "litert_p50_ms_batch1": litert_p50_ms(model, info, threads, runs=200, min_seconds=3.0),
    }
    if val is not None:
        metrics, _ = evaluate_model(model, info, val)
        row.update(plate_accuracy=metrics["plate_accuracy"], char_accuracy=metrics["char_accuracy"])
    return row


def cmd_slim(args: argparse.Namespace) -> int:
    from compress.latency import litert_p50_ms
    from compress.slim import Graph, Target, build, plan, summary
    from plates.modelio import load_model, save_model
    from plates.pipeline import load_images
    from plates.readers import read_sources
    from plates.runinfo import manifest

    run = Path(args.run)
    target = Target(
        args.ratio, args.flops, args.params, args.latency, args.round_to, args.min_fraction, args.importance
    )
    target.validate()
    original, info = load_model(args.model)
    Graph(original, args.protect)  # reject a bad --protect before any training
    args.source_sha256 = _check_source(run, args.model)
    source = _sparsity_phase(args, original, info, run) if args.sparsity_epochs else args.model
    model, info = load_model(source) if args.sparsity_epochs else (original, info)
    gamma_histograms(model, run / "gamma.png", f"|gamma| of {source}")
    val = read_sources([args.val], info.spec) if args.val else None
    probe_src = val if val is not None else read_sources(args.train, info.spec)
    probe = load_images(probe_src.subset(np.arange(min(64, len(probe_src)))), info.size)
    graph = Graph(model, args.protect)
    equivalence = _equivalence_check(graph, model, probe, args.dead_gamma)
    keep = plan(graph, target, lambda m: litert_p50_ms(m, info, args.latency_threads))
    slim = build(graph, keep, probe=probe)
    extra = {**info.extra, "slimmed_from": str(Path(args.model)), "slim_target": vars(target)}
    slim_info = type(info)(info.spec, info.height, info.width, info.channels, extra)
    save_model(run / "pruned", slim, slim_info)
    # the baseline is the model as given; after sparsity training it is a different model
    threads = args.latency_threads
    before = describe(original, info, val, f"original ({args.model})", threads)
    sparse = (
        [describe(model, info, val, f"after sparsity training ({source})", threads)] if args.sparsity_epochs else []
    )
    pruned = describe(slim, slim_info, val, "pruned, before fine-tuning", threads)
    final, final_info = _fine_tune_phase(args, run, slim, slim_info)
    after = describe(final, final_info, val, "slimmed" + (" + fine-tuned" if args.epochs else ""), threads)
    report = {
        "command": manifest()["command"],
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "source": args.model,
        "target": vars(target),
        "equivalence_check": equivalence,
        "groups": summary(graph, keep),
        "rows": [before, *sparse, pruned, after],
        "speedup_cpu_p50": before["cpu_p50_ms_batch1"] / after["cpu_p50_ms_batch1"],
        "speedup_litert_p50": before["litert_p50_ms_batch1"] / after["litert_p50_ms_batch1"],
        "latency_threads": threads,
        "macs_ratio": after["macs"] / before["macs"],
        "params_ratio": after["params"] / before["params"],
    }
    write_json(run / "slim_report.json", report)
    text = _slim_markdown(report)
    write_text(run / "slim_report.md", text)
    print(text)
    print(f"slimmed model: {run}/model.keras; report: {run}/slim_report.md; gamma histograms: {run}/gamma*.png")
    return 0


def recorded_source(run: Path) -> str | None:
    """The sha256 of the model a slim run (or its sparsity stage) was made from, as its
    ``config.json`` records it; None when there is no run or it predates the record."""
    config = run / "config.json"
    return json.loads(config.read_text(encoding="utf-8")).get("source_sha256") if config.exists() else None


def _check_source(run: Path, model: str) -> str:
    """The source model file's sha256; refuses (before anything in ``run`` is rewritten) to resume
    a run slimmed from another model: its channel plan, checkpoints and report belong to that one."""
    from plates.errors import PlateError
    from plates.modelio import model_file
    from plates.runinfo import sha256

    digest = sha256(model_file(model))
    for stage in ("sparsity", "."):
        before = recorded_source(run / stage)
        if before not in (None, digest):
            raise PlateError(
                f"{run}: holds a run slimmed from another model than {model} (sha256 {before[:12]}, "
                f"now {digest[:12]}); use a new --run folder (or delete this one) instead of resuming"
            )
    return digest


def _sparsity_phase(args: argparse.Namespace, original, info, run: Path) -> str:
    """Train the model with L1 on its BatchNorm gammas (network slimming); returns the folder
    of the sparse model, which the pruning then reads."""
    from plates.modelio import load_model
    from plates.train_cli import run_training

    sparse = argparse.Namespace(
        **{
            **vars(args),
            "epochs": args.sparsity_epochs,
            "gamma_l1": args.gamma_l1,
            "run": str(run / "sparsity"),
            "lr": args.sparsity_lr,
            "ema": 0.0,  # the pruning threshold reads the raw gammas the L1 drove towards 0
        }
    )
    gamma_histograms(original, run / "gamma_before.png", f"|gamma| before sparsity ({args.model})")
    run_training(
        sparse,
        lambda: load_model(args.model)[0],
        info,
        {"stage": "sparsity", "source": args.model, "source_sha256": args.source_sha256},
    )
    return str(run / "sparsity")


def _equivalence_check(graph, model, probe: np.ndarray, dead_gamma: float) -> dict[str, float]:
    """Removing only (near-)zero-gamma channels must not change the outputs: a check of the
    surgery itself, before any channel that matters is cut."""
    from compress.slim import build, max_output_diff, zero_gamma_keep

    dead = zero_gamma_keep(graph, dead_gamma)
    n_dead = sum(graph.spaces[r].size - len(k) for r, k in dead.items())
    diff = max_output_diff(model, build(graph, dead, probe=probe), probe[:16])
    logger.info(
        "equivalence check: %d channels with |gamma| <= %g removed, max output difference %.2e",
        n_dead,
        dead_gamma,
        diff,
    )
    return {"removed_dead_channels": n_dead, "dead_gamma": dead_gamma, "max_output_diff": diff}


def _fine_tune_phase(args: argparse.Namespace, run: Path, slim, slim_info):
    """Fine-tune the pruned model into the run folder (or save it as is with ``--epochs 0``)."""
    from plates.keras import keras
    from plates.modelio import load_model, save_model
    from plates.train_cli import run_training

    if not args.epochs:
        save_model(run, slim, slim_info)
        return slim, slim_info
    if args.from_scratch:  # same shapes, new initial weights ("Rethinking the Value of Network Pruning")
        builder = lambda: keras.models.clone_model(load_model(run / "pruned")[0])  # noqa: E731
    else:
        builder = lambda: load_model(run / "pruned")[0]  # noqa: E731
    ft = argparse.Namespace(**{**vars(args), "gamma_l1": 0.0})
    stage = "fine-tune" if not args.from_scratch else "from scratch"
    extra = {"stage": stage, "source": str(run / "pruned"), "source_sha256": args.source_sha256}
    run_training(ft, builder, slim_info, extra)
    return load_model(run)


def _slim_markdown(report: dict) -> str:
    lines = [
        "| model | params | MMACs | file MB | TF p50 ms (b1) "
        f"| LiteRT fp32 p50 ms (b1, {report['latency_threads']} thr) | full-plate | char |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['model']} | {r['params']:,} | {r['macs'] / 1e6:.1f} | {r['file_bytes'] / 1e6:.2f} | "
            f"{r['cpu_p50_ms_batch1']:.2f} | {r['litert_p50_ms_batch1']:.2f} | "
            f"{r.get('plate_accuracy', float('nan')):.4f} | "
            f"{r.get('char_accuracy', float('nan')):.4f} |"
        )
    check = report["equivalence_check"]
    return "\n".join(lines) + (
        f"\n\nMACs x{report['macs_ratio']:.3f}, params x{report['params_ratio']:.3f}, "
        f"speed-up x{report['speedup_litert_p50']:.2f} LiteRT, x{report['speedup_cpu_p50']:.2f} TF; "
        f"equivalence check: max output difference {check['max_output_diff']:.2e} after removing "
        f"{check['removed_dead_channels']} dead channels\n"
    )


def cmd_sensitivity(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from compress.slim import Graph, sensitivity
    from plates.evaluate import evaluate_model
    from plates.modelio import load_model
    from plates.pipeline import load_images
    from plates.readers import read_sources

    model, info = load_model(args.model)
    data = read_sources(args.data, info.spec)
    if args.limit:
        data = data.subset(np.arange(min(args.limit, len(data))))
    probe = load_images(data.subset(np.arange(min(64, len(data)))), info.size)
    base = evaluate_model(model, info, data)[0]["plate_accuracy"]
    rows = sensitivity(
        Graph(model, args.protect), lambda m: evaluate_model(m, info, data)[0]["plate_accuracy"], args.fractions, probe
    )
    out = Path(args.out)
    write_json(out / "sensitivity.json", {"model": args.model, "baseline_plate_accuracy": base, "rows": rows})
    head = "| group | channels | " + " | ".join(f"acc @ -{f:g}" for f in args.fractions) + " |"
    lines = [f"baseline full-plate accuracy {base:.4f}", "", head, "|---|---:|" + "---:|" * len(args.fractions)]
    lines += [
        f"| {r['group']} | {r['channels']} | " + " | ".join(f"{r[f'acc@{f:g}']:.4f}" for f in args.fractions) + " |"
        for r in rows
    ]
    write_text(out / "sensitivity.md", "\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(max(6, len(rows) * 0.3), 4), dpi=110)
    for f in args.fractions:
        ax.plot(range(len(rows)), [r[f"acc@{f:g}"] for r in rows], marker="o", ms=3, label=f"remove {f:g}")
    ax.axhline(base, color="k", lw=0.8, ls="--", label="baseline")
    ax.set_xticks(range(len(rows)), [r["group"][:18] for r in rows], rotation=90, fontsize=6)
    ax.set_ylabel("full-plate accuracy")
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(out / "sensitivity.png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    print("\n".join(lines))
    print(f"wrote {out}/sensitivity.md, .json, .png")
    return 0


def add_slim_parsers(sub, add_train_options) -> None:
    p = sub.add_parser("slim", help="network slimming: gamma-L1 sparsity, real channel removal, fine-tune, report")
    p.add_argument("model", help="model folder to slim (teacher or student)")
    t = p.add_argument_group("target (exactly one)")
    t.add_argument("--ratio", type=float, help="fraction of prunable channels to remove")
    t.add_argument("--flops", type=float, help="keep at most this fraction of the MACs (e.g. 0.5)")
    t.add_argument("--params", type=float, help="keep at most this fraction of the parameters")
    t.add_argument(
        "--latency",
        type=float,
        help="keep at most this fraction of the measured latency (fp32 TFLite under LiteRT, batch 1, this host)",
    )
    p.add_argument(
        "--latency-threads", type=int, default=1, help="LiteRT threads for the latency budget and the report"
    )
    g = p.add_argument_group("selection")
    g.add_argument("--round-to", type=int, default=8, help="kept channels per group rounded up to a multiple")
    g.add_argument("--min-fraction", type=float, default=0.1, help="never keep fewer than this fraction of a group")
    g.add_argument(
        "--protect", action="append", default=[], metavar="NAME", help="never prune layers whose name contains NAME"
    )
    g.add_argument("--importance", choices=("sum", "max"), default="sum", help="group importance from its BN gammas")
    g.add_argument("--dead-gamma", type=float, default=1e-3, help="|gamma| treated as zero for the equivalence check")
    s = p.add_argument_group("sparsity training (before pruning)")
    s.add_argument(
        "--sparsity-epochs", type=int, default=0, help="epochs of L1-on-gamma training (0: model is sparse already)"
    )
    s.add_argument("--sparsity-lr", type=float, default=5e-4)
    p.add_argument("--from-scratch", action="store_true", help="retrain the slim architecture from new weights")
    add_train_options(p, epochs=2, lr=5e-4)
    for action in p._actions:
        if action.dest == "gamma_l1":
            action.default = 1e-4
            action.help = (
                "L1 strength on BN gamma during the sparsity epochs: a loss term (default; 1e-4..1e-3), or with "
                "--gamma-l1-prox a shrink of lr x this per step (total: this x the summed lr; far smaller "
                "values than the loss term, see docs/experiments/003)"
            )
    p.set_defaults(func=cmd_slim)
    p = sub.add_parser("sensitivity", help="per channel group: accuracy after removing a fraction (no fine-tune)")
    p.add_argument("model")
    p.add_argument("--data", action="append", required=True, metavar="SRC")
    p.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    p.add_argument("--limit", type=int, default=500, help="images to evaluate on (0 = all)")
    p.add_argument("--protect", action="append", default=[])
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_sensitivity)

"""Merge benchmark result files into Markdown + JSON + PNG plots (Pareto charts, coverage)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from deploy.xnnpack import describe
from plates.atomic import atomic_path, write_json, write_text


def load_results(paths: list[str | os.PathLike]) -> list[dict[str, Any]]:
    """Runs from result files: one run (the device runner's JSON) or a written report
    (``{"runs": [...]}``, e.g. ``real_scale.json``), so reports merge with each other."""
    from plates.errors import DataError

    out = []
    for p in paths:
        try:
            data = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"{p}: not a readable results JSON ({exc})") from None
        runs = data.get("runs", [data]) if isinstance(data, dict) else None
        if not isinstance(runs, list) or not all(isinstance(r, dict) and "artefacts" in r for r in runs):
            raise DataError(f"{p}: not a benchmark result (expected 'artefacts', or 'runs' holding results)")
        out += runs
    return out


def _fmt(v, spec: str = ".4f", none: str = "-") -> str:
    return none if v is None else format(v, spec)


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["# Benchmark report", ""]
    for res in results:
        artefacts = res.get("artefacts", [])
        timed = any(a.get("latency") for a in artefacts)
        lines += _header_lines(res)
        lines += _summary_table(artefacts)
        lines += _front_lines(artefacts)
        if timed:
            lines += _latency_lines(artefacts)
        pieces = [a for a in artefacts if a.get("xnnpack")]
        if pieces:
            lines += ["", "XNNPACK coverage of the TFLite artefacts (ops outside it run on LiteRT's own kernels):", ""]
            lines += [f"- {a['name']}: {describe(a['xnnpack'])}" for a in pieces]
        if res.get("warnings"):
            lines += ["", "**Warnings**", ""] + [f"- {w}" for w in res["warnings"]]
        lines.append("")
    return "\n".join(lines)


def _header_lines(res: dict[str, Any]) -> list[str]:
    """Title, command, machine, versions and what was measured with which settings."""
    s = res.get("settings", {})
    artefacts = res.get("artefacts", [])
    # `benchmarks accuracy` / `latency` measure one half: say so instead of quoting unused settings
    scored = any(a.get("accuracy") for a in artefacts)
    timed = any(a.get("latency") for a in artefacts)
    accuracy = f"data: {s.get('data')} ({s.get('images')} images)" if scored else "accuracy: not measured"
    if scored and s.get("views", 1) > 1:  # latency stays one view a call: N views cost about batch N
        accuracy += f", each read as {s['views']} views (deploy.predictor.VIEWS) with their mean probabilities"
    latency = (
        f"latency: warm-up {s.get('warmup')}, >= {s.get('runs')} runs and >= {s.get('min_seconds')} s per "
        f"setting"
        + (f" in {s['rounds']} turns" if s.get("rounds", 1) > 1 else "")
        + f", threads {s.get('threads')}, batches {s.get('batches')}"
        if timed
        else "latency: not measured"
    )
    machine = res.get("machine", {})
    return [
        f"## {res.get('title', 'run')} ({res.get('time', '')})",
        "",
        f"- command: `{res.get('command', '')}`",
        f"- machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('system', '')} ({machine.get('arch', '')})",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in res.get("versions", {}).items()),
        f"- {accuracy}; {latency}",
        "",
    ]


def _summary_table(artefacts: list[dict[str, Any]]) -> list[str]:
    """One row per artefact: size, MACs, accuracy, recall at 99.9% precision, batch-1 latency."""
    lines = [
        "| artefact | kind | precision | size MB | params | MMACs | full-plate acc | char acc | "
        "recall@99.9%P | agrees w/ ref | p50 ms | p90 ms | p99 ms | GFLOP/s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in artefacts:
        acc = a.get("accuracy") or {}
        lat = _device_latency(a)
        gflops = 2 * a["macs"] / (lat["p50_ms"] / 1000) / 1e9 / lat["batch"] if lat and a.get("macs") else None
        lines.append(
            f"| {a['name']} | {a['kind']} | {a['precision']} | {a['size_bytes'] / 1e6:.3f} | "
            f"{_fmt(a.get('params'), ',d')} | {_fmt(a['macs'] / 1e6 if a.get('macs') else None, '.1f')} | "
            f"{_fmt(acc.get('plate_accuracy'))} | {_fmt(acc.get('char_accuracy'))} | "
            f"{_fmt((acc.get('recall_at_precision_999') or {}).get('recall'))} | {_fmt(a.get('agreement'))} | "
            f"{_fmt(lat and lat['p50_ms'], '.3f')} | {_fmt(lat and lat['p90_ms'], '.3f')} | "
            f"{_fmt(lat and lat['p99_ms'], '.3f')} | {_fmt(gflops, '.2f')} |"
        )
    return lines


def _latency_lines(artefacts: list[dict[str, Any]]) -> list[str]:
    """Every timed setting (runtime, threads, batch) with its spread and memory."""
    lines = ["", "Latency column: batch 1, the first thread count measured; every setting is below.", ""]
    lines += [
        "| artefact | runtime | threads | batch | p50 ms | p50 by turn ms | p90 ms | p99 ms | mean ms | std ms "
        "| img/s | runs | RSS added MB | process peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {a['name']} | {lat['runtime']} | {lat['threads']} | {lat['batch']} | {lat['p50_ms']:.3f} | "
        f"{_turns(lat)} | {_fmt(lat.get('p90_ms'), '.3f')} | {_fmt(lat.get('p99_ms'), '.3f')} | "
        f"{lat['mean_ms']:.3f} | {_fmt(lat.get('std_ms'), '.3f')} | {lat['throughput_ips']:.1f} | "
        f"{lat.get('runs')} | "
        f"{_fmt(lat.get('rss_added_mb'), '.1f')} | {_fmt(lat.get('peak_rss_mb'), '.0f')} |"
        for a in artefacts
        for lat in a.get("latency", [])
    ]
    lines += [
        "",
        "RSS added: resident memory a setting added while it was set up and run once (memory freed "
        "meanwhile can make it negative); process peak RSS: the peak of the whole run.",
    ]
    if any(lat.get("round_p50_ms") for a in artefacts for lat in a.get("latency", [])):
        lines += [
            "",
            "p50 by turn: lowest and highest median of the turns in which the settings were timed "
            "one after another; their spread is this machine's drift during the run.",
        ]
    return lines


def _cost(a: dict[str, Any], key: str) -> float | None:
    """The x of the Pareto charts and fronts: p50 latency at batch 1 (ms) or size (MB)."""
    return (_device_latency(a) or {}).get("p50_ms") if key == "latency" else a["size_bytes"] / 1e6


def _costed(artefacts: list[dict[str, Any]], key: str) -> list[tuple[float, dict[str, Any]]]:
    """``(cost, artefact)`` for the artefacts that have that cost (latency is not always timed)."""
    out = []
    for a in artefacts:
        cost = _cost(a, key)
        if cost is not None:
            out.append((cost, a))
    return out


def _front_lines(artefacts: list[dict[str, Any]]) -> list[str]:
    """The Pareto fronts in words: which artefacts nothing else beats on accuracy and latency / size."""
    scored = [a for a in artefacts if a.get("accuracy")]
    out = []
    for key, what, unit in (("latency", "p50 latency", "ms"), ("size", "size", "MB")):
        pts = _costed(scored, key)
        if len(pts) < 2:
            continue
        front = pareto_front([(x, a["accuracy"]["plate_accuracy"]) for x, a in pts])
        names = ", ".join(
            f"{pts[i][1]['name']} ({pts[i][0]:.3g} {unit}, {pts[i][1]['accuracy']['plate_accuracy']:.1%})"
            for i in front
        )
        out += ["", f"Pareto front, accuracy vs {what} (nothing else is both cheaper and as accurate): {names}"]
    return out


def _turns(lat: dict[str, Any]) -> str:
    turns = lat.get("round_p50_ms")
    return f"{min(turns):.3f}-{max(turns):.3f}" if turns else "-"


def _device_latency(a: dict[str, Any]) -> dict[str, Any] | None:
    lats = [lat for lat in a.get("latency", []) if lat["batch"] == 1]
    return lats[0] if lats else None


def plots(results: list[dict[str, Any]], out: Path, name: str = "report") -> list[tuple[str, Path]]:
    """Pareto charts (accuracy vs latency, vs size) and coverage curves as ``{name}_*.png``,
    named after the report so two reports in one folder keep their own charts. A report
    without accuracy (latency only) has nothing to plot and gets no charts; one without
    latency (accuracy only) gets no latency chart."""
    scored = [a for r in results for a in r.get("artefacts", []) if a.get("accuracy")]
    if not scored:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refs = {r.get("settings", {}).get("reference") for r in results}
    written = []
    for key, label, title in (
        ("latency", "p50 latency, batch 1 (ms, log)", "accuracy vs latency"),
        ("size", "model size (MB, log)", "accuracy vs size"),
    ):
        xy = _costed(scored, key)
        if not xy:  # accuracy only: no latency chart
            continue
        fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
        _pareto_chart(ax, xy, refs)
        ax.set_xlabel(label)
        written.append((title, _save(plt, fig, out / f"{name}_pareto_{key}.png")))
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for a in scored:
        curve = a["accuracy"].get("coverage_curve")
        if curve:
            xs, ys = zip(*curve, strict=True)
            ax.plot(xs, ys, label=f"{a['name']} ({a['kind']} {a['precision']})", lw=1)
    ax.set_xlabel("coverage (most confident first)")
    ax.set_ylabel("full-plate accuracy on accepted")
    ax.legend(fontsize=6, loc="lower left")
    ax.grid(alpha=0.3)
    return [*written, ("coverage", _save(plt, fig, out / f"{name}_coverage.png"))]


def _pareto_chart(ax, xy: list[tuple[float, dict[str, Any]]], refs: set) -> None:
    """Accuracy against cost, one colour per runtime and precision, the front drawn and named."""
    groups = sorted({(a["kind"], a["precision"]) for _, a in xy})
    for kind, precision in groups:
        sel = [(x, a["accuracy"]["plate_accuracy"]) for x, a in xy if (a["kind"], a["precision"]) == (kind, precision)]
        xs, ys = zip(*sel, strict=True)
        ax.scatter(xs, ys, s=22, alpha=0.8, label=f"{kind} {precision}")
    front = pareto_front([(x, a["accuracy"]["plate_accuracy"]) for x, a in xy])
    fx, fy = zip(*[(xy[i][0], xy[i][1]["accuracy"]["plate_accuracy"]) for i in front], strict=True)
    ax.step(fx, fy, where="post", color="black", lw=0.8, alpha=0.6, label="Pareto front")
    named = sorted(set(front) | {i for i, (_, a) in enumerate(xy) if a["name"] in refs})
    for i in named:  # only the front and the reference are named: all names would be unreadable
        x, a = xy[i]
        ax.annotate(
            f"{a['name']} ({a['kind']} {a['precision']})" + (" reference" if a["name"] in refs else ""),
            (x, a["accuracy"]["plate_accuracy"]),
            fontsize=6,
            xytext=(4, -8),
            textcoords="offset points",
        )
    ax.legend(fontsize=6, loc="lower right")
    ax.set_xscale("log")
    ax.set_ylabel("full-plate accuracy")
    ax.grid(alpha=0.3)


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats: cheaper (x) and at least as accurate (y),
    or as cheap and more accurate; in order of x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], float("-inf")
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def write_report(results: list[dict[str, Any]], out: str | os.PathLike, name: str = "report") -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / f"{name}.json", {"runs": results})
    images = "".join(f"![{title}]({path.name})\n" for title, path in plots(results, out, name))
    write_text(out / f"{name}.md", markdown(results) + ("\n" + images if images else ""))
    return out / f"{name}.md"

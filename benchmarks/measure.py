"""Measure accuracy and latency of artefacts in one run, with the machine and versions."""

from __future__ import annotations

import functools
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.artefacts import Artefact
from deploy.xnnpack import describe
from plates import logger
from plates.codec import top_labels
from plates.metrics import evaluate
from plates.readers import Samples
from plates.timing import measure_in_turns


@functools.lru_cache(maxsize=4)
def _keras(path: str):
    """Load a Keras model folder once per run (stats, accuracy and latency all need it)."""
    from plates.modelio import load_model

    return load_model(path)


def _runner(artefact: Artefact, threads: int | None = None):
    """The artefact's ``deploy.runner.Runner`` (a Keras model loaded once per run)."""
    from deploy.runner import create_runner

    model = _keras(str(artefact.folder))[0] if artefact.kind == "keras" else None
    return create_runner(artefact.folder, threads, model=model)


def model_stats(artefact: Artefact) -> dict[str, Any]:
    """Parameters and MACs of the Keras model behind an artefact."""
    from plates.flops import count_macs
    from plates.modelio import model_file

    if artefact.source is None or not model_file(artefact.source).exists():
        return {}
    model, _ = _keras(str(artefact.source))
    return {"params": int(model.count_params()), "macs": int(count_macs(model))}


def accuracy(artefact: Artefact, samples: Samples, images: np.ndarray, views: int = 1) -> tuple[dict[str, Any], dict]:
    from deploy.runner import batched_probs
    from plates.bundle import read_labels

    probs = batched_probs(_runner(artefact), images, 256 if artefact.kind == "keras" else 64, views)
    return evaluate(read_labels(artefact.folder).spec, samples.labels, probs), probs


RUNTIMES = {
    "keras": "keras (tf_keras, TF intra-op threads as set at start)",
    "litert": "LiteRT (XNNPACK)",
    "onnxruntime": "ONNX Runtime (CPU EP)",
}


def timed_setting(
    artefact: Artefact, image: np.ndarray, threads: int, batch: int
) -> tuple[Callable[[], Any], dict[str, Any]]:
    """The call to time for one setting, and what describes it.

    The call runs once here, so ``rss_added_mb`` (resident memory this setting added: its
    model, runtime buffers and first run) counts the allocations a first inference makes."""
    before = current_rss_mb()
    runner = _runner(artefact, threads)
    fn = runner.bind(np.repeat(image[None], batch, axis=0))
    fn()
    after = current_rss_mb()
    added = after - before if before is not None and after is not None else None
    return fn, {"runtime": RUNTIMES[runner.runtime], "threads": threads, "batch": batch, "rss_added_mb": added}


def latency_in_turns(
    settings: list[tuple[str, Callable[[], Any], dict[str, Any]]],
    warmup: int,
    runs: int,
    min_seconds: float,
    rounds: int,
) -> list[dict[str, Any]]:
    """Time every ``(name, call, description)`` setting in ``rounds`` turns (see ``plates.timing``)."""
    stats = measure_in_turns(
        [fn for _, fn, _ in settings], warmup, runs, min_seconds, rounds, batches=[d["batch"] for *_, d in settings]
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for (name, _, desc), st in zip(settings, stats, strict=True):
        st.update(desc, peak_rss_mb=peak)
        spread = st.get("round_p50_ms") or [st["p50_ms"]]
        logger.info(
            "%s %s threads=%d batch=%d p50=%.3fms p90=%.3fms (turns %.3f-%.3f)",
            name,
            st["runtime"].split(" ")[0],
            st["threads"],
            st["batch"],
            st["p50_ms"],
            st["p90_ms"],
            min(spread),
            max(spread),
        )
    return stats


def current_rss_mb() -> float | None:
    """Resident memory of this process now (Linux ``/proc``; None elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * resource.getpagesize() / 2**20


def agreement(spec, reference: dict, probs: dict) -> float:
    chars = [i for i, h in enumerate(spec.heads) if h.kind == "char"]
    a, b = top_labels(spec, reference), top_labels(spec, probs)
    return float((a[:, chars] == b[:, chars]).all(1).mean())


def warnings(results: list[dict[str, Any]]) -> list[str]:
    """int8 slower than its fp32 twin; a slimmed model not faster than its parent."""
    out = []
    fp32 = {
        (r["source"], r["kind"], lat["threads"], lat["batch"]): lat
        for r in results
        if r["precision"] == "fp32"
        for lat in r.get("latency", [])
    }
    for r in results:
        if not r["precision"].startswith("int8"):
            continue
        for lat in r.get("latency", []):
            twin = fp32.get((r["source"], r["kind"], lat["threads"], lat["batch"]))
            if twin and lat["p50_ms"] > twin["p50_ms"]:
                why = describe(r.get("xnnpack") or {})
                out.append(
                    f"{r['precision']} {r['kind']} of {r['source']} is slower than its fp32 twin at {lat['threads']} "
                    f"thread(s), batch {lat['batch']}: {lat['p50_ms']:.3f} ms vs {twin['p50_ms']:.3f} ms (p50)"
                    + (f"; int8 graph: {why}" if why else "")
                )
    for r in results:
        parent = r.get("slimmed_from")
        if not parent:
            continue
        for q in results:
            if q.get("source") == parent and q["kind"] == r["kind"] and q["precision"] == r["precision"]:
                for a, b in zip(r.get("latency", []), q.get("latency", []), strict=False):
                    if a["threads"] == b["threads"] and a["batch"] == b["batch"] and a["p50_ms"] >= b["p50_ms"]:
                        out.append(
                            f"slimmed {r['name']} is not faster than its parent {q['name']} "
                            f"({a['p50_ms']:.3f} vs {b['p50_ms']:.3f} ms p50, {a['threads']} thread(s))"
                        )
    return out

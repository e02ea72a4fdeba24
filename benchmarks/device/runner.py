"""Self-contained latency runner for a device (Raspberry Pi, any Linux board).

Needs only numpy + pillow + a TFLite runtime (64-bit Pi OS: ``pip install ai-edge-litert
numpy``; 32-bit: ``pip install tflite-runtime 'numpy<2'``) and ``predictor.py`` beside it.
Writes the same JSON as ``benchmarks run``, which ``benchmarks report`` merges::

    python3 runner.py bundles/* --threads 1 4 --out pi.json

``--images DIR`` also records what every bundle reads on those crops (named by plate text),
so a device's readings can be compared with the host's (``benchmarks compare-reads``).
``--emulated`` marks a run under CPU emulation (qemu): its latencies are not device timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predictor import BundleError, Predictor  # noqa: E402


def stats(seconds: np.ndarray, batch: int) -> dict:
    """Same fields as ``plates.timing.summarise``; copied on purpose: this file runs alone
    on the device, next to predictor.py, without the toolkit installed."""
    ms = seconds * 1000
    return {
        "runs": len(ms),
        "batch": batch,
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "std_ms": float(ms.std()),
        "min_ms": float(ms.min()),
        "throughput_ips": float(batch * len(ms) / seconds.sum()),
    }


def setting(bundle: Path, threads: int):
    """The call to time for one bundle at one thread count, and its description."""
    p = Predictor(bundle, threads=threads)
    image = np.random.default_rng(0).integers(0, 256, (1, p.height, p.width, 3), dtype=np.uint8)
    return p.bind(image), {"runtime": f"{p.runtime} on device", "threads": threads}


def in_turns(fns: list, warmup: int, runs: int, min_seconds: float, rounds: int) -> list[dict]:
    """``plates.timing.measure_in_turns``, copied for the same reason as ``stats``: every
    setting gets 1/rounds of its runs and seconds per turn, so a board that heats up and
    throttles slows all of them alike instead of the ones timed last."""
    samples: list[list[float]] = [[] for _ in fns]
    medians: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        for i, fn in enumerate(fns):
            for _ in range(warmup if r == 0 else min(warmup, 2)):
                fn()
            turn: list[float] = []
            start = time.perf_counter()
            while len(turn) < -(-runs // rounds) or time.perf_counter() - start < min_seconds / rounds:
                t0 = time.perf_counter()
                fn()
                turn.append(time.perf_counter() - t0)
            samples[i] += turn
            medians[i].append(float(np.percentile(turn, 50)) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [{**stats(np.asarray(s), 1), "round_p50_ms": medians[i], "peak_rss_mb": peak} for i, s in enumerate(samples)]


def image_files(sources: list[str]) -> list[tuple[str, Path]]:
    """(key, path) of every image: the key is the path below the folder given (or the file)."""
    files: list[tuple[str, Path]] = []
    for s in map(Path, sources):
        if s.is_dir():
            found = sorted(f for f in s.rglob("*") if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
            files += [(f"{s.name}/{f.relative_to(s).as_posix()}", f) for f in found]
        else:
            files.append((s.name, s))
    return files


def reads(bundle: Path, files: list[tuple[str, Path]]) -> dict:
    """Text read on every image (one at a time, as a device reads), how many match the file
    name, and the images that could not be read (named, not fatal)."""
    p = Predictor(bundle)
    texts, unreadable = {}, {}
    for key, f in files:
        try:
            texts[key] = p.read(p.load(f))[0]["text"]
        except BundleError as exc:
            unreadable[key] = str(exc)
    correct = sum(text == Path(key).stem for key, text in texts.items())
    return {"images": len(texts), "correct": correct, "texts": texts, "unreadable": unreadable}


def runtime_versions() -> dict:
    from importlib import metadata

    out = {}
    for name in ("ai-edge-litert", "tflite-runtime", "onnxruntime", "pillow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundles", nargs="+")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--min-seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, choices=range(1, 101), default=5, metavar="1-100", help="timed in turns")
    ap.add_argument("--out", default="device.json")
    ap.add_argument("--images", nargs="+", default=[], help="crops named by plate text: record what each bundle reads")
    ap.add_argument("--emulated", action="store_true", help="running under CPU emulation: latency is not a timing")
    return ap


def _artefact(bundle: Path, threads: list[int]) -> tuple[dict, list]:
    """The bundle's description and one (run function, setting) per thread count."""
    model = next(iter(sorted(bundle.glob("*.tflite")) + sorted(bundle.glob("*.onnx"))))
    path = bundle / "export_report.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    found = [setting(bundle, t) for t in threads]
    mode = report.get("mode", "int8" if report.get("int8") else "fp32")
    artefact: dict = {
        "name": bundle.name,
        "path": str(model),
        "kind": model.suffix[1:],
        "precision": f"{mode}+float" if report.get("keep_float") else mode,
        "source": report.get("source_model"),
        "size_bytes": model.stat().st_size,
        "latency": [],
    }
    return artefact, found


def main() -> int:
    args = _parser().parse_args()
    files = image_files(args.images)
    artefacts: list[dict] = []
    settings: list[tuple] = []
    for b in map(Path, args.bundles):
        try:
            artefact, found = _artefact(b, args.threads)
        except (BundleError, StopIteration) as exc:
            print(f"skip {b}: {exc or 'no model file'}", file=sys.stderr)
            continue
        if files:
            artefact["reads"] = reads(b, files)
        artefacts.append(artefact)
        settings += [(artefact, fn, desc) for fn, desc in found]
    measured = in_turns([fn for _, fn, _ in settings], args.warmup, args.runs, args.min_seconds, args.rounds)
    for i, (artefact, _, desc) in enumerate(settings):  # no zip(strict=): Python 3.9 on 32-bit Pi OS
        artefact["latency"].append({**measured[i], **desc})
    for a in artefacts:
        print(f"{a['name']}: " + ", ".join(f"{x['threads']}t p50 {x['p50_ms']:.2f} ms" for x in a["latency"]))
    result = {
        "title": f"device {platform.node()}",
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(sys.argv),
        "machine": {
            "host": platform.node(),
            "arch": platform.machine(),
            "system": platform.platform(),
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            **({"note": "CPU emulation (qemu-user): latencies are not device timings"} if args.emulated else {}),
        },
        "versions": {"python": platform.python_version(), "numpy": np.__version__, **runtime_versions()},
        "settings": {
            "threads": args.threads,
            "batches": [1],
            "warmup": args.warmup,
            "runs": args.runs,
            "min_seconds": args.min_seconds,
            "rounds": args.rounds,
        },
        "artefacts": artefacts,
        "warnings": [],
    }
    out = Path(args.out)
    tmp = out.with_name(out.name + ".tmp")  # a cut-off run leaves no half-written report
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

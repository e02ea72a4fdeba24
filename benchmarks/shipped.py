"""The README's main job: compress the shipped model and measure it against the shipped ones.

What a newcomer wants to see in minutes is the toolkit doing its job on a model that reads
plates: slim the shipped Keras model with a short fine-tune (the teacher, when one ships, to at
most half its MACs; the student, already narrow, to three quarters: half of its MACs costs it
most of its accuracy in a few hundred steps), export the result as int8 and fp32 TFLite and ONNX (each
with its parity check; the source too as fp32 TFLite when it ships as a Keras folder only, so that each
speed-up compares one format), and benchmark it in one report beside the shipped bundles, on the real sets
when they are present (the held-out half of plates-real-dev, and plates-real-val), on a
synthetic held-out set otherwise. Training from scratch is ``benchmarks pipeline --scale
small|real``.

Each step is the toolkit command a user would type, printed as it runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks.pipeline import DEFAULT_REAL, _step
from deploy.shipped import MODELS
from plates import logger
from plates.errors import PlateError
from plates.modelio import model_file
from plates.runinfo import sha256

DEFAULT_VAL = DEFAULT_REAL.parent / "plates-real-val"
SOURCES = ("teacher/keras", "student/keras")
FLOPS = {"teacher": 0.5, "student": 0.75}  # MACs kept, by shipped model
MIN_AGREEMENT_INT8 = 0.9  # a briefly fine-tuned model has more near-ties than a converged one


def shipped_source(models: Path) -> Path:
    """The Keras model the main job compresses: the shipped teacher, else the shipped student."""
    for rel in SOURCES:
        if (models / rel / "labels.json").exists():
            return models / rel
    raise PlateError(f"{models}: no shipped Keras model ({' or '.join(SOURCES)}); run with --scale small instead")


def shipped_bundles(models: Path) -> list[Path]:
    return sorted(p.parent for pattern in ("*/*/model.tflite", "*/*/model.onnx") for p in models.glob(pattern))


def _existing(path: str | None, default: Path) -> Path | None:
    """``None``/"none" disables a real set; otherwise the path (or the default) if it exists."""
    if path is not None and path.lower() == "none":
        return None
    p = Path(path) if path else default
    return p if p.exists() else None


def run_shipped(
    out: str,
    models: str | Path = MODELS,
    real: str | None = None,
    real_val: str | None = None,
    progress: bool = True,
    synth: int = 2000,
    epochs: int = 3,
    steps: int = 500,
    batch: int = 32,
    latency: tuple[str, ...] = ("--runs", "200", "--warmup", "20", "--min-seconds", "3"),
    min_agreement: str | None = None,
) -> int:
    """Slim, export and benchmark (see the module docstring); the keyword knobs size the run
    (the defaults are the README's main job, tests pass tiny ones)."""
    models, o = Path(models), str(out)
    source = shipped_source(models)
    bundles = shipped_bundles(models)
    quiet = [] if progress else ["--quiet"]
    start = time.time()
    train, held, calib, select, val = _shipped_data(o, synth, real, real_val, quiet)
    slimmed = f"{o}/slimmed"
    _forget_stale_slim(Path(slimmed), source)
    fit = ["--epochs", str(epochs), "--steps-per-epoch", str(steps), "--batch-size", str(batch)]
    flops = str(FLOPS[source.parent.name])
    _step(["compress", "slim", str(source), "--flops", flops, "--run", slimmed, *train, "--val", select, *fit,
           "--warmup-epochs", "0.1", "--lr", "1e-3", *quiet])  # fmt: skip
    exp = ["--parity-data", held, *(["--min-agreement", min_agreement] if min_agreement is not None else [])]
    int8 = ["--int8", "--data", calib]
    int8 += [] if min_agreement is not None else ["--min-agreement", str(MIN_AGREEMENT_INT8)]
    _step(["deploy", "tflite", slimmed, "--out", f"{o}/bundles/slimmed-tflite-int8", *int8, *exp])
    _step(["deploy", "tflite", slimmed, "--out", f"{o}/bundles/slimmed-tflite-fp32", *exp])
    _step(["deploy", "onnx", slimmed, "--out", f"{o}/bundles/slimmed-onnx-fp32", *exp])
    artefacts = [str(source), slimmed, f"{o}/bundles", *map(str, bundles)]
    twins = Path(o) / "source-bundles"  # the source as fp32 TFLite when it ships without: the speed-up's base
    if not (source.parent / "tflite-fp32").exists():
        _step(["deploy", "tflite", str(source), "--out", f"{twins}/{source.parent.name}-tflite-fp32", *exp])
        artefacts.append(str(twins))
    title = f"main job: the shipped {source.parent.name} slimmed to {FLOPS[source.parent.name]:g} of its MACs"
    names = ["held-out"]
    _step(["benchmarks", "run", *artefacts, "--data", held, "--threads", "1", *latency, *_out(o, names[0], title)])
    if val is not None:
        names.append("val")
        _step(["benchmarks", "accuracy", *artefacts, "--data", str(val), *_out(o, "val", f"{title}, on {val}")])
    _step(["benchmarks", "report", *(f"{o}/report/{n}.json" for n in names), "--out", f"{o}/report"])
    print(f"\nmain job finished in {time.time() - start:.0f}s; held-out = {held}" + (f", val = {val}" if val else ""))
    for line in headline(Path(o) / "report", names, (source.parent, twins), Path(slimmed)):
        print(line)
    print(f"report:  {o}/report/report.md (+ report.json and charts)")
    return 0


def _forget_stale_slim(slimmed: Path, source: Path) -> None:
    """Start the slimming afresh when ``slimmed`` was slimmed from another model than ``source``.

    The main job's output folder outlives the models it was made from: after the shipped model is
    replaced (a pull, a new recipe run), its checkpoints hold another channel plan and cannot be
    resumed. The folder is the main job's own intermediate, so it is rebuilt, not refused."""
    import shutil

    from compress.slim_cli import recorded_source

    if not (slimmed / "config.json").exists():
        return
    if recorded_source(slimmed) != sha256(model_file(source)):
        logger.warning("%s was slimmed from another model than %s; slimming afresh", slimmed, source)
        shutil.rmtree(slimmed)


def _shipped_data(o: str, synth: int, real: str | None, real_val: str | None, quiet: list[str]):
    """``(training flags, held-out set, calibration set, selection set, plates-real-val or None)``:
    the real sets when present, synthetic stand-ins otherwise. The fine-tune's best epoch is
    picked on plates-real-val (or a synthetic select set), never on the held-out set."""
    _step(["plates", "synth", "--out", f"{o}/synth", "-n", str(synth), "--seed", "1", *quiet])
    dev, val = _existing(real, DEFAULT_REAL), _existing(real_val, DEFAULT_VAL)
    train = ["--train", f"{o}/synth"]
    if dev is not None:  # the recipe's seeded split: its held-out half is what the shipped cards report
        _step(["plates", "split", str(dev), "--fraction", "0.5", "--seed", "0", "--out", f"{o}/real-dev-split"])
        held, calib = f"{o}/real-dev-split/val.txt", f"{o}/real-dev-split/train.txt"
        train += ["--train", f"{calib}*4"]
    else:
        _step(["plates", "synth", "--out", f"{o}/synth-val", "-n", str(min(300, synth)), "--seed", "2", *quiet])
        held, calib = f"{o}/synth-val", f"{o}/synth"
    select = str(val) if val is not None else f"{o}/synth-select"
    if val is None:
        _step(["plates", "synth", "--out", select, "-n", str(min(300, synth)), "--seed", "3", *quiet])
    return train, held, calib, select, val


def _out(o: str, name: str, title: str) -> list[str]:
    return ["--out", f"{o}/report", "--name", name, "--title", title]


def headline(report: Path, names: list[str], sources: tuple[Path, ...], slimmed: Path) -> list[str]:
    """One line per artefact: accuracy per set, size, latency; slimmed artefacts also their
    speed-up over the artefact of the same format under one of ``sources`` (timed in the same run)."""
    rows: dict[str, dict] = {}
    for n in names:
        for run in json.loads((report / f"{n}.json").read_text())["runs"]:
            for a in run["artefacts"]:
                r = rows.setdefault(
                    a["path"], {"name": a["name"], "size": a["size_bytes"], "fmt": (a["kind"], a["precision"])}
                )
                if "accuracy" in a:
                    r[n] = a["accuracy"]["plate_accuracy"]
                if a.get("latency"):
                    r["p50"] = a["latency"][0]["p50_ms"]
                    r["runtime"] = a["latency"][0]["runtime"].split(" ")[0]

    def under(path: str, folder: Path) -> bool:
        return folder.resolve() in Path(path).resolve().parents

    originals = {r["fmt"]: r for p, r in rows.items() if any(under(p, folder) for folder in sources)}
    lines = []
    for path, r in rows.items():
        acc = ", ".join(f"{n} {100 * r[n]:.1f}%" for n in names if n in r)
        line = f"  {r['name']}: {acc}; {r['size'] / 1e6:.2f} MB"
        if "p50" in r:
            line += f"; p50 {r['p50']:.3f} ms ({r['runtime']}, 1 thread)"
        base = originals.get(r["fmt"])
        slim = under(path, slimmed) or under(path, slimmed.parent / "bundles")
        if slim and base is not None and "p50" in r and "p50" in base:
            line += f"; speed x{base['p50'] / r['p50']:.2f} of {base['name']}"
        lines.append(line)
    return lines

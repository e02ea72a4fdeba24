"""The whole flow from scratch on synthetic data: generate -> teacher -> student / distil ->
QAT -> export (TFLite fp32/int8, ONNX fp32/int8) -> accuracy + latency report
(``benchmarks pipeline --scale tiny|small|real``; the README's main job on the shipped models
is ``benchmarks.shipped``).

Each step is the same CLI command a user would type (printed as it runs), so the pipeline
doubles as a worked example. ``--scale`` picks the size: ``tiny`` (the test), ``small``
(minutes) or ``real`` (the recorded run's settings, hours).
Students are the minimalistic MobileNetV3 (ReLU, no squeeze-excite): XNNPACK does not take
int8 hard-swish, which made the stock int8 student slower than its fp32 twin (``deploy.xnnpack``)."""

from __future__ import annotations

import dataclasses
import shlex
import time
from pathlib import Path

from plates import logger
from plates.errors import PlateError


@dataclasses.dataclass(frozen=True)
class Scale:
    """How big the from-scratch chain runs: data, model sizes, steps, timing effort."""

    synth: int  # synthetic training plates
    val: int  # synthetic validation plates when no real set is present
    teacher: tuple[str, ...]  # teacher train flags
    student: tuple[str, ...]  # student / distill flags
    epochs: int
    steps: int  # per epoch
    qat_steps: int
    batch: int
    latency: tuple[str, ...]  # benchmarks run timing flags
    min_agreement: str | None  # parity bar of every export (None: each export's default)


SCALES = {
    "tiny": Scale(
        synth=192,
        val=64,
        teacher=("--backbone", "tiny", "--width", "8", "--neck", "16"),
        student=("--alpha", "0.35", "--neck", "16", "--minimalistic"),
        epochs=1,
        steps=4,
        qat_steps=2,
        batch=16,
        latency=("--runs", "10", "--warmup", "2", "--min-seconds", "0.2"),
        min_agreement="0",
    ),
    "small": Scale(
        synth=3000,
        val=300,
        teacher=("--width", "16", "--strides", "1,2,2,2x1"),
        student=("--alpha", "0.5", "--minimalistic"),
        epochs=3,
        steps=60,
        qat_steps=30,
        batch=32,
        latency=("--runs", "100", "--warmup", "10", "--min-seconds", "2"),
        min_agreement="0",
    ),
    "real": Scale(
        synth=100000,
        val=0,
        teacher=("--width", "64", "--strides", "1,2,2,2x1"),
        student=("--alpha", "1.0", "--minimalistic"),
        epochs=10,
        steps=800,
        qat_steps=400,
        batch=64,
        latency=("--runs", "300", "--warmup", "30", "--min-seconds", "10"),
        min_agreement=None,
    ),
}
SIZE = "32x96"
DEFAULT_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "plates-real-dev"


COMMANDS = ("plates", "teacher", "student", "compress", "deploy", "benchmarks")


def _step(argv: list[str]) -> None:
    """Run one toolkit command in-process, as its console script would, failing the pipeline
    if it fails. The command's ``main`` is found by name (as the shell finds the script), so
    this module does not import the CLIs, ``benchmarks.cli`` among them."""
    import importlib

    if argv[0] not in COMMANDS:
        raise PlateError(f"not a toolkit command: {argv[0]!r}")
    main = importlib.import_module(f"{argv[0]}.cli").main
    print(f"\n$ {shlex.join(argv)}", flush=True)
    start = time.time()
    rc = main(argv[1:])
    if rc:
        raise PlateError(f"pipeline step failed (exit {rc}): {shlex.join(argv)}")
    logger.info("step took %.1fs", time.time() - start)


def run_pipeline(out: str, scale: str = "small", real: str | None = None, progress: bool = True) -> int:
    """The whole chain from scratch at ``scale``: data, teacher, students, QAT, exports, report."""
    cfg = SCALES[scale]
    o = str(Path(out))
    quiet = [] if progress else ["--quiet"]
    start = time.time()
    val = _pipeline_data(o, cfg, real, quiet)
    agree = ["--min-agreement", cfg.min_agreement] if cfg.min_agreement is not None else []
    _pipeline_train(o, cfg, val, agree, quiet)
    bundles = _pipeline_export(o, val, agree)
    _step(
        [
            "benchmarks",
            "run",
            f"{o}/teacher",
            f"{o}/student-small",
            f"{o}/distilled-small",
            bundles,
            f"{o}/qat-small/int8",
            "--data",
            val,
            "--threads",
            "1",
            "2",
            *cfg.latency,
            "--title",
            f"pipeline ({scale} scale)",
            "--out",
            f"{o}/report",
        ]
    )
    print(f"\npipeline ({scale}) finished in {time.time() - start:.0f}s")
    print(
        f"report:  {o}/report/report.md (+ report.json and charts report_pareto_latency.png, "
        "report_pareto_size.png, report_coverage.png)"
    )
    print(f"models:  {o}/teacher, {o}/student-small, {o}/distilled-small, {o}/qat-small; bundles: {bundles}/")
    return 0


def _pipeline_data(o: str, cfg: Scale, real: str | None, quiet: list[str]) -> str:
    """Synthetic training plates; returns the validation source (the real set when present)."""
    _step(["plates", "synth", "--out", f"{o}/synth", "-n", str(cfg.synth), "--seed", "1", *quiet])
    real_path = Path(real) if real else DEFAULT_REAL
    if real_path.exists():
        return str(real_path)
    _step(["plates", "synth", "--out", f"{o}/synth-val", "-n", str(max(cfg.val, 64)), "--seed", "2", *quiet])
    return f"{o}/synth-val"


def _pipeline_train(o: str, cfg: Scale, val: str, agree: list[str], quiet: list[str]) -> None:
    """Teacher, labels-only student, distilled student, then QAT of the distilled one."""

    def data(epochs: int, steps: int) -> list[str]:
        return ["--train", f"{o}/synth", "--val", val, "--epochs", str(epochs), "--steps-per-epoch", str(steps),
                "--batch-size", str(cfg.batch), *quiet]  # fmt: skip

    train = data(cfg.epochs, cfg.steps)
    student = ["--arch", "small", "--input-size", SIZE, *cfg.student, *train]
    _step(["teacher", "train", "--run", f"{o}/teacher", "--input-size", SIZE, *cfg.teacher, *train])
    _step(["student", "train", "--run", f"{o}/student-small", *student])
    _step(["compress", "distill", "--teacher", f"{o}/teacher", "--run", f"{o}/distilled-small", *student])
    qat = ["compress", "qat", f"{o}/distilled-small", "--run", f"{o}/qat-small", "--lr", "1e-4", *agree]
    _step([*qat, *data(1, cfg.qat_steps)])


def _pipeline_export(o: str, val: str, agree: list[str]) -> str:
    """The teacher and the distilled student as TFLite / ONNX bundles; returns their folder."""
    bundles = f"{o}/bundles"
    exports = [
        ("teacher", "tflite", []),
        ("distilled-small", "tflite", []),
        ("distilled-small", "tflite", ["--int8"]),
        ("distilled-small", "onnx", []),
        ("distilled-small", "onnx", ["--int8"]),
    ]
    for model, fmt, flags in exports:
        name = f"{model}-{fmt}-{'int8' if flags else 'fp32'}"
        _step(["deploy", fmt, f"{o}/{model}", "--out", f"{bundles}/{name}", "--data", f"{o}/synth",
               "--parity-data", val, *flags, *agree])  # fmt: skip
    return bundles

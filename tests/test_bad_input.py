"""Bad input through every CLI, as a table: each case runs a command's entry point and checks
the exit code, that the message names the file or option at fault, that no traceback reaches
the user, and (where the case says) that nothing written earlier changed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.cli import main as benchmarks_main
from compress.cli import main as compress_main
from deploy.cli import main as deploy_main
from plates.cli import main as plates_main
from student.cli import main as student_main
from teacher.cli import main as teacher_main

MAINS = {
    "plates": plates_main,
    "teacher": teacher_main,
    "student": student_main,
    "compress": compress_main,
    "deploy": deploy_main,
    "benchmarks": benchmarks_main,
}


@dataclasses.dataclass
class World:
    """Inputs the cases point at, built once: a tiny model folder and its bundle, a synthetic
    set, a torn image, a corrupt model and such."""

    root: Path
    model: Path
    bundle: Path
    synth: Path

    def p(self, name: str) -> str:
        return str(self.root / name)


@pytest.fixture(scope="module")
def world(tmp_path_factory, spec, synth_dir, synth_samples):
    from deploy.export import TFLiteOptions, export_tflite
    from plates.bundle import write_labels
    from plates.modelio import save_model
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    root = tmp_path_factory.mktemp("bad")
    model, info = tiny_model(spec)
    save_model(root / "model", model, info)
    images = load_images(synth_samples.subset(range(16)), info.size)
    export_tflite(model, info, root / "bundle", TFLiteOptions("fp32"), None, images, 0.0)
    (root / "torn.jpg").write_bytes(b"\xff\xd8\xff\xe0 torn")
    (root / "crops").mkdir()
    shutil.copy(synth_samples.paths[0], root / "crops" / "皖A12345.jpg")
    (root / "crops" / "浙B7E2K1.jpg").write_bytes(b"\xff\xd8 torn")
    (root / "corrupt").mkdir()
    (root / "corrupt" / "model.keras").write_bytes(b"PK\x03\x04 not a zip")
    write_labels(root / "corrupt", info)
    (root / "nolabels").mkdir()
    shutil.copy(root / "bundle" / "model.tflite", root / "nolabels" / "model.tflite")
    shutil.copytree(root / "bundle", root / "cut")
    labels = json.loads((root / "cut" / "labels.json").read_text())
    labels["heads"] = labels["heads"][:8]
    (root / "cut" / "labels.json").write_text(json.dumps(labels))
    shutil.copytree(root / "bundle", root / "tornbundle")
    (root / "tornbundle" / "model.tflite").write_bytes(b"TFL3 torn")
    (root / "notjson.json").write_text("{ nope")
    (root / "noartefacts.json").write_text('{"title": "x"}')
    (root / "bad_rows.txt").write_text("missing.jpg 0 0 4 20 6 6 4 0 -1 -1\nx.jpg 0 0 4\n", encoding="utf-8")
    (root / "val").mkdir()
    shutil.copy(synth_samples.paths[1], root / "val" / "皖A12345.jpg")
    (root / "val" / "浙B7E2K1.png").write_bytes(b"\x89PNG torn")
    (root / "empty").mkdir()
    assert teacher_main(["train", "--train", str(synth_dir), "--run", str(root / "run4"), *TINY]) == 0  # width 4
    return World(root, root / "model", root / "bundle", Path(synth_dir))


TINY = ["--backbone", "tiny", "--width", "4", "--neck", "8", "--input-size", "16x48", "--epochs", "1"]
TINY += ["--steps-per-epoch", "1", "--batch-size", "8", "--quiet"]


@dataclasses.dataclass
class Case:
    id: str
    argv: Callable[[World], list[str]]
    names: Callable[[World], str]  # what the message must contain: the file or the option at fault
    code: int = 2
    unchanged: Callable[[World], list[Path]] = lambda w: []  # noqa: E731  (files that must keep their bytes)


CASES = [
    # plates
    Case("check-missing-source", lambda w: ["plates", "check", w.p("nope")], lambda w: "nope", code=1),
    Case("check-bad-rows", lambda w: ["plates", "check", w.p("bad_rows.txt")], lambda w: "missing.jpg", code=1),
    Case("check-folder-torn", lambda w: ["plates", "check", w.p("crops")], lambda w: "浙B7E2K1.jpg", code=1),
    Case(
        "split-negative",
        lambda w: ["plates", "split", w.p("crops"), "--fraction", "-0.5", "--out", w.p("s")],
        lambda w: "--fraction",
    ),
    Case(
        "split-above-one",
        lambda w: ["plates", "split", w.p("crops"), "--fraction", "1.5", "--out", w.p("s")],
        lambda w: "--fraction",
    ),
    Case("split-torn-image", lambda w: ["plates", "split", w.p("crops"), "--out", w.p("s")], lambda w: "浙B7E2K1.jpg"),
    Case("synth-zero", lambda w: ["plates", "synth", "--out", w.p("sy"), "-n", "0"], lambda w: "-n"),
    Case("permute-missing", lambda w: ["plates", "permute", w.p("nope"), "--out", w.p("pm")], lambda w: "nope"),
    # teacher / student training and models
    Case(
        "train-missing-source",
        lambda w: ["teacher", "train", "--train", w.p("nope"), "--run", w.p("r1"), *TINY],
        lambda w: "nope",
    ),
    Case(
        "train-bad-size",
        lambda w: ["teacher", "train", "--train", "x", "--run", "r", "--input-size", "48by144"],
        lambda w: "HEIGHTxWIDTH",
    ),
    Case(
        "train-huge-size",
        lambda w: ["teacher", "train", "--train", "x", "--run", "r", "--input-size", "99999x9"],
        lambda w: "between 8 and",
    ),
    Case(
        "train-torn-val",
        lambda w: ["teacher", "train", "--train", str(w.synth), "--val", w.p("val"), "--run", w.p("r2"), *TINY],
        lambda w: "浙B7E2K1.png",
    ),
    Case(
        "train-bad-head-weight",
        lambda w: ["teacher", "train", "--train", str(w.synth), "--run", w.p("r3"), "--head-weight", "char1=x", *TINY],
        lambda w: "--head-weight",
    ),
    Case(
        "train-unknown-head",
        lambda w: ["teacher", "train", "--train", str(w.synth), "--run", w.p("r4"), "--head-weight", "char9=2", *TINY],
        lambda w: "char9",
    ),
    Case(
        "train-student-backbone",
        lambda w: ["teacher", "train", "--train", "x", "--run", "r", "--backbone", "mobilenetv3_small"],
        lambda w: "--backbone",
    ),
    Case(
        "train-init-missing",
        lambda w: ["teacher", "train", "--train", str(w.synth), "--run", w.p("r5"), "--init", w.p("nope"), *TINY],
        lambda w: "nope",
    ),
    Case(
        "student-bad-stem",
        lambda w: ["student", "train", "--train", "x", "--run", "r", "--stem-stride", "3"],
        lambda w: "stem stride",
    ),
    Case("eval-missing-model", lambda w: ["teacher", "eval", w.p("nope"), "--data", str(w.synth)], lambda w: "nope"),
    Case(
        "eval-corrupt-model",
        lambda w: ["teacher", "eval", w.p("corrupt"), "--data", str(w.synth)],
        lambda w: "model.keras",
    ),
    Case("predict-torn-image", lambda w: ["teacher", "predict", str(w.model), w.p("torn.jpg")], lambda w: "torn.jpg"),
    Case(
        "pseudo-missing-folder",
        lambda w: ["teacher", "pseudo-label", str(w.model), "--unlabelled", w.p("nope"), "--out", w.p("p.txt")],
        lambda w: "nope",
    ),
    Case(
        "pseudo-bad-threshold",
        lambda w: [
            "teacher",
            "pseudo-label",
            str(w.model),
            "--unlabelled",
            w.p("crops"),
            "--out",
            w.p("p.txt"),
            "--head-threshold",
            "char1=2",
        ],
        lambda w: "--head-threshold",
    ),
    Case(
        "resume-with-another-width",
        lambda w: [
            "teacher",
            "train",
            "--train",
            str(w.synth),
            "--run",
            w.p("run4"),
            *TINY[:2],
            "--width",
            "8",
            *TINY[4:],
        ],
        lambda w: "different model.width",
        unchanged=lambda w: [w.root / "run4" / "config.json", w.root / "run4" / "model.keras"],
    ),
    Case(
        "eval-torn-data",
        lambda w: ["teacher", "eval", str(w.model), "--data", w.p("crops")],
        lambda w: "浙B7E2K1.jpg",
    ),
    Case(
        "int8-calibration-torn-data",
        lambda w: ["deploy", "tflite", str(w.model), "--out", w.p("b3"), "--int8", "--data", w.p("crops")],
        lambda w: "浙B7E2K1.jpg",
    ),
    # deploy
    # deploy
    Case("tflite-missing-model", lambda w: ["deploy", "tflite", w.p("nope"), "--out", w.p("b1")], lambda w: "nope"),
    Case(
        "tflite-int8-no-data",
        lambda w: ["deploy", "tflite", str(w.model), "--out", w.p("b2"), "--int8"],
        lambda w: "representative",
    ),
    Case(
        "onnx-into-tflite-bundle",
        lambda w: ["deploy", "onnx", str(w.model), "--out", str(w.bundle), "--parity-data", str(w.synth)],
        lambda w: "model.tflite",
        unchanged=lambda w: [w.bundle / "model.tflite", w.bundle / "labels.json"],
    ),
    Case(
        "tflite-parity-fails",
        lambda w: [
            "deploy",
            "tflite",
            str(w.model),
            "--out",
            str(w.bundle),
            "--parity-data",
            str(w.synth),
            "--min-agreement",
            "1.01",
        ],
        lambda w: "parity-failed.json",
        unchanged=lambda w: [w.bundle / "model.tflite", w.bundle / "export_report.json"],
    ),
    Case(
        "predict-torn-image-bundle",
        lambda w: ["deploy", "predict", str(w.bundle), w.p("torn.jpg")],
        lambda w: "torn.jpg",
        code=1,
    ),
    Case(
        "predict-no-labels",
        lambda w: ["deploy", "predict", w.p("nolabels/model.tflite"), w.p("torn.jpg")],
        lambda w: "labels.json",
    ),
    Case("predict-cut-labels", lambda w: ["deploy", "predict", w.p("cut"), w.p("torn.jpg")], lambda w: "labels.json"),
    Case(
        "predict-torn-bundle",
        lambda w: ["deploy", "predict", w.p("tornbundle"), w.p("torn.jpg")],
        lambda w: "model.tflite",
    ),
    Case("predict-bundle-no-images", lambda w: ["deploy", "predict", str(w.bundle)], lambda w: "no images"),
    Case("triton-missing-bundle", lambda w: ["deploy", "triton", w.p("nope"), "--repo", w.p("tr")], lambda w: "nope"),
    # compress
    Case(
        "slim-missing-model",
        lambda w: ["compress", "slim", w.p("nope"), "--flops", "0.5", "--train", str(w.synth), "--run", w.p("sl")],
        lambda w: "nope",
    ),
    Case(
        "slim-two-targets",
        lambda w: [
            "compress",
            "slim",
            str(w.model),
            "--flops",
            "0.5",
            "--ratio",
            "0.5",
            "--train",
            str(w.synth),
            "--run",
            w.p("sl2"),
        ],
        lambda w: "exactly one target",
    ),
    Case(
        "slim-flops-zero",
        lambda w: ["compress", "slim", str(w.model), "--flops", "0", "--train", str(w.synth), "--run", w.p("sl3")],
        lambda w: "--flops",
    ),
    Case(
        "qat-missing-model",
        lambda w: ["compress", "qat", w.p("nope"), "--train", str(w.synth), "--run", w.p("q")],
        lambda w: "nope",
    ),
    Case(
        "distill-missing-teacher",
        lambda w: [
            "compress",
            "distill",
            "--teacher",
            w.p("nope"),
            "--train",
            str(w.synth),
            "--run",
            w.p("d"),
            "--input-size",
            "16x48",
        ],
        lambda w: "nope",
    ),
    Case(
        "sensitivity-missing-data",
        lambda w: ["compress", "sensitivity", str(w.model), "--data", w.p("nope"), "--out", w.p("se")],
        lambda w: "nope",
    ),
    # benchmarks
    Case(
        "run-torn-bundle",
        lambda w: ["benchmarks", "latency", w.p("tornbundle"), "--runs", "1", "--warmup", "0", "--min-seconds", "0"],
        lambda w: "model.tflite",
    ),
    Case(
        "run-not-a-model", lambda w: ["benchmarks", "accuracy", w.p("empty"), "--data", str(w.synth)], lambda w: "empty"
    ),
    Case(
        "report-not-json",
        lambda w: ["benchmarks", "report", w.p("notjson.json"), "--out", w.p("rp")],
        lambda w: "notjson.json",
    ),
    Case(
        "report-no-artefacts",
        lambda w: ["benchmarks", "report", w.p("noartefacts.json"), "--out", w.p("rp")],
        lambda w: "noartefacts.json",
    ),
    Case(
        "android-parse-missing", lambda w: ["benchmarks", "android", "--parse", w.p("nope.txt")], lambda w: "nope.txt"
    ),
    Case(
        "android-parse-garbage",
        lambda w: ["benchmarks", "android", "--parse", w.p("notjson.json")],
        lambda w: "notjson.json",
    ),
    Case(
        "device-package-missing",
        lambda w: ["benchmarks", "device-package", w.p("nope"), "--out", w.p("pkg.tgz")],
        lambda w: "nope",
    ),
    Case("card-no-results", lambda w: ["benchmarks", "card", str(w.bundle)], lambda w: "--results"),
    Case("card-check-no-card", lambda w: ["benchmarks", "card", str(w.bundle), "--check"], lambda w: "card.json"),
    Case(
        "compare-reads-no-reads",
        lambda w: ["benchmarks", "compare-reads", w.p("noartefacts.json"), w.p("noartefacts.json"), "--out", w.p("cr")],
        lambda w: "noartefacts.json",
    ),
    Case(
        "server-torn-bundle",
        lambda w: ["benchmarks", "server", w.p("tornbundle"), "--seconds", "0.1", "--out", w.p("sv")],
        lambda w: "model.tflite",
    ),
]


def test_the_table_covers_every_command_family():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    assert {c.argv(World(Path("."), Path("."), Path("."), Path(".")))[0] for c in CASES} == set(MAINS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_gets_one_clear_line(case, world, capsys):
    argv = case.argv(world)
    keep = {p: p.read_bytes() for p in case.unchanged(world)}
    try:
        code = MAINS[argv[0]](argv[1:])
    except SystemExit as exc:  # argparse refusing an option value
        code = exc.code
    out, err = capsys.readouterr()
    assert code == case.code, (out + err)[-1500:]
    assert case.names(world) in out + err, (out + err)[-1500:]
    assert "Traceback" not in out + err
    assert {p: p.read_bytes() for p in keep} == keep  # nothing written earlier was touched


def test_qat_whose_int8_export_fails_parity_still_writes_its_report(world, capsys):
    """The QAT model is trained and kept; its report says the int8 export failed and why."""
    run = world.root / "qat"
    argv = ["qat", str(world.model), "--train", str(world.synth), "--val", str(world.synth), "--run", str(run)]
    argv += ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "8", "--quiet", "--min-agreement", "1.01"]
    assert compress_main(argv) == 2
    err = capsys.readouterr().err
    assert "parity-failed.json" in err and "Traceback" not in err
    report = json.loads((run / "qat_report.json").read_text())
    assert "plate-level agreement" in report["int8_export"] and "qat_keras_plate_accuracy" in report

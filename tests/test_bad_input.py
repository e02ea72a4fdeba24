"""Bad input through every CLI, as a table: each case runs a command's entry point and checks
the exit code, that the message names the file or option at fault, that no traceback reaches
the user, and (where the case says) that nothing written earlier changed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
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
    from plates.readers import write_label_file
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
    shutil.copytree(root / "bundle", root / "badcard")
    (root / "badcard" / "card.json").write_text("{ nope")
    (root / "noartefacts.json").write_text('{"title": "x"}')
    (root / "bad_rows.txt").write_text("missing.jpg 0 0 4 20 6 6 4 0 -1 -1\nx.jpg 0 0 4\n", encoding="utf-8")
    (root / "val").mkdir()
    shutil.copy(synth_samples.paths[1], root / "val" / "皖A12345.jpg")
    (root / "val" / "浙B7E2K1.png").write_bytes(b"\x89PNG torn")
    (root / "empty").mkdir()
    # a --train label file (two rows: one batch of --batch-size 2) whose second image is not there
    good = synth_samples.subset([0])
    write_label_file(root / "train_missing.txt", good, root)
    with (root / "train_missing.txt").open("a", encoding="utf-8") as f:
        f.write(" ".join(["missing_plate.jpg", *map(str, good.labels[0])]) + "\n")
    # bundles whose labels.json lists fewer classes for one head than the model outputs: the
    # province head one short (a stale file), the layout head down to one (no head at all)
    for name, head in (("cutclasses", "char1"), ("onelayout", "layout")):
        shutil.copytree(root / "bundle", root / name)
        labels = json.loads((root / name / "labels.json").read_text())
        cut = next(h for h in labels["heads"] if h["name"] == head)
        cut["classes"] = cut["classes"][:-1]
        (root / name / "labels.json").write_text(json.dumps(labels))
    # CCPD folders: a good full image beside one whose four corners coincide, or lie off the image
    for name in ("ccpd_flat", "ccpd_off"):
        (root / name).mkdir()
        _ccpd_image(root / name / ccpd_name("180&80_20&80_20&20_180&20"), 0)
    _ccpd_image(root / "ccpd_flat" / ccpd_name(FLAT), 1)
    _ccpd_image(root / "ccpd_off" / ccpd_name(OFF), 2)
    assert teacher_main(["train", "--train", str(synth_dir), "--run", str(root / "run4"), *TINY]) == 0  # width 4
    return World(root, root / "model", root / "bundle", Path(synth_dir))


FLAT = "50&50_50&50_50&50_50&50"  # CCPD corners that coincide
OFF = "2000&1000_1000&1000_1000&500_2000&500"  # and corners far outside a 200x100 image


def ccpd_name(vertices: str) -> str:
    """A CCPD file name (area, tilt, box, corners from bottom-right clockwise, characters 皖AAAAAA,
    brightness, blur) with the given corners: the only field these cases vary."""
    return f"0-0_0-0&0_1&1-{vertices}-0_0_0_0_0_0_0-0-0.jpg"


def _ccpd_image(path: Path, seed: int) -> None:
    """A 200x100 full image for a CCPD name: noise, as only its size and readability matter;
    each its own ``seed``, so no two are byte-identical (a duplicate is a problem of its own)."""
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (100, 200, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


TINY = ["--backbone", "tiny", "--width", "4", "--neck", "8", "--input-size", "16x48", "--epochs", "1"]
TINY += ["--steps-per-epoch", "1", "--batch-size", "8", "--quiet"]


@dataclasses.dataclass
class Case:
    id: str
    argv: Callable[[World], list[str]]
    names: Callable[[World], str]  # what the message must contain: the file or the option at fault
    code: int = 2
    unchanged: Callable[[World], list[Path]] = lambda w: []  # noqa: E731  (files that must keep their bytes)
    # paths the command must not have created: a refusal comes before any output is written
    absent: Callable[[World], list[Path]] = lambda w: []  # noqa: E731
    # more text the output must hold: the rest of the message, or what the command still did
    also: Callable[[World], list[str]] = lambda w: []  # noqa: E731


CASES = [
    # plates
    Case("check-missing-source", lambda w: ["plates", "check", w.p("nope")], lambda w: "nope", code=1),
    Case("check-bad-rows", lambda w: ["plates", "check", w.p("bad_rows.txt")], lambda w: "missing.jpg", code=1),
    Case("check-folder-torn", lambda w: ["plates", "check", w.p("crops")], lambda w: "浙B7E2K1.jpg", code=1),
    Case(
        "check-ccpd-flat-corners",
        lambda w: ["plates", "check", w.p("ccpd_flat")],
        lambda w: ccpd_name(FLAT),
        code=1,
        also=lambda w: ["enclose no area"],
    ),
    Case(
        "check-ccpd-corners-off-image",
        lambda w: ["plates", "check", w.p("ccpd_off")],
        lambda w: ccpd_name(OFF),
        code=1,
        also=lambda w: ["outside the"],
    ),
    Case(
        "split-negative",
        lambda w: ["plates", "split", w.p("crops"), "--fraction", "-0.5", "--out", w.p("s")],
        lambda w: "--fraction",
        absent=lambda w: [w.root / "s" / "train.txt", w.root / "s" / "val.txt"],
    ),
    Case(
        "split-above-one",
        lambda w: ["plates", "split", w.p("crops"), "--fraction", "1.5", "--out", w.p("s")],
        lambda w: "--fraction",
        absent=lambda w: [w.root / "s" / "train.txt", w.root / "s" / "val.txt"],
    ),
    Case(
        "split-torn-image",
        lambda w: ["plates", "split", w.p("crops"), "--out", w.p("s")],
        lambda w: "浙B7E2K1.jpg",
        absent=lambda w: [w.root / "s" / "train.txt", w.root / "s" / "val.txt"],
    ),
    Case("synth-zero", lambda w: ["plates", "synth", "--out", w.p("sy"), "-n", "0"], lambda w: "-n"),
    Case("permute-missing", lambda w: ["plates", "permute", w.p("nope"), "--out", w.p("pm")], lambda w: "nope"),
    Case(
        "cut-province-depth-reversed",
        lambda w: ["plates", "cut-province", w.p("crops"), "--out", w.p("cp"), "--depth", "0.9,0.2"],
        lambda w: "--depth",
        absent=lambda w: [w.root / "cp"],
    ),
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
        "train-rotate-too-far",
        lambda w: ["student", "train", "--train", "x", "--run", "r", "--rotate", "90"],
        lambda w: "--rotate",
        also=lambda w: ["[0, 45]"],
    ),
    Case(
        "synth-rounded-share-above-one",
        lambda w: ["plates", "synth", "--out", w.p("syn"), "-n", "4", "--rounded-share", "1.5"],
        lambda w: "--rounded-share",
        also=lambda w: ["[0, 1]"],
        absent=lambda w: [w.root / "syn"],
    ),
    Case(
        "synth-hanzi-ink-cap-zero",
        lambda w: ["plates", "synth", "--out", w.p("syn"), "-n", "4", "--hanzi-ink-cap", "0"],
        lambda w: "--hanzi-ink-cap",
        also=lambda w: ["(0, 1]"],
        absent=lambda w: [w.root / "syn"],
    ),
    Case(
        "synth-unknown-hanzi-face",
        lambda w: ["plates", "synth", "--out", w.p("syn"), "-n", "4", "--hanzi-faces", "noto-black,comic"],
        lambda w: "--hanzi-faces",
        also=lambda w: ["comic", "smiley"],
        absent=lambda w: [w.root / "syn"],
    ),
    Case(
        "train-torn-val",
        lambda w: ["teacher", "train", "--train", str(w.synth), "--val", w.p("val"), "--run", w.p("r2"), *TINY],
        lambda w: "浙B7E2K1.png",
        absent=lambda w: [w.root / "r2" / "checkpoints"],  # reported before the first step
    ),
    Case(
        "train-torn-train",  # the two named crops are one batch of 2; one of them is torn
        lambda w: ["teacher", "train", "--train", w.p("crops"), "--run", w.p("r6"), *TINY, "--batch-size", "2"],
        lambda w: "浙B7E2K1.jpg",
        absent=lambda w: [w.root / "r6" / "checkpoints"],
    ),
    Case(
        "train-label-file-missing-image",
        lambda w: [
            "teacher",
            "train",
            "--train",
            w.p("train_missing.txt"),
            "--run",
            w.p("r7"),
            *TINY,
            "--batch-size",
            "2",
        ],
        lambda w: "missing_plate.jpg",
        absent=lambda w: [w.root / "r7" / "checkpoints"],
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
        absent=lambda w: [w.root / "r5"],  # refused before the run folder is made or the data read
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
        unchanged=lambda w: [w.root / "run4" / name for name in ("config.json", "manifest.json", "model.keras")],
    ),
    Case(
        "eval-torn-data",
        lambda w: ["teacher", "eval", str(w.model), "--data", w.p("crops")],
        lambda w: "浙B7E2K1.jpg",
    ),
    Case(
        "eval-ccpd-corners-off-image",
        lambda w: ["teacher", "eval", str(w.model), "--data", "ccpd:" + w.p("ccpd_off")],
        lambda w: ccpd_name(OFF),
        also=lambda w: ["outside the"],
    ),
    Case(
        "int8-calibration-torn-data",
        lambda w: ["deploy", "tflite", str(w.model), "--out", w.p("b3"), "--int8", "--data", w.p("crops")],
        lambda w: "浙B7E2K1.jpg",
        absent=lambda w: [w.root / "b3"],
    ),
    # deploy
    Case("tflite-missing-model", lambda w: ["deploy", "tflite", w.p("nope"), "--out", w.p("b1")], lambda w: "nope"),
    Case(
        "tflite-int8-no-data",
        lambda w: ["deploy", "tflite", str(w.model), "--out", w.p("b2"), "--int8"],
        lambda w: "representative",
    ),
    Case(
        "onnx-full-range-without-int8",
        lambda w: ["deploy", "onnx", str(w.model), "--out", w.p("b4"), "--full-range"],
        lambda w: "--full-range",
        absent=lambda w: [w.root / "b4"],
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
    Case(
        "predict-mixed-images",  # the torn one gets its line, the good one is still read
        lambda w: ["deploy", "predict", str(w.bundle), w.p("torn.jpg"), w.p("crops/皖A12345.jpg")],
        lambda w: "torn.jpg",
        code=1,
        also=lambda w: [w.p("crops/皖A12345.jpg") + "\t", "1 of 2 images"],
    ),
    Case("predict-cut-labels", lambda w: ["deploy", "predict", w.p("cut"), w.p("torn.jpg")], lambda w: "labels.json"),
    Case(
        "predict-cut-classes",
        lambda w: ["deploy", "predict", w.p("cutclasses"), w.p("crops/皖A12345.jpg")],
        lambda w: "labels.json",
        also=lambda w: ["'char1'"],
    ),
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
        "soup-missing-model",
        lambda w: ["compress", "soup", str(w.model), w.p("nope"), "--out", w.p("so")],
        lambda w: "nope",
        absent=lambda w: [w.root / "so"],
    ),
    Case(
        "soup-greedy-without-val",
        lambda w: ["compress", "soup", str(w.model), str(w.model), "--recipe", "greedy", "--out", w.p("so2")],
        lambda w: "--val",
        absent=lambda w: [w.root / "so2"],
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
        "run-mode-torn-bundle",  # accuracy and latency, the default mode
        lambda w: [
            "benchmarks",
            "run",
            w.p("tornbundle"),
            "--data",
            str(w.synth),
            "--runs",
            "1",
            "--warmup",
            "0",
            "--min-seconds",
            "0",
            "--rounds",
            "1",
            "--out",
            w.p("bench-torn"),
        ],
        lambda w: "model.tflite",
        absent=lambda w: [w.root / "bench-torn"],
    ),
    Case(
        "accuracy-cut-classes",
        lambda w: ["benchmarks", "accuracy", w.p("cutclasses"), "--data", str(w.synth), "--out", w.p("bench-cut")],
        lambda w: "labels.json",
        also=lambda w: ["'char1'"],
        absent=lambda w: [w.root / "bench-cut"],
    ),
    Case(
        "accuracy-one-class-head",
        lambda w: ["benchmarks", "accuracy", w.p("onelayout"), "--data", str(w.synth), "--out", w.p("bench-one")],
        lambda w: "onelayout/labels.json",
        also=lambda w: ["'layout'"],
        absent=lambda w: [w.root / "bench-one"],
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
        absent=lambda w: [w.root / "pkg.tgz"],
    ),
    Case("card-no-results", lambda w: ["benchmarks", "card", str(w.bundle)], lambda w: "--results"),
    Case("card-check-no-card", lambda w: ["benchmarks", "card", str(w.bundle), "--check"], lambda w: "card.json"),
    Case(
        "card-previous-unreadable",
        lambda w: ["benchmarks", "card", w.p("badcard"), "--results", f"x={w.p('noartefacts.json')}"],
        lambda w: "card.json",
        unchanged=lambda w: [w.root / "badcard" / "card.json"],
    ),
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
    assert not [p for p in case.absent(world) if p.exists()]  # else the check below proves nothing
    try:
        code = MAINS[argv[0]](argv[1:])
    except SystemExit as exc:  # argparse refusing an option value
        code = exc.code
    out, err = capsys.readouterr()
    assert code == case.code, (out + err)[-1500:]
    assert case.names(world) in out + err, (out + err)[-1500:]
    assert "Traceback" not in out + err
    assert not [s for s in case.also(world) if s not in out + err], (out + err)[-1500:]
    assert {p: p.read_bytes() for p in keep} == keep  # nothing written earlier was touched
    assert not [p for p in case.absent(world) if p.exists()]  # nothing half-written


@pytest.mark.slow  # end to end: QAT training, then an int8 export
def test_qat_whose_int8_export_fails_parity_still_writes_its_report(world, capsys):
    """The QAT model is trained and kept; its report says the int8 export failed and why."""
    run = world.root / "qat"
    argv = ["qat", str(world.model), "--train", str(world.synth), "--val", str(world.synth), "--run", str(run)]
    argv += ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "8", "--quiet", "--min-agreement", "1.01"]
    assert compress_main(argv) == 2
    out, err = capsys.readouterr()
    assert "parity-failed.json" in err and "Traceback" not in err
    # the model path it prints is the file it wrote (it once printed model.keras, wrote model.h5)
    printed = [line.split()[1] for line in out.splitlines() if line.startswith("model: ")]
    assert printed and Path(printed[-1]).is_file() and Path(printed[-1]).parent == run, out
    report = json.loads((run / "qat_report.json").read_text())
    assert "plate-level agreement" in report["int8_export"] and "qat_keras_plate_accuracy" in report


def test_a_16_bit_grayscale_png_reads_as_the_same_pixels_on_every_path(world, spec, capsys):
    """Pillow's own ``convert("RGB")`` clips 16-bit grayscale to white. The Pillow reader, the
    predictor (and so ``deploy predict``) and the training pipeline must all scale it to the
    same 8-bit pixels, or a model trains on one image and is served another."""
    from PIL import Image

    from deploy.predictor import Predictor
    from plates.images import load_crop, load_rgb
    from plates.pipeline import decode_all, make_dataset
    from plates.readers import Samples

    ramp = np.linspace(0, 65535, 32 * 96).reshape(32, 96).astype(np.uint16)
    path = world.root / "wide16.png"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as im:
        assert im.mode.startswith("I")  # stored as 16 bits
    full = np.asarray(load_rgb(path))
    assert np.array_equal(full, np.repeat(np.round(ramp / 257.0).astype(np.uint8)[..., None], 3, axis=2))
    predictor = Predictor(world.bundle)
    size = (predictor.height, predictor.width)
    pillow = load_crop(path, size[::-1])
    assert pillow.mean() < 200 and pillow.std() > 30  # a ramp, not white
    assert np.array_equal(predictor.load(path), pillow)
    samples = Samples([str(path)], np.zeros((1, len(spec.heads)), np.int32))
    assert np.array_equal(decode_all(samples, size)[0][0], pillow)
    images, _ = next(iter(make_dataset(samples, size, 1)))
    assert np.array_equal(images.numpy()[0], pillow.astype(np.float32))
    assert deploy_main(["predict", str(world.bundle), str(path)]) == 0
    read = predictor.read(pillow)[0]
    assert capsys.readouterr().out.startswith(f"{path}\t{read['text']}\t{read['confidence']:.4f}\t")

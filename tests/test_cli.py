"""The thin CLIs: clean one-line errors for bad input, and a tiny train -> eval -> predict."""

import json

import pytest

from plates.cli import main as plates_main
from teacher.cli import main as teacher_main


def test_check_command_reports_and_exits_nonzero(tmp_path, capsys):
    (tmp_path / "labels.txt").write_text("missing.jpg 0 0 4 20 6 6 4 0 -1 -1\n", encoding="utf-8")
    assert plates_main(["check", str(tmp_path / "labels.txt")]) == 1
    out = capsys.readouterr().out
    assert "line 1: missing.jpg: unreadable: image not found" in out and "1 entries, 1 problems" in out


def test_check_and_split_take_any_source_and_name_unreadable_images(tmp_path, capsys, synth_samples):
    import shutil

    crops = tmp_path / "crops"
    crops.mkdir()
    for p, name in zip(synth_samples.paths[:4], ["皖A12345", "浙B7E2K1", "苏E0C9Q8", "沪AD1234"], strict=True):
        shutil.copy(p, crops / f"{name}.jpg")
    shutil.copy(synth_samples.paths[0], crops / "京A00001.jpg")  # same bytes as 皖A12345.jpg
    (crops / "京C88888.jpg").write_bytes(b"\xff\xd8 torn")
    (crops / "notaplate.jpg").write_bytes(b"x")
    assert plates_main(["check", str(crops)]) == 1
    out = capsys.readouterr().out
    assert "京C88888.jpg: unreadable" in out and "notaplate.jpg: malformed: file name is not a plate text" in out
    assert "皖A12345.jpg: duplicate: same image bytes as" in out and "京A00001.jpg" in out
    assert "6 entries, 3 problems" in out
    split = tmp_path / "split"
    assert plates_main(["split", str(crops), "--out", str(split)]) == 2
    err = capsys.readouterr().err
    assert "京C88888.jpg: not a readable image" in err and "--skip-bad-images" in err and not split.exists()
    assert plates_main(["split", str(crops), "--out", str(split), "--skip-bad-images"]) == 0
    listed = (split / "train.txt").read_text(encoding="utf-8") + (split / "val.txt").read_text(encoding="utf-8")
    assert len(listed.splitlines()) == 5 and "京C88888" not in listed


def test_a_bad_validation_image_is_named_before_any_training(tmp_path, capsys, caplog, synth_dir, synth_samples):
    import shutil

    val = tmp_path / "val"
    val.mkdir()
    shutil.copy(synth_samples.paths[0], val / "皖A12345.jpg")
    (val / "浙B7E2K1.png").write_bytes(b"\x89PNG torn")
    run = tmp_path / "run"
    argv = ["train", "--train", str(synth_dir), "--val", str(val), "--run", str(run), "--backbone", "tiny"]
    argv += ["--width", "4", "--neck", "8", "--input-size", "16x48", "--epochs", "1", "--steps-per-epoch", "2"]
    argv += ["--batch-size", "8", "--quiet"]
    assert teacher_main(argv) == 2
    err = capsys.readouterr().err
    assert "浙B7E2K1.png: not a readable image" in err and "Traceback" not in err
    assert not (run / "checkpoints").exists()  # no step was taken
    assert teacher_main([*argv, "--skip-bad-images"]) == 0
    assert "left out 1 unreadable validation images" in caplog.text


def test_bad_sources_get_one_line_errors(tmp_path, capsys):
    rc = teacher_main(["train", "--train", str(tmp_path / "nope"), "--run", str(tmp_path / "r"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope: no such file or folder" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        teacher_main(["train", "--train", "x", "--run", "r", "--input-size", "48by144"])
    assert "HEIGHTxWIDTH" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        teacher_main(["train", "--train", "x", "--run", "r", "--input-size", "100000x100000"])
    assert "between 8 and 1024 pixels" in capsys.readouterr().err


@pytest.mark.slow  # end to end: train, eval, predict, then every phase of slim
def test_tiny_train_eval_predict(tmp_path, synth_dir, synth_samples, capsys):
    run = tmp_path / "run"
    args = [
        "train",
        "--train",
        str(synth_dir),
        "--val",
        str(synth_dir),
        "--run",
        str(run),
        "--backbone",
        "tiny",
        "--width",
        "4",
        "--neck",
        "8",
        "--input-size",
        "16x48",
        "--epochs",
        "1",
        "--steps-per-epoch",
        "3",
        "--batch-size",
        "16",
        "--loss",
        "focal",
        "--quiet",
    ]
    assert teacher_main(args) == 0
    assert (run / "eval.json").exists() and (run / "coverage.png").exists() and (run / "manifest.json").exists()
    assert teacher_main(["eval", str(run), "--data", str(synth_dir), "--out", str(tmp_path / "ev")]) == 0
    assert "full-plate accuracy" in capsys.readouterr().out
    assert teacher_main(["predict", str(run), synth_samples.paths[0]]) == 0
    line = capsys.readouterr().out.strip().split("\t")
    assert line[0] == synth_samples.paths[0] and 7 <= len(line[1]) <= 8
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    assert teacher_main(["predict", str(run), str(tmp_path / "bad.jpg")]) == 2
    assert "bad.jpg: not a readable image" in capsys.readouterr().err
    assert teacher_main(["eval", str(tmp_path), "--data", str(synth_dir)]) == 2
    assert "no Keras model here" in capsys.readouterr().err

    # compress slim on that run, every phase: sparsity training, the equivalence check, pruning
    # half the prunable channels, fine-tuning, the report
    from compress.cli import main as compress_main

    slim = tmp_path / "slim"
    short = ["--train", str(synth_dir), "--val", str(synth_dir), "--batch-size", "16", "--steps-per-epoch", "2"]
    argv = [
        "slim",
        str(run),
        "--ratio",
        "0.5",
        "--round-to",
        "1",
        "--run",
        str(slim),
        *short,
        "--epochs",
        "1",
        "--quiet",
    ]
    assert compress_main([*argv, "--sparsity-epochs", "1", "--gamma-l1", "1e-4"]) == 0
    report = json.loads((slim / "slim_report.json").read_text())
    assert [r["model"].split(" (")[0] for r in report["rows"]] == [
        "original",
        "after sparsity training",
        "pruned, before fine-tuning",
        "slimmed + fine-tuned",
    ]
    assert (
        report["macs_ratio"] < 1
        and report["params_ratio"] < 1
        and report["equivalence_check"]["max_output_diff"] < 1e-4
    )
    assert (slim / "model.keras").exists() and (slim / "sparsity" / "model.keras").exists()
    assert "equivalence check" in (slim / "slim_report.md").read_text()


def test_negative_calibration_count_is_refused(capsys):
    from compress.cli import main as compress_main

    with pytest.raises(SystemExit) as exc:
        compress_main(["qat", "m", "--run", "r", "--train", "t", "--calibration-images", "-1"])
    assert exc.value.code == 2 and "--calibration-images" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, option",
    [
        (["split", "src", "--out", "o", "--fraction", "-0.5"], "--fraction"),
        (["split", "src", "--out", "o", "--fraction", "1.5"], "--fraction"),
        (["synth", "--out", "o", "-n", "0"], "-n/--count"),
    ],
)
def test_out_of_range_data_options_are_refused_by_name(argv, option, capsys):
    from plates.cli import main as plates_main

    with pytest.raises(SystemExit) as exc:
        plates_main(argv)
    assert exc.value.code == 2 and option in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-0.1", "0.8", "wide"])
def test_a_zoom_out_outside_zero_to_a_half_is_refused_by_name(value, capsys):
    with pytest.raises(SystemExit) as exc:
        teacher_main(["train", "--train", "t", "--run", "r", "--zoom-out", value])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--zoom-out" in err and "[0, 0.5]" in err


def test_tensorflow_start_up_lines_stay_off_the_terminal_unless_verbose():
    import os
    import subprocess
    import sys

    code = "import plates.keras as k; print(k.tf.__version__)"
    env = {k: v for k, v in os.environ.items() if k != "PLATE_EDGE_VERBOSE"}
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert quiet.stdout.strip() and quiet.stderr == ""
    loud = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**env, "PLATE_EDGE_VERBOSE": "1"}, check=True
    )
    assert loud.stdout == quiet.stdout  # same import; only the noise differs (none at all on some builds)

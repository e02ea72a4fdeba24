"""The thin CLIs: clean one-line errors for bad input, and a tiny train -> eval -> predict."""

import pytest

from plates.cli import main as plates_main
from teacher.cli import main as teacher_main


def test_check_command_reports_and_exits_nonzero(tmp_path, capsys):
    (tmp_path / "labels.txt").write_text("missing.jpg 0 0 4 20 6 6 4 0 -1 -1\n", encoding="utf-8")
    assert plates_main(["check", str(tmp_path / "labels.txt")]) == 1
    out = capsys.readouterr().out
    assert "line 1: missing.jpg: unreadable: image not found" in out and "1 rows, 1 problems" in out


def test_bad_sources_get_one_line_errors(tmp_path, capsys):
    rc = teacher_main(["train", "--train", str(tmp_path / "nope"), "--run", str(tmp_path / "r"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope: no such file or folder" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        teacher_main(["train", "--train", "x", "--run", "r", "--input-size", "48by144"])
    assert "HEIGHTxWIDTH" in capsys.readouterr().err


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

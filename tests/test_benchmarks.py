import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks import android
from benchmarks.report import markdown, write_report
from plates.timing import REWARM, measure, measure_in_turns, summarise

SAMPLES = Path(__file__).resolve().parents[1] / "benchmarks" / "samples"


class FakeClock:
    """Each call to the measured function advances time by the next duration."""

    def __init__(self, durations):
        self.t, self.durations, self.calls = 0.0, list(durations), 0

    def __call__(self):
        return self.t

    def work(self):
        self.t += self.durations[self.calls % len(self.durations)]
        self.calls += 1


def test_latency_statistics_on_a_fake_clock():
    clock = FakeClock([0.001] * 98 + [0.010, 0.020])  # 100 runs: 98 x 1 ms, one 10 ms, one 20 ms
    stats = measure(clock.work, warmup=5, runs=100, min_seconds=0.0, clock=clock)
    assert clock.calls == 105  # warm-up runs are not timed
    assert stats["runs"] == 100
    assert stats["p50_ms"] == pytest.approx(1.0) and stats["min_ms"] == pytest.approx(1.0)
    assert stats["p99_ms"] == pytest.approx(np.percentile([1.0] * 98 + [10.0, 20.0], 99))
    assert stats["mean_ms"] == pytest.approx((98 + 30) / 100)
    assert stats["throughput_ips"] == pytest.approx(100 / 0.128)


def test_measure_runs_until_the_minimum_duration():
    clock = FakeClock([0.5])
    stats = measure(clock.work, warmup=0, runs=3, min_seconds=10.0, clock=clock)
    assert stats["runs"] == 20  # 3 runs were not enough to cover 10 s


class DriftingClock:
    """A machine that slows down steadily: every call takes 1 ms more per 1000 calls made so far."""

    def __init__(self):
        self.t, self.calls, self.log = 0.0, 0, []

    def __call__(self):
        return self.t

    def work(self, name):
        def fn():
            self.t += 0.001 * (1 + self.calls / 1000)
            self.calls += 1
            self.log.append(name)

        return fn


def test_turns_give_each_function_its_share_and_interleave():
    clock = DriftingClock()
    a, b = measure_in_turns(
        [clock.work("a"), clock.work("b")], warmup=3, runs=100, min_seconds=0.0, rounds=4, clock=clock, batches=[1, 8]
    )
    assert a["runs"] == b["runs"] == 100 and len(a["round_p50_ms"]) == 4 and b["batch"] == 8
    turns = [name for i, name in enumerate(clock.log) if i == 0 or clock.log[i - 1] != name]
    assert turns == ["a", "b"] * 4  # a, b, a, b, ... not all of a first
    assert clock.calls == 2 * (3 + 3 * REWARM + 100)  # warm-up before the first turn, a re-warm before the others
    assert a["round_p50_ms"] == sorted(a["round_p50_ms"])  # the drift shows in the turns


def test_turns_cancel_drift_that_one_after_another_puts_into_a_difference():
    clock = DriftingClock()
    first = measure(clock.work("a"), warmup=0, runs=500, min_seconds=0.0, clock=clock)
    second = measure(clock.work("b"), warmup=0, runs=500, min_seconds=0.0, clock=clock)
    assert second["p50_ms"] > 1.3 * first["p50_ms"]  # the same function, 'slower' only because it came second
    clock = DriftingClock()
    a, b = measure_in_turns(
        [clock.work("a"), clock.work("b")], warmup=0, runs=500, min_seconds=0.0, rounds=50, clock=clock
    )
    assert b["p50_ms"] == pytest.approx(a["p50_ms"], rel=0.02)


def test_turns_reject_zero_rounds():
    with pytest.raises(ValueError, match="rounds"):
        measure_in_turns([lambda: None], rounds=0)


def test_summarise_batch_throughput():
    assert summarise(np.array([0.1, 0.1]), batch=8)["throughput_ips"] == pytest.approx(80.0)


def test_android_parser_on_recorded_output():
    r = android.parse((SAMPLES / "benchmark_model_xnnpack.txt").read_text())
    assert r["mean_ms"] == pytest.approx(2.90355) and r["init_ms"] == pytest.approx(41.233)
    assert r["runs"] == 200 and r["min_ms"] == pytest.approx(2.556) and r["std_ms"] == pytest.approx(0.398)
    assert r["p50_ms"] == pytest.approx(2.785) and r["p95_ms"] == pytest.approx(3.655)
    assert r["peak_memory_mb"] == pytest.approx(16.1914) and r["memory_overall_mb"] == pytest.approx(12.8633)
    with pytest.raises(ValueError, match="did not finish"):
        android.parse((SAMPLES / "benchmark_model_failed.txt").read_text())


def test_android_commands():
    cmds = android.commands("bundles/x/model.tflite", threads=2, gpu=True)
    _, name = android.remote_name("bundles/x/model.tflite")
    assert re.fullmatch(r"x-[0-9a-f]{8}\.tflite", name)  # the bundle's name, then its path's digest
    assert cmds[1] == f"adb push bundles/x/model.tflite {android.REMOTE_DIR}/{name}"
    assert f"--graph={android.REMOTE_DIR}/{name}" in cmds[-1]
    assert "--num_threads=2" in cmds[-1] and "--use_gpu=true" in cmds[-1] and "--use_xnnpack=false" in cmds[-1]


def test_android_bundles_of_one_name_under_different_parents_get_different_remote_files(tmp_path, capsys):
    """``runs/a/int8`` and ``runs/b/int8`` once both became ``int8.tflite`` on the phone: the
    second push overwrote the first, and its benchmark timed the other model. Their parsed
    outputs are two rows of one report."""
    from benchmarks.cli import main

    graphs, results = [], []
    for parent in ("a", "b"):
        bundle = tmp_path / parent / "int8"
        bundle.mkdir(parents=True)
        (bundle / "model.tflite").write_bytes(b"0" * 10)
        cmds = android.commands(str(bundle))
        assert cmds == android.commands(str(bundle / "model.tflite"))  # the folder or its file: one name
        graphs += [f for f in cmds[-1].split() if f.startswith("--graph=")]
        argv = ["android", str(bundle), "--parse", str(SAMPLES / "benchmark_model_xnnpack.txt")]
        assert main(argv) == 0
        results.append(tmp_path / f"{parent}.json")
        results[-1].write_text(capsys.readouterr().out)
    assert len(graphs) == 2 and graphs[0] != graphs[1] and all("/int8-" in g for g in graphs)
    assert main(["report", *map(str, results), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert all(f"| {g.rsplit('/', 1)[1]} | benchmark_model on Android" in md for g in graphs)


def test_android_output_becomes_a_result_that_report_merges(tmp_path, capsys):
    from benchmarks.cli import main

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "model.tflite").write_bytes(b"0" * 1000)
    argv = ["android", str(tmp_path / "x"), "--threads", "4", "--parse", str(SAMPLES / "benchmark_model_xnnpack.txt")]
    assert main(argv) == 0
    (tmp_path / "phone.json").write_text(capsys.readouterr().out)
    assert main(["report", str(tmp_path / "phone.json"), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    name = android.remote_name(str(tmp_path / "x"))[1]  # the row is the file benchmarked on the phone
    assert f"| {name} | benchmark_model on Android (XNNPACK) | 4 | 1 | 2.785 |" in md
    assert main(["android", "--parse", str(SAMPLES / "benchmark_model_failed.txt")]) == 2
    assert main(["android", "--parse", str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err
    assert "benchmark_model_failed.txt: no 'Inference timings" in err and "nope.txt: cannot read" in err


def test_device_package_checks_every_bundle_before_writing(tmp_path, capsys):
    from benchmarks.cli import main

    out = tmp_path / "pkg.tar.gz"
    out.write_bytes(b"earlier package")
    assert main(["device-package", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "missing: not a bundle folder" in capsys.readouterr().err
    assert out.read_bytes() == b"earlier package" and sorted(p.name for p in tmp_path.iterdir()) == ["pkg.tar.gz"]


def _fixture_result():
    lat = lambda p50: {
        "runtime": "LiteRT (XNNPACK)",
        "threads": 1,
        "batch": 1,
        "p50_ms": p50,
        "p90_ms": p50 * 1.2,
        "p99_ms": p50 * 1.5,
        "mean_ms": p50,
        "std_ms": 0.1,
        "throughput_ips": 1000 / p50,
        "runs": 200,
    }
    acc = lambda a: {
        "plate_accuracy": a,
        "char_accuracy": 0.99,
        "recall_at_precision_999": {"recall": a - 0.1},
        "coverage_curve": [[0.5, 1.0], [1.0, a]],
    }
    return {
        "title": "fixture",
        "time": "t",
        "command": "benchmarks run ...",
        "machine": {"cpu": "cpu", "cores": 2},
        "versions": {"numpy": "2"},
        "settings": {"threads": [1], "batches": [1]},
        "artefacts": [
            {
                "name": "teacher",
                "kind": "keras",
                "precision": "fp32",
                "size_bytes": 46_000_000,
                "params": 11_500_000,
                "macs": 300_000_000,
                "accuracy": acc(0.95),
                "agreement": 1.0,
                "latency": [lat(20.0)],
                "source": "t",
            },
            {
                "name": "student-int8",
                "kind": "tflite",
                "precision": "int8",
                "size_bytes": 1_000_000,
                "params": 900_000,
                "macs": 20_000_000,
                "accuracy": acc(0.94),
                "agreement": 0.97,
                "latency": [lat(1.0)],
                "source": "s",
                "xnnpack": {"partitions": 3, "outside": {"HARD_SWISH": 2}},
            },
        ],
        "warnings": ["int8 tflite of s is slower than its fp32 twin"],
    }


def test_report_on_a_small_fixture(tmp_path):
    res = _fixture_result()
    md = markdown([res])
    assert "| student-int8 | tflite | int8 | 1.000 | 900,000 | 20.0 | 0.9400 |" in md
    assert "30.00" in md  # teacher GFLOP/s = 2 * 300 MMAC / 20 ms
    assert "slower than its fp32 twin" in md
    assert "- student-int8: 3 XNNPACK piece(s); ops outside XNNPACK: HARD_SWISH x2" in md
    assert (
        "accuracy vs p50 latency (nothing else is both cheaper and as accurate): student-int8 (1 ms, 94.0%), teacher"
        in md
    )
    assert "Pareto front, accuracy vs size" in md
    (tmp_path / "a.json").write_text(json.dumps(res))
    from benchmarks.cli import main

    assert main(["report", str(tmp_path / "a.json"), "--out", str(tmp_path / "out")]) == 0
    for f in ("report.md", "report.json", "report_pareto_latency.png", "report_pareto_size.png", "report_coverage.png"):
        assert (tmp_path / "out" / f).stat().st_size > 0
    assert "![accuracy vs size](report_pareto_size.png)" in (tmp_path / "out" / "report.md").read_text()
    # a second report in the same folder keeps its own charts; latency-only results get none
    latency_only = {**res, "artefacts": [{k: v for k, v in a.items() if k != "accuracy"} for a in res["artefacts"]]}
    (tmp_path / "b.json").write_text(json.dumps(latency_only))
    assert main(["report", str(tmp_path / "b.json"), "--out", str(tmp_path / "out"), "--name", "lat"]) == 0
    assert not list((tmp_path / "out").glob("lat_*.png"))
    lat_md = (tmp_path / "out" / "lat.md").read_text()
    assert "![" not in lat_md and "accuracy: not measured; latency: warm-up" in lat_md
    accuracy_only = {**res, "artefacts": [{k: v for k, v in a.items() if k != "latency"} for a in res["artefacts"]]}
    acc_md = markdown([accuracy_only])
    assert "latency: not measured" in acc_md and "Latency column" not in acc_md and "| runtime |" not in acc_md
    (tmp_path / "c.json").write_text(json.dumps(accuracy_only))
    assert main(["report", str(tmp_path / "c.json"), "--out", str(tmp_path / "out"), "--name", "acc"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("acc_*.png")) == ["acc_coverage.png", "acc_pareto_size.png"]
    assert (tmp_path / "out" / "report_coverage.png").exists()
    assert main(["report", str(tmp_path / "missing.json"), "--out", str(tmp_path / "o2")]) == 2
    # a written report merges again (its runs, not one run holding them), beside a single run
    assert (
        main(["report", str(tmp_path / "out" / "report.json"), str(tmp_path / "a.json"), "--out", str(tmp_path / "m")])
        == 0
    )
    merged = json.loads((tmp_path / "m" / "report.json").read_text())["runs"]
    assert [len(r["artefacts"]) for r in merged] == [len(res["artefacts"])] * 2
    (tmp_path / "bad.json").write_text(json.dumps({"title": "no artefacts"}))
    assert main(["report", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o3")]) == 2


def test_pareto_front_keeps_only_unbeaten_points():
    from benchmarks.report import pareto_front

    pts = [(10.0, 0.79), (1.0, 0.75), (0.9, 0.60), (2.0, 0.74), (1.0, 0.70), (5.0, 0.80), (0.9, 0.55)]
    assert pareto_front(pts) == [2, 1, 5]  # 0.9 ms 60%, 1 ms 75%, 5 ms 80%; 10 ms 79% is beaten by 5 ms 80%
    assert pareto_front([]) == []


def test_warnings_flag_slow_int8_and_slimmed_models():
    from benchmarks.measure import warnings

    lat = lambda p: [{"threads": 1, "batch": 1, "p50_ms": p}]
    rows = [
        {"name": "a", "source": "m", "kind": "tflite", "precision": "fp32", "latency": lat(1.0)},
        {
            "name": "b",
            "source": "m",
            "kind": "tflite",
            "precision": "int8",
            "latency": lat(2.0),
            "xnnpack": {"partitions": 5, "outside": {"HARD_SWISH": 4}},
        },
        {"name": "c", "source": "s", "kind": "tflite", "precision": "fp32", "latency": lat(1.5), "slimmed_from": "m"},
        {"name": "d", "source": "m", "kind": "tflite", "precision": "int8+float", "latency": lat(1.2)},
        {"name": "e", "source": "m", "kind": "tflite", "precision": "int8+float", "latency": lat(0.8)},
    ]
    w = warnings(rows)
    assert any("slower than its fp32 twin" in x and "HARD_SWISH x4" in x for x in w)
    assert any(x.startswith("int8+float tflite of m is slower") and "1.200 ms" in x for x in w)
    assert any("not faster than its parent" in x for x in w)


def test_write_report_is_atomic_and_overwrites(tmp_path):
    res = _fixture_result()
    write_report([res], tmp_path)
    write_report([res], tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_pipeline_at_its_smallest_scale(tmp_path):
    from benchmarks.cli import main

    assert main(["pipeline", "--scale", "tiny", "--out", str(tmp_path / "p"), "--quiet"]) == 0
    report = json.loads((tmp_path / "p" / "report" / "report.json").read_text())
    kinds = {(a["kind"], a["precision"]) for a in report["runs"][0]["artefacts"]}
    assert {("keras", "fp32"), ("tflite", "fp32"), ("tflite", "int8"), ("onnx", "fp32"), ("onnx", "int8")} <= kinds
    assert all(a["latency"] for a in report["runs"][0]["artefacts"])


def test_server_load_with_concurrent_clients(tmp_path, spec, synth_samples):
    from benchmarks.cli import main
    from deploy.export import OnnxOptions, export_onnx
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    model, info = tiny_model(spec)
    images = load_images(synth_samples.subset(range(8)), info.size)
    export_onnx(model, info, tmp_path / "b", OnnxOptions(), None, images, 0.0)
    out = tmp_path / "server"
    assert (
        main(
            [
                "server",
                str(tmp_path / "b"),
                "--clients",
                "1",
                "2",
                "--batch",
                "1",
                "4",
                "--seconds",
                "0.3",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [(r["clients"], r["batch"]) for r in rows] == [(1, 1), (2, 1), (1, 4), (2, 4)]
    assert all(r["runs"] > 0 and r["throughput_ips"] > 0 for r in rows)
    md = out.with_suffix(".md").read_text()
    assert "- machine: " in md and "onnxruntime" in md and "- runtime: onnxruntime" in md


def test_device_package_runs_without_tensorflow_and_merges(tmp_path, spec, synth_samples):
    import subprocess
    import sys
    import tarfile

    from benchmarks.cli import main
    from deploy.export import TFLiteOptions, export_tflite
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    model, info = tiny_model(spec)
    images = load_images(synth_samples.subset(range(8)), info.size)
    export_tflite(model, info, tmp_path / "b" / "tiny-fp32", TFLiteOptions("fp32"), None, images, 0.0)
    pkg = tmp_path / "pkg.tar.gz"
    assert main(["device-package", str(tmp_path / "b" / "tiny-fp32"), "--out", str(pkg)]) == 0
    with tarfile.open(pkg) as tar:
        tar.extractall(tmp_path / "device", filter="data")
    root = tmp_path / "device" / "plates-bench"
    # block TensorFlow imports: the device has none
    blocker = (
        "import runpy, sys; sys.modules['tensorflow'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            blocker,
            str(root / "runner.py"),
            str(root / "bundles" / "tiny-fp32"),
            "--threads",
            "1",
            "2",
            "--rounds",
            "3",
            "--runs",
            "5",
            "--warmup",
            "1",
            "--min-seconds",
            "0",
            "--images",
            *synth_samples.paths[:6],
            "--emulated",
            "--out",
            str(tmp_path / "device.json"),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads((tmp_path / "device.json").read_text())
    lats = result["artefacts"][0]["latency"]
    assert [x["threads"] for x in lats] == [1, 2] and all(x["runs"] >= 5 and len(x["round_p50_ms"]) == 3 for x in lats)
    assert main(["report", str(tmp_path / "device.json"), "--out", str(tmp_path / "rep")]) == 0
    assert "tiny-fp32" in (tmp_path / "rep" / "report.md").read_text()
    reads = result["artefacts"][0]["reads"]
    assert reads["images"] == 6 and len(reads["texts"]) == 6 and "emulation" in result["machine"]["note"]
    host = json.loads((tmp_path / "device.json").read_text())
    first = next(iter(host["artefacts"][0]["reads"]["texts"]))
    host["artefacts"][0]["reads"]["texts"][first] = "京A00000"  # one plate read differently
    (tmp_path / "host.json").write_text(json.dumps(host))
    argv = ["compare-reads", str(tmp_path / "device.json"), str(tmp_path / "host.json"), "--out", str(tmp_path / "cmp")]
    assert main(argv) == 0
    cmp = json.loads((tmp_path / "cmp.json").read_text())["bundles"][0]
    assert cmp["images"] == 6 and cmp["same_text"] == pytest.approx(5 / 6) and list(cmp["differences"]) == [first]
    assert "83.33%" in (tmp_path / "cmp.md").read_text()


def test_accuracy_and_latency_commands_measure_only_their_half(tmp_path, spec, synth_dir, synth_samples):
    from benchmarks.cli import main
    from deploy.export import TFLiteOptions, export_tflite
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    model, info = tiny_model(spec)
    images = load_images(synth_samples.subset(range(8)), info.size)
    export_tflite(model, info, tmp_path / "b", TFLiteOptions("fp32"), None, images, 0.0)
    out = tmp_path / "out"
    assert main(["accuracy", str(tmp_path / "b"), "--data", str(synth_dir), "--out", str(out)]) == 0
    (row,) = json.loads((out / "accuracy.json").read_text())["runs"][0]["artefacts"]
    assert "accuracy" in row and "latency" not in row
    views = ["accuracy", str(tmp_path / "b"), "--data", str(synth_dir), "--out", str(out), "--name", "views"]
    assert main([*views, "--views", "3"]) == 0
    run = json.loads((out / "views.json").read_text())["runs"][0]
    assert run["settings"]["views"] == 3 and "each read as 3 views" in (out / "views.md").read_text()
    three = run["artefacts"][0]["accuracy"]
    assert three["mean_confidence"] != row["accuracy"]["mean_confidence"]  # the crops' mean was scored, not one crop
    args = ["latency", str(tmp_path / "b"), "--runs", "3", "--warmup", "1", "--min-seconds", "0", "--out", str(out)]
    assert main([*args, "--threads", "1", "2", "--rounds", "2"]) == 0
    (row,) = json.loads((out / "latency.json").read_text())["runs"][0]["artefacts"]
    assert "accuracy" not in row and [lat["threads"] for lat in row["latency"]] == [1, 2]
    assert all(lat["runs"] >= 3 and len(lat["round_p50_ms"]) == 2 for lat in row["latency"])
    assert all(lat["rss_added_mb"] is not None for lat in row["latency"])
    assert "in 2 turns" in (out / "latency.md").read_text()
    with pytest.raises(SystemExit):  # at least one turn
        main([*args, "--rounds", "0"])
    with pytest.raises(SystemExit):  # accuracy needs labelled data
        main(["accuracy", str(tmp_path / "b"), "--out", str(out)])


@pytest.mark.slow  # end to end: slim, fine-tune, five exports, the report
def test_main_job_slims_the_shipped_model_and_reports_its_speed_up(tmp_path, spec, synth_samples, capsys):
    from benchmarks.shipped import run_shipped
    from deploy.export import TFLiteOptions, export_tflite
    from plates.modelio import save_model
    from plates.pipeline import load_images
    from plates.runinfo import sha256
    from tests.conftest import tiny_model

    model, info = tiny_model(spec, width=32, neck=32)  # room to halve at 8-channel rounding
    models = tmp_path / "models"
    save_model(models / "student" / "keras", model, info)
    images = load_images(synth_samples.subset(range(32)), info.size)
    export_tflite(model, info, models / "student" / "tflite-int8", TFLiteOptions("int8"), images, images, 0.0)
    quick = {"synth": 96, "epochs": 1, "steps": 2, "batch": 16, "min_agreement": "0"}
    latency = ("--runs", "10", "--warmup", "2", "--min-seconds", "0.1", "--rounds", "1")
    out = tmp_path / "out"
    assert run_shipped(str(out), models, "none", "none", False, latency=latency, **quick) == 0
    runs = json.loads((out / "report" / "report.json").read_text())["runs"]
    rows = {Path(a["path"]).parent.relative_to(tmp_path).as_posix(): a for a in runs[0]["artefacts"]}
    assert set(rows) == {
        "models/student/keras",
        "models/student/tflite-int8",
        "out/slimmed",
        "out/bundles/slimmed-tflite-int8",
        "out/bundles/slimmed-tflite-fp32",
        "out/bundles/slimmed-onnx-fp32",
        "out/source-bundles/student-tflite-fp32",  # the speed-up's fp32 base: the source ships no fp32 TFLite
    }
    assert rows["out/slimmed"]["macs"] <= 0.75 * rows["models/student/keras"]["macs"]  # FLOPS["student"]
    assert all(a["latency"] and "accuracy" in a for a in rows.values())
    printed = capsys.readouterr().out
    assert "report/report.md" in printed
    assert "slimmed-tflite-fp32" in printed and "of student-tflite-fp32" in printed  # same-format speed-up
    config = json.loads((out / "slimmed" / "config.json").read_text())
    assert config["source_sha256"] == sha256(models / "student" / "keras" / "model.keras")


def test_main_job_slims_afresh_when_the_shipped_model_changed(tmp_path, spec):
    from benchmarks.shipped import _forget_stale_slim
    from plates.atomic import write_json
    from plates.modelio import save_model
    from plates.runinfo import sha256
    from tests.conftest import tiny_model

    source, slimmed = tmp_path / "models" / "student" / "keras", tmp_path / "out" / "slimmed"
    save_model(source, *tiny_model(spec))
    for recorded, kept in ((sha256(source / "model.keras"), True), ("0" * 64, False), (None, False)):
        write_json(slimmed / "config.json", {"source_sha256": recorded} if recorded else {})
        _forget_stale_slim(slimmed, source)
        assert slimmed.exists() == kept  # a run of another (or an unrecorded) source is not resumed


def test_model_card_from_benchmark_results_and_its_sha256_check(tmp_path, spec, synth_samples, synth_dir):
    import shutil

    from benchmarks.card import CardError, check_card
    from benchmarks.cli import main
    from deploy.export import TFLiteOptions, export_tflite
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    model, info = tiny_model(spec)
    shipped = tmp_path / "shipped"
    export_tflite(
        model, info, shipped / "tflite-fp32", TFLiteOptions("fp32"), None, load_images(synth_samples, info.size)
    )
    samples = tmp_path / "samples"
    samples.mkdir()
    for p, text in zip(synth_samples.paths[:8], synth_samples.texts(spec)[:8], strict=True):
        shutil.copy(p, samples / f"{text}{Path(p).suffix}")
    assert main(["accuracy", str(shipped), "--data", str(synth_dir), "--out", str(tmp_path / "r"), "--name", "a"]) == 0
    argv = ["card", str(shipped), "--results", f"synth={tmp_path / 'r' / 'a.json'}", "--samples", str(samples)]
    assert main([*argv, "--title", "tiny", "--recipe", "make tiny"]) == 0
    card = json.loads((shipped / "card.json").read_text())
    entry = card["artefacts"]["tflite-fp32"]
    assert entry["accuracy"]["synth"]["images"] == len(synth_samples) and entry["samples"]["images"] == 8
    assert set(card["files"]) == {
        "tflite-fp32/model.tflite",
        "tflite-fp32/labels.json",
        "tflite-fp32/export_report.json",
    }
    md = (shipped / "MODEL.md").read_text()
    assert "never trained or calibrated on" in md and card["files"]["tflite-fp32/model.tflite"]["sha256"] in md
    assert check_card(shipped) == [] and main(["card", str(shipped), "--check"]) == 0
    # measured again (another host): the text nobody passes this time is the previous card's
    assert main([*argv, "--notes", "re-measured"]) == 0
    again = json.loads((shipped / "card.json").read_text())
    assert (again["title"], again["recipe"], again["notes"]) == ("tiny", "make tiny", "re-measured")
    (shipped / "tflite-fp32" / "labels.json").write_text("{}")
    (shipped / "stray.txt").write_text("x")
    assert check_card(shipped) == [
        "stray.txt: on disk, not in the card",
        "tflite-fp32/labels.json: sha256 differs from the card",
    ]
    assert main(["card", str(shipped), "--check"]) == 1
    with pytest.raises(CardError, match="none of the result files"):
        from benchmarks.card import CardInputs, build_card

        build_card(tmp_path / "samples", {"synth": tmp_path / "r" / "a.json"}, CardInputs("t", "", ""))


def test_a_corrupt_bundle_is_one_line_in_benchmarks_run(tmp_path, capsys, spec):
    from benchmarks.cli import main
    from plates.bundle import ModelInfo, write_labels

    bundle = tmp_path / "torn"
    write_labels(bundle, ModelInfo(spec, 16, 48))
    (bundle / "model.tflite").write_bytes(b"TFL3 torn")
    assert main(["latency", str(bundle), "--runs", "2", "--warmup", "1", "--min-seconds", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "model.tflite" in err and "Traceback" not in err


ARM64_ROOT = Path(os.environ.get("ARM64_ROOT", "/work/arm64root"))
ARM64_SITE = Path(os.environ.get("ARM64_SITE", "/work/arm64site"))


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("qemu-aarch64-static") is None or not (ARM64_SITE / "ai_edge_litert").is_dir(),
    reason="needs qemu-user-static and the arm64 root of benchmarks/recipes/aarch64_emulation.sh",
)
def test_device_runner_under_aarch64_emulation_reads_like_the_host(tmp_path, spec, synth_samples):
    import subprocess
    import sys

    from benchmarks.cli import main
    from deploy.export import TFLiteOptions, export_tflite
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    model, info = tiny_model(spec)
    images = load_images(synth_samples.subset(range(32)), info.size)
    export_tflite(model, info, tmp_path / "b" / "tiny-int8", TFLiteOptions("int8"), images, images, 0.0)
    root = Path(__file__).resolve().parents[1]
    runner = [str(root / "benchmarks" / "device" / "runner.py"), str(tmp_path / "b" / "tiny-int8")]
    runner += ["--images", *synth_samples.paths[:24], "--threads", "1", "--runs", "3", "--warmup", "1"]
    runner += ["--min-seconds", "0", "--rounds", "1"]
    shutil.copy(root / "deploy" / "predictor.py", tmp_path / "predictor.py")
    shutil.copy(runner[0], tmp_path / "runner.py")
    runner[0] = str(tmp_path / "runner.py")  # the device package's layout: predictor.py beside the runner
    qemu = ["qemu-aarch64-static", "-L", str(ARM64_ROOT), str(ARM64_ROOT / "usr/bin/python3.11")]
    env = {**os.environ, "PYTHONPATH": str(ARM64_SITE)}
    for cmd, out in ((qemu, "arm.json"), ([sys.executable], "host.json")):
        done = subprocess.run(
            [*cmd, *runner, "--out", str(tmp_path / out)],
            env=env if cmd is qemu else None,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "arm.json").read_text())["machine"]["arch"] == "aarch64"
    assert (
        main(["compare-reads", str(tmp_path / "arm.json"), str(tmp_path / "host.json"), "--out", str(tmp_path / "c")])
        == 0
    )
    assert json.loads((tmp_path / "c.json").read_text())["bundles"][0]["same_text"] >= 0.99

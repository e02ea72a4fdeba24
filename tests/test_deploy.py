"""Every export kind from one tiny trained model, scored by the light predictor."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deploy.export import OnnxOptions, TFLiteOptions, export_onnx, export_tflite
from deploy.parity import ParityError
from deploy.predictor import BundleError, Predictor
from plates.bundle import read_labels
from plates.errors import ModelError, PlateError
from tests.conftest import tiny_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory, spec, synth_samples):
    from plates.modelio import load_model
    from plates.pipeline import load_images
    from plates.training import TrainConfig, Trainer

    run = tmp_path_factory.mktemp("tiny") / "run"
    _, info = tiny_model(spec)
    Trainer(
        lambda: tiny_model(spec)[0],
        info,
        TrainConfig(epochs=3, steps_per_epoch=10, batch_size=32, lr=1e-2),
        run,
        progress=False,
    ).fit(synth_samples)
    model, info = load_model(run)
    images = load_images(synth_samples.subset(range(96)), info.size)
    return run, model, info, images


def _keras(model, images):
    from plates.training import predict_probs

    return predict_probs(model, images)


@pytest.mark.parametrize("mode", ["fp32", "fp16", "dynamic", "int8"])
def test_tflite_bundles_agree_with_keras(trained, tmp_path, mode):
    run, model, info, images = trained
    report = export_tflite(model, info, tmp_path / mode, TFLiteOptions(mode), images[:64], images, 0.0, str(run))
    assert (tmp_path / mode / "labels.json").exists() and (tmp_path / mode / "export_report.json").exists()
    assert read_labels(tmp_path / mode).spec == info.spec
    p = Predictor(tmp_path / mode, threads=1)
    probs = p.probs(images)
    assert set(probs) == set(info.spec.names)
    ref = _keras(model, images)
    agreement = np.mean([(probs[n].argmax(1) == ref[n].argmax(1)).mean() for n in info.spec.names])
    if mode == "fp32":
        # exact: also proves outputs are matched by name, not by (scrambled) tensor order
        assert max(np.abs(probs[n] - ref[n]).max() for n in info.spec.names) < 1e-4
        # a tiny, barely trained model has near-ties: a top-2 gap under 1e-4 may flip one plate
        assert report["parity"]["plate_agreement"] >= 0.98
        assert report["xnnpack"] == {"partitions": 1, "outside": {}}  # the whole fp32 graph in one piece
    else:
        assert agreement > 0.8, agreement
    if mode == "int8":
        assert p._in["image"]["dtype"] == np.uint8  # raw pixels straight in
        assert report["tensor_types"]["input"] == "uint8"
        # the ops XNNPACK has no int8 kernel for (whitening scale, softmax) stay float: one piece
        assert report["xnnpack"] == {"partitions": 1, "outside": {"QUANTIZE": 1}}, report["xnnpack"]
        assert report["keep_float"] == ["MAXIMUM", "RSQRT", "SOFTMAX"]


@pytest.mark.parametrize("int8", [False, True])
def test_onnx_bundles_agree_and_embed_labels(trained, tmp_path, int8):
    import onnx

    run, model, info, images = trained
    out = tmp_path / ("int8" if int8 else "fp32")
    report = export_onnx(model, info, out, OnnxOptions(int8=int8), images[:64], images, 0.0, str(run))
    # 7-bit weights by default: full-range int8 weights saturate on x86 CPUs without VNNI
    assert (report["quantisation"] or "").startswith("QDQ, activations QUInt8 per-tensor, weights QInt8 7-bit") == int8
    proto = onnx.load(out / "model.onnx")
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["labels.json"]) == json.loads((out / "labels.json").read_text())
    assert [o.name for o in proto.graph.output] == list(info.spec.names)
    probs, ref = Predictor(out).probs(images), _keras(model, images)
    if not int8:
        assert max(np.abs(probs[n] - ref[n]).max() for n in info.spec.names) < 1e-4
    assert np.mean([(probs[n].argmax(1) == ref[n].argmax(1)).mean() for n in info.spec.names]) > 0.8


def test_parity_threshold_fails_loudly_and_keeps_the_old_bundle(trained, tmp_path):
    run, model, info, images = trained
    export_tflite(model, info, tmp_path / "b", TFLiteOptions("fp32"), None, images, None, str(run))
    before = (tmp_path / "b" / "model.tflite").read_bytes()
    report_before = (tmp_path / "b" / "export_report.json").read_text()
    with pytest.raises(ParityError, match=r"plate-level agreement.*b\.parity-failed\.json"):
        export_tflite(model, info, tmp_path / "b", TFLiteOptions("int8"), images[:32], images, 1.01, str(run))
    assert (tmp_path / "b" / "model.tflite").read_bytes() == before
    assert (tmp_path / "b" / "export_report.json").read_text() == report_before  # still the passing report
    failed = json.loads((tmp_path / "b.parity-failed.json").read_text())
    assert failed["kind"] == "int8" and failed["passed"] is False and failed["threshold"] == 1.01
    with pytest.raises(ParityError, match=r"new\.parity-failed\.json"):
        export_onnx(model, info, tmp_path / "new", OnnxOptions(), None, images, 1.01, str(run))
    assert not (tmp_path / "new").exists()  # no empty bundle folder left behind


def test_bad_inputs_get_clear_errors(trained, tmp_path):
    run, model, info, images = trained
    with pytest.raises(PlateError, match="representative set"):
        export_tflite(model, info, tmp_path / "x", TFLiteOptions("int8"), None, images, None)
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "model.tflite").write_bytes(b"\x00garbage" * 10)
    (tmp_path / "corrupt" / "labels.json").write_text((run / "labels.json").read_text())
    with pytest.raises(BundleError, match="not a valid TFLite model"):
        Predictor(tmp_path / "corrupt")
    from plates.keras import keras

    plain = keras.Sequential([keras.Input((16, 48, 3)), keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(ModelError, match="no output named 'char1'"):
        export_tflite(plain, info, tmp_path / "y", TFLiteOptions("fp32"), None, images, None)


def test_predictor_runs_without_tensorflow_and_cli_predicts(trained, tmp_path, synth_samples):
    run, model, info, images = trained
    export_tflite(model, info, tmp_path / "b", TFLiteOptions("fp32"), None, images, None)
    code = (
        "import sys, deploy.predictor as p; rc = p.main(sys.argv[1:]); "
        "assert 'tensorflow' not in sys.modules, 'predictor imported TensorFlow'; sys.exit(rc)"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "b"), synth_samples.paths[0]],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    path, text, conf, _ = out.stdout.strip().split("\t")
    assert path == synth_samples.paths[0] and 7 <= len(text) <= 8 and 0 < float(conf) <= 1
    args = [sys.executable, "-c", code, "--views", "3", str(tmp_path / "b"), synth_samples.paths[0]]
    out = subprocess.run(args, capture_output=True, text=True, cwd=root, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\t")[0] == synth_samples.paths[0]


def test_cli_predict_reads_past_a_bad_image_and_takes_the_bundle_first_or_by_option(
    trained, tmp_path, synth_samples, capsys, monkeypatch
):
    import deploy.shipped
    from deploy.cli import main as deploy_main
    from deploy.predictor import mean_over_views

    run, model, info, images = trained
    export_tflite(model, info, tmp_path / "b", TFLiteOptions("fp32"), None, images, None)
    bad = tmp_path / "torn.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    good = synth_samples.paths[:2]
    assert deploy_main(["predict", str(tmp_path / "b"), good[0], str(bad), good[1]]) == 1
    out, err = capsys.readouterr()
    assert [line.split("\t")[0] for line in out.strip().splitlines()] == good  # the image after the bad one ran
    assert f"{bad}: not a readable image" in err and "1 of 3 images could not be read" in err
    assert deploy_main(["predict", "--bundle", str(tmp_path / "b"), good[0]]) == 0
    assert capsys.readouterr().out.count("\t") == 3
    assert deploy_main(["predict", "--views", "3", "--json", str(tmp_path / "b"), good[0]]) == 0
    read = json.loads(capsys.readouterr().out)
    p = Predictor(tmp_path / "b")
    probs = mean_over_views(p.probs, p.load(good[0]), 3)  # the three crops' mean, not one crop's
    chars = [h["name"] for h in p.heads if h.get("kind", "char") == "char"]
    assert read["confidence"] == pytest.approx(min(float(probs[h][0].max()) for h in chars), rel=1e-5)
    monkeypatch.setattr(deploy.shipped, "DEFAULT_BUNDLE", tmp_path / "b")
    assert deploy_main(["predict", good[0]]) == 0  # no bundle given: the shipped default
    assert capsys.readouterr().out.count("\t") == 3
    monkeypatch.setattr(deploy.shipped, "DEFAULT_BUNDLE", tmp_path / "absent")
    assert deploy_main(["predict", good[0]]) == 2
    assert "no bundle given and no shipped model" in capsys.readouterr().err


def test_triton_repository(trained, tmp_path):
    from deploy.triton import write_triton_repo

    run, model, info, images = trained
    export_onnx(model, info, tmp_path / "onnx", OnnxOptions(), None, images, None)
    repo = write_triton_repo(tmp_path / "onnx", tmp_path / "repo", "plates")
    config = (repo / "config.pbtxt").read_text()
    assert 'backend: "onnxruntime"' in config and "dynamic_batching" in config and "FORMAT_NHWC" in config
    for head in info.spec.heads:
        assert f'name: "{head.name}"' in config
        assert (repo / f"{head.name}_labels.txt").read_text().split("\n")[: len(head.classes)] == list(head.classes)
    assert (repo / "1" / "model.onnx").exists()
    with pytest.raises(PlateError, match="no model.onnx"):
        write_triton_repo(tmp_path / "repo", tmp_path / "repo2")


def test_selective_quantisation_and_debug_report(trained, tmp_path):
    run, model, info, images = trained
    options = TFLiteOptions("int8", keep_float=("char1_logits", "MEAN"), debug_quant=True)
    report = export_tflite(model, info, tmp_path / "sel", options, images[:32], images, 0.0, str(run))
    csv = (tmp_path / "sel" / "quant_debug.csv").read_text()
    assert "tensor_name" in csv.splitlines()[0] and len(csv.splitlines()) > 5
    assert report["keep_float"] == ["MAXIMUM", "RSQRT", "SOFTMAX", "char1_logits", "MEAN"]  # + XNNPACK_FLOAT_OPS
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(tmp_path / "sel" / "model.tflite"))
    float_fc = [
        d
        for d in it._get_ops_details()
        if d["op_name"] == "FULLY_CONNECTED" and it.get_tensor_details()[d["outputs"][0]]["dtype"] == np.float32
    ]
    assert float_fc, "the kept-float head should run a float FULLY_CONNECTED"
    assert report["tensor_types"]["input"] == "uint8", "kept-float models still take raw uint8 pixels"
    with pytest.raises(PlateError, match="no tensor names contain"):
        export_tflite(
            model, info, tmp_path / "bad", TFLiteOptions("int8", keep_float=("nonexistent",)), images[:32], images, 0.0
        )


def test_integer_only_int8_cuts_xnnpack_and_steps_its_softmax(trained, tmp_path):
    """--integer-only leaves the whitening scale and softmax ops outside XNNPACK, and its softmax
    outputs multiples of 1/256 (many plates tie at the top confidence)."""
    run, model, info, images = trained
    options = TFLiteOptions("int8", integer_only=True)
    report = export_tflite(model, info, tmp_path / "int", options, images[:32], images, 0.0)
    assert report["keep_float"] == [] and report["xnnpack"]["partitions"] > 1
    assert {"SOFTMAX", "RSQRT"} <= set(report["xnnpack"]["outside"])
    probs = Predictor(tmp_path / "int").probs(images[:16])
    steps = np.concatenate([p.ravel() for p in probs.values()]) * 256
    assert np.abs(steps - np.round(steps)).max() < 1e-3


def test_float_ends_give_one_xnnpack_piece_and_fine_confidences_on_uint8_input(trained, tmp_path):
    """With float ends (the normalisation and softmax kept in float, int8 in between): one
    XNNPACK piece, fine confidences, still raw uint8 input."""
    from benchmarks.artefacts import find_artefacts
    from deploy.cli import main
    from deploy.export import float_ends
    from deploy.predictor import Predictor

    run, model, info, images = trained
    assert float_ends(model) == ("normalise", "SOFTMAX")
    report = export_tflite(
        model, info, tmp_path / "ends", TFLiteOptions("int8", keep_float=float_ends(model)), images[:32], images, 0.0
    )
    assert report["xnnpack"] == {"partitions": 1, "outside": {}}
    assert report["tensor_types"] == {"input": "uint8", "outputs": ["float32"]}
    probs = Predictor(tmp_path / "ends").probs(images[:16])
    steps = np.concatenate([p.ravel() for p in probs.values()]) * 256
    assert np.abs(steps - np.round(steps)).max() > 1e-3, "softmax outputs should not sit on the int8 grid"
    assert [a.precision for a in find_artefacts([tmp_path / "ends"])] == ["int8+float"]
    assert main(["tflite", str(run), "--out", str(tmp_path / "fp"), "--float-ends"]) == 2  # int8 only
    assert main(["tflite", str(run), "--out", str(tmp_path / "fp"), "--integer-only"]) == 2
    assert main(["tflite", str(run), "--out", str(tmp_path / "fp"), "--no-stem-rewrite"]) == 2


def test_int8_whitening_keeps_the_contrast_of_low_contrast_plates():
    """TFLite's int8 MEAN over a whole image in one op is biased (the variance came out ~1000 too
    high), which crushed low-contrast inputs; the per-axis means in PerImageWhitening are exact."""
    from ai_edge_litert.interpreter import Interpreter

    from plates.keras import keras, tf
    from plates.layers import PerImageWhitening

    rng = np.random.default_rng(0)
    pattern = rng.normal(size=(40, 32, 96, 3))
    contrast = np.linspace(15, 80, 40)[:, None, None, None]  # pixel std of the real crops: 20-84
    images = np.clip(128 + contrast * pattern, 0, 255).round().astype(np.float32)
    inp = keras.Input((32, 96, 3))
    model = keras.Model(inp, PerImageWhitening()(inp))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([im[None]] for im in images[::2])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    (i,), (o,) = interpreter.get_input_details(), interpreter.get_output_details()
    ratios = []
    for im in images[1::2]:
        interpreter.set_tensor(i["index"], im[None].astype(np.uint8))
        interpreter.invoke()
        ratios.append(np.std(interpreter.get_tensor(o["index"])) / np.std(model(im[None]).numpy()))
    assert 0.95 < min(ratios) and max(ratios) < 1.05, [round(float(r), 3) for r in ratios]


def test_labels_json_that_does_not_describe_the_model_is_refused(trained, tmp_path):
    import shutil

    run, model, info, images = trained
    export_tflite(model, info, tmp_path / "b", TFLiteOptions("fp32"), None, images, None)
    good = json.loads((tmp_path / "b" / "labels.json").read_text())
    Predictor(tmp_path / "b")  # the exported labels.json passes

    def broken(name, edit):
        folder = tmp_path / name
        shutil.copytree(tmp_path / "b", folder)
        labels = json.loads(json.dumps(good))
        edit(labels)
        (folder / "labels.json").write_text(json.dumps(labels))
        return folder

    dropped = broken("dropped", lambda d: d["heads"].pop())  # 9 of 10 heads
    with pytest.raises(BundleError, match=r"does not list model output\(s\) \['layout'\]"):
        Predictor(dropped)
    cut = broken("cut", lambda d: d["heads"][0]["classes"].pop())
    with pytest.raises(BundleError, match="head 'char1' lists 30 classes, the model outputs 31"):
        Predictor(cut)
    renamed = broken("renamed", lambda d: d["heads"][1].update(name="letter"))
    with pytest.raises(BundleError, match=r"lists head\(s\) \['letter'\]"):
        Predictor(renamed)
    resized = broken("resized", lambda d: d["input"].update(height=24))
    with pytest.raises(BundleError, match="input 24x48, the model takes 16x48"):
        Predictor(resized)
    with pytest.raises(PlateError, match=r"already holds model\.tflite"):
        export_onnx(model, info, tmp_path / "b", OnnxOptions(), None, images, None)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(p.name for p in dropped.iterdir())


@pytest.mark.slow
def test_bare_install_reads_a_tflite_bundle_without_tensorflow(trained, tmp_path, synth_samples):
    """`pip install .` without extras is the device runtime: `deploy predict` must work from it."""
    import venv

    run, model, info, images = trained
    export_tflite(model, info, tmp_path / "b", TFLiteOptions("int8"), images[:64], images, 0.0)
    root = Path(__file__).resolve().parents[1]
    env_dir = tmp_path / "bare"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", str(root)], check=True, timeout=900)
    listed = subprocess.run([str(bin_dir / "pip"), "list"], capture_output=True, text=True, check=True).stdout
    assert "tensorflow" not in listed.lower() and "onnxruntime" not in listed.lower()
    out = subprocess.run(
        [str(bin_dir / "deploy"), "predict", str(tmp_path / "b"), *synth_samples.paths[:3]],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert [line.split("\t")[0] for line in out.stdout.strip().splitlines()] == synth_samples.paths[:3]
    # the shipped int8 student, from a checkout's models/ (a plain install does not copy them)
    card = json.loads((root / "models" / "student" / "card.json").read_text(encoding="utf-8"))
    samples = sorted((root / "models" / "samples").glob("*.jpg"))
    out = subprocess.run(
        [str(bin_dir / "deploy"), "predict", *map(str, samples)], capture_output=True, text=True, timeout=300, cwd=root
    )
    assert out.returncode == 0, out.stderr[-2000:]
    read = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in out.stdout.strip().splitlines()}
    assert read == card["artefacts"]["tflite-int8"]["samples"]["reads"]


def test_one_runner_interface_for_keras_litert_and_onnx(trained, tmp_path):
    """create_runner picks the runtime from the folder; every runner returns the same heads
    for the same images, and its bound call runs the model alone (what latency times)."""
    from deploy.runner import KerasRunner, batched_probs, create_runner

    run, model, info, images = trained
    export_tflite(model, info, tmp_path / "t", TFLiteOptions("fp32"), None, images, 0.0, str(run))
    export_onnx(model, info, tmp_path / "o", OnnxOptions(), None, images, 0.0, str(run))
    runners = {
        name: create_runner(folder, threads=1)
        for name, folder in [("k", run), ("t", tmp_path / "t"), ("o", tmp_path / "o")]
    }
    assert isinstance(runners["k"], KerasRunner) and [r.runtime for r in runners.values()] == [
        "keras",
        "litert",
        "onnxruntime",
    ]
    ref = _keras(model, images)
    for name, runner in runners.items():
        probs = batched_probs(runner, images, 40)  # uneven batches concatenate back in order
        assert set(probs) == set(info.spec.names), name
        assert max(np.abs(probs[n] - ref[n]).max() for n in info.spec.names) < 1e-4, name
        runner.bind(images[:2])()


def test_crop_views_cut_and_border_every_side_and_keep_the_size():
    from deploy.predictor import VIEWS, crop_views, mean_over_views

    image = np.full((20, 40, 3), 100, np.uint8)
    image[:, :2] = 0  # a dark left strip, 5% of the width
    image[:1] = 250  # a bright top row, 5% of the height
    given, tight, loose = crop_views(image[None], 3)
    assert np.array_equal(given, image)
    assert tight.shape == loose.shape == image.shape
    assert tight[:, :1].min() > 0 and tight[:1].max() < 250  # cut off: neither edge survives the tighter view
    assert loose[:, 0].min() == 0 and loose[0].max() == 250  # edges repeated outwards in the looser view
    with pytest.raises(ValueError, match="views"):
        crop_views(image[None], 2)

    def brightness(batch):  # a stand-in model: one "probability" per crop, its mean pixel
        return {"h": np.asarray(batch, np.float32).mean(axis=(1, 2, 3))[:, None]}

    two = np.stack([image, 255 - image])
    averaged = mean_over_views(brightness, two, 3)["h"][:, 0]
    for i in range(2):  # image by image: each image's mean is over its own three crops
        assert averaged[i] == pytest.approx(brightness(crop_views(two[i : i + 1], 3))["h"].mean(), rel=1e-6)
    assert np.array_equal(mean_over_views(brightness, two, 1)["h"], brightness(two)["h"])
    assert len(VIEWS[3]) == 3 and VIEWS[1] == ((0.0, 0.0, 0.0, 0.0),)

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from compress.distill import Distiller, kd_loss
from plates.keras import keras, tf
from student.mobilenetv3 import create_student


@pytest.mark.parametrize("arch,size", [("small", (48, 144)), ("small", (24, 94)), ("large", (32, 96))])
def test_student_builds_at_plate_shaped_sizes(spec, arch, size):
    model, info = create_student(spec, size, arch, alpha=0.5)
    assert model.input_shape == (None, *size, 3)
    assert model.get_layer("last_act").output_shape[1] <= 2  # height collapsed, width kept
    assert model.get_layer("last_act").output_shape[2] >= size[1] // 16
    outs = model(np.zeros((2, *size, 3), np.float32))
    assert [o.shape[-1] for o in outs] == [len(h.classes) for h in spec.heads]


def test_unequal_depthwise_strides_run_in_a_graph():
    """Plate stride plans use (2, 1) depthwise strides; the plain CPU kernel refuses them (plates.keras: oneDNN)."""
    layer = keras.layers.DepthwiseConv2D(3, strides=(2, 1), padding="same")
    out = tf.function(layer)(np.ones((1, 8, 8, 4), np.float32))
    assert out.shape == (1, 4, 8, 4)


def test_stem_stride_one_doubles_the_feature_map(spec):
    stock, _ = create_student(spec, (32, 96), "small", alpha=0.35)
    fine, _ = create_student(spec, (32, 96), "small", alpha=0.35, stem_stride=1)
    wide, _ = create_student(spec, (32, 96), "small", alpha=0.35, stem_stride=(2, 1))
    a, b, c = (m.get_layer("last_act").output_shape for m in (stock, fine, wide))
    assert (b[1], b[2]) == (2 * a[1], 2 * a[2])
    assert (c[1], c[2]) == (a[1], 2 * a[2])  # 2x1: the columns only


def test_kd_loss_matches_hand_computation():
    t = tf.constant([[0.7, 0.2, 0.1]])
    s = tf.constant([[0.5, 0.3, 0.2]])
    T = 2.0
    soft = lambda p: np.exp(np.log(p) / T) / np.exp(np.log(p) / T).sum()
    pt, ps = soft(np.array([0.7, 0.2, 0.1])), soft(np.array([0.5, 0.3, 0.2]))
    expected = T**2 * float((pt * np.log(pt / ps)).sum())
    assert float(kd_loss({"h": t}, {"h": s}, T)) == pytest.approx(expected, rel=1e-5)
    assert float(kd_loss({"h": t}, {"h": t}, T)) == pytest.approx(0.0, abs=1e-6)
    assert math.isfinite(float(kd_loss({"h": tf.constant([[1.0, 0.0, 0.0]])}, {"h": s}, T)))
    two = {"h": tf.concat([t, t], 0)}, {"h": tf.concat([s, t], 0)}
    assert float(kd_loss(*two, T, keep={"h": tf.constant([0.0, 1.0])})) == pytest.approx(0.0, abs=1e-6)
    assert float(kd_loss(*two, T, keep={"h": tf.constant([1.0, 0.0])})) == pytest.approx(expected / 2, rel=1e-5)


def test_a_distillation_step_lowers_kd_loss(spec, synth_samples):
    from plates.optim import RAdam
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    teacher, _ = tiny_model(spec, width=8)
    student, _ = tiny_model(spec, width=4)
    d = Distiller(student, teacher, temperature=4.0, weight=1.0, hint=("stage1_block1_out", "stage1_block1_out"))
    images = tf.constant(load_images(synth_samples.subset(range(32)), (16, 48)), tf.float32)
    labels = tf.constant(synth_samples.labels[:32])
    opt = RAdam(1e-2)
    variables = student.trainable_variables + d.trainable_variables
    losses = []
    for _ in range(30):
        with tf.GradientTape() as tape:
            outs = dict(zip(spec.names, student(images, training=True), strict=True))
            loss = d(images, labels, outs)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        losses.append(float(loss))
    assert losses[-1] < 0.7 * losses[0], losses[::5]


def test_hint_reuses_the_teacher_pass_for_kd(spec, synth_samples):
    """With a hint, the KD term comes from the same teacher pass as the hint features."""
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    teacher, _ = tiny_model(spec, width=8)
    student, _ = tiny_model(spec, width=4)
    images = tf.constant(load_images(synth_samples.subset(range(8)), (16, 48)), tf.float32)
    labels = tf.constant(synth_samples.labels[:8])
    outs = dict(zip(spec.names, student(images, training=False), strict=True))
    plain = Distiller(student, teacher, temperature=2.0, weight=1.0)
    hinted = Distiller(student, teacher, 2.0, 1.0, hint=("stage1_block1_out", "stage1_block1_out"), hint_weight=0.0)
    np.testing.assert_allclose(float(hinted(images, labels, outs)), float(plain(images, labels, outs)), rtol=1e-5)


def test_qat_quantize_model_and_full_int8_conversion(spec):
    from compress.qat import quantize
    from deploy.signature import serving_function
    from tests.conftest import short_student

    model, info = short_student(spec, (24, 94))  # the blocks of the whole student, fewer of them
    q = quantize(model)  # stock MobileNetV3 fails here (TFOpLambda, Rescaling)
    assert any("quant" in layer.name for layer in q.layers)
    conv = tf.lite.TFLiteConverter.from_concrete_functions([serving_function(q, info).get_concrete_function()], q)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rep = np.random.default_rng(0).integers(0, 255, (8, 24, 94, 3)).astype(np.float32)
    conv.representative_dataset = lambda: ([x[None]] for x in rep)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.uint8
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=conv.convert())
    ops = {d["op_name"] for d in it._get_ops_details()}
    assert "HARD_SWISH" in ops and "CONV_2D" in ops
    assert it.get_signature_runner().get_input_details()["image"]["dtype"] == np.uint8


def test_cached_teacher_outputs_match_online_distillation(spec, synth_samples, tmp_path):
    from compress.distill import cache_teacher
    from plates.pipeline import load_images
    from tests.conftest import tiny_model

    teacher, info = tiny_model(spec, width=8)
    student, _ = tiny_model(spec, width=4)
    subset = synth_samples.subset(range(16))
    indexed, table = cache_teacher(teacher, subset, info, tmp_path)
    assert indexed.labels.shape[1] == len(spec.heads) + 1 and (tmp_path / "teacher_cache.npy").exists()
    images = tf.constant(load_images(subset, info.size), tf.float32)
    outs = dict(zip(spec.names, student(images), strict=True))
    online = Distiller(student, teacher, temperature=2.0, weight=1.0)
    cached = Distiller(student, None, temperature=2.0, weight=1.0, cached=table, heads=list(spec.names))
    a = float(online(images, tf.constant(indexed.labels), outs))
    b = float(cached(images, tf.constant(indexed.labels), outs))
    assert a == pytest.approx(b, rel=1e-4)
    # a province the crop cuts off (-2) is taught by its uniform label only, not by the teacher's guess
    unsure = indexed.labels.copy()
    unsure[:, 0] = -2
    c = float(cached(images, tf.constant(unsure), outs))
    without = {h: outs[h] for h in spec.names[1:]}
    t_rows = dict(
        zip(spec.names, tf.split(tf.constant(table), [o.shape[-1] for o in student.outputs], -1), strict=True)
    )
    expected = float(kd_loss({h: t_rows[h] for h in spec.names[1:]}, without, 2.0))
    assert c == pytest.approx(expected, rel=1e-4) and c < b


def test_distill_cli_rejects_cache_with_augmentation(tmp_path, spec, synth_dir, capsys):
    from compress.cli import main
    from plates.modelio import save_model
    from tests.conftest import tiny_model

    save_model(tmp_path / "teacher", *tiny_model(spec))
    rc = main(
        [
            "distill",
            "--teacher",
            str(tmp_path / "teacher"),
            "--train",
            str(synth_dir),
            "--run",
            str(tmp_path / "r"),
            "--input-size",
            "16x48",
            "--cache-teacher",
        ]
    )
    assert rc == 2 and "--cache-teacher needs --no-augment" in capsys.readouterr().err


def test_xnnpack_coverage_finds_the_int8_hard_swish(spec, tmp_path):
    """int8 HARD_SWISH runs outside XNNPACK and cuts the graph; the minimalistic student
    (ReLU, no SE) stays in one or two pieces."""
    from deploy.export import TFLiteOptions, convert_tflite
    from deploy.xnnpack import xnnpack_coverage
    from tests.conftest import short_student

    rep = np.random.default_rng(0).uniform(0, 255, (4, 24, 72, 3)).astype(np.float32)
    found = {}
    for minimalistic in (False, True):
        model, info = short_student(spec, (24, 72), minimalistic=minimalistic)
        path = tmp_path / f"{minimalistic}.tflite"
        path.write_bytes(convert_tflite(model, info, TFLiteOptions("int8"), rep))
        found[minimalistic] = xnnpack_coverage(path)
    assert found[False]["outside"].get("HARD_SWISH", 0) > 0 and found[False]["partitions"] > 2, found
    assert "HARD_SWISH" not in found[True]["outside"] and found[True]["partitions"] <= 2, found


def test_qat_ranges_start_from_the_float_activations(spec, synth_samples):
    """tfmot starts activation ranges at [-6, 6]; calibration sets them from the data, and the
    fake-quantised model then tracks the float one more closely."""
    from compress.qat import MIN_SPAN, calibrate_ranges, quantize
    from plates.pipeline import load_images
    from tests.conftest import short_student

    keras.utils.set_random_seed(0)
    model, _ = short_student(spec, (24, 72))
    images = load_images(synth_samples.subset(range(64)), (24, 72)).astype(np.float32)
    q = quantize(model)
    top = next(w for w in q.get_layer("quant_stem_act").weights if w.name.endswith("output_max:0"))
    assert float(top.numpy()) == 6.0
    stem = keras.Model(model.input, model.get_layer("stem_act").output)
    ref = stem(images, training=False).numpy()
    fake = keras.Model(q.input, q.get_layer("quant_stem_act").output)

    def error():
        return float(np.abs(fake(images, training=False).numpy() - ref).mean())

    before = error()
    assert calibrate_ranges(q, model, images, batch_size=32) > 10
    batches = [stem(images[i : i + 32]).numpy() for i in (0, 32)]
    low = np.mean([min(b.min(), 0.0) for b in batches])
    expected = max(np.mean([max(b.max(), 0.0) for b in batches]), low + MIN_SPAN)
    np.testing.assert_allclose(float(top.numpy()), expected, rtol=1e-5)
    assert error() < before, (error(), before)


def test_a_tensorflow_without_unequal_depthwise_strides_gets_a_clear_error():
    """With oneDNN off, TF's CPU kernel refuses (2, 1) depthwise strides: the student must say so at build time."""
    code = (
        "from plates.errors import ModelError\n"
        "from plates.spec import default_spec\n"
        "from student.mobilenetv3 import create_student\n"
        "try:\n"
        "    create_student(default_spec(), (32, 96), 'small', alpha=0.35)\n"
        "except ModelError as e:\n"
        "    print('ModelError:', e)\n"
    )
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "ModelError: this TensorFlow cannot run depthwise convolutions with unequal strides" in out.stdout, (
        out.stderr[-2000:]
    )
    assert "TF_ENABLE_ONEDNN_OPTS unset or set it to 1 (it is '0')" in out.stdout


def test_cached_teacher_outputs_skip_a_torn_image_and_stay_row_for_row(spec, synth_samples, tmp_path):
    """With skip_bad the unreadable file leaves the samples and the table alike; a repeated
    image gets the same teacher row each time. Without skip_bad the file is named."""
    from compress.distill import cache_teacher
    from plates.errors import DataError
    from plates.pipeline import load_images
    from plates.readers import Samples
    from plates.training import predict_probs
    from tests.conftest import tiny_model

    teacher, info = tiny_model(spec, width=8)
    torn = tmp_path / "torn.jpg"
    torn.write_bytes(b"\xff\xd8 not a jpeg")
    good = synth_samples.subset(range(6))
    paths = [*good.paths[:3], str(torn), *good.paths[3:], good.paths[0]]
    labels = np.concatenate([good.labels[:3], good.labels[:1], good.labels[3:], good.labels[:1]])
    samples = Samples(paths, labels)
    with pytest.raises(DataError, match="torn.jpg"):
        cache_teacher(teacher, samples, info, tmp_path / "strict")
    indexed, table = cache_teacher(teacher, samples, info, tmp_path / "skip", skip_bad=True)
    assert str(torn) not in indexed.paths and len(indexed) == len(table) == 7
    assert np.array_equal(indexed.labels[:, -1], np.arange(7))
    probs = predict_probs(teacher, load_images(indexed, info.size))
    expected = np.concatenate([probs[h.name] for h in spec.heads], axis=1)
    np.testing.assert_allclose(table, expected, atol=1e-5)
    assert np.array_equal(table[0], table[-1])  # the repeated first image

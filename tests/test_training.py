import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from plates.keras import keras
from plates.optim import RAdam, WarmupSchedule
from plates.regularizers import gammas
from plates.runinfo import cpu_model, vector_level
from plates.training import TrainConfig, Trainer
from tests.conftest import TINY_SIZE, tiny_model


def _trainer(spec, run, **cfg):
    model, info = tiny_model(spec)
    config = TrainConfig(
        **{"epochs": 1, "batch_size": 16, "steps_per_epoch": 4, "lr": 5e-3, "warmup_epochs": 0.5, **cfg}
    )
    return Trainer(lambda: tiny_model(spec)[0], info, config, run, progress=False)


def test_training_lowers_loss_and_writes_a_run_folder(spec, synth_samples, tmp_path):
    t = _trainer(spec, tmp_path / "run", epochs=3, steps_per_epoch=6, loss="ghm")
    result = t.fit(synth_samples, synth_samples.subset(range(32)))
    losses = [h["train_loss"] for h in result["history"]]
    assert losses[-1] < losses[0]
    assert (tmp_path / "run/model.keras").exists() and (tmp_path / "run/labels.json").exists()
    assert list((tmp_path / "run/tb").iterdir())
    from plates.modelio import load_model

    model, info = load_model(tmp_path / "run")
    assert info.spec == spec and info.size == TINY_SIZE and list(model.output_names) == list(spec.names)


def test_gamma_l1_shrinks_batchnorm_gammas(spec, synth_samples, tmp_path):
    def mean_gamma(l1):
        # RAdam's rectifier keeps early steps small, so give L1 a few dozen steps to act
        t = _trainer(
            spec,
            tmp_path / f"l1_{l1}",
            epochs=2,
            steps_per_epoch=20,
            gamma_l1=l1,
            kernel_l2=0.0,
            lr=5e-2,
            warmup_epochs=0.0,
        )
        t.fit(synth_samples)
        return float(np.mean(np.concatenate([np.abs(g.numpy()) for g in gammas(t.model)])))

    plain, sparse = mean_gamma(0.0), mean_gamma(0.5)
    assert sparse < plain - 0.05, (plain, sparse)


def test_proximal_gamma_l1_reaches_exact_zeros(spec, synth_samples, tmp_path):
    from plates.regularizers import Decay, penalty

    # 8 cosine-decayed steps from lr 5e-3 at strength 60 soft-threshold by ~1.2 in all: gammas (init 1) hit 0
    # unless the task gradient holds it up; the loss-term version never gives exact zeros
    t = _trainer(spec, tmp_path / "prox", steps_per_epoch=8, gamma_l1=60.0, gamma_l1_prox=True, warmup_epochs=0.0)
    t.fit(synth_samples)
    values = np.concatenate([g.numpy() for g in gammas(t.model)])
    assert (values == 0).mean() > 0.5
    model = tiny_model(spec)[0]
    assert float(penalty(model, Decay(0.0, 0.0, 1.0, (), True))) == 0.0  # not also a loss term
    assert float(penalty(model, Decay(0.0, 0.0, 1.0))) > 0.0


def test_resume_continues_from_the_last_checkpoint(spec, synth_samples, tmp_path):
    run = tmp_path / "resume"
    _trainer(spec, run, epochs=1).fit(synth_samples)
    t2 = _trainer(spec, run, epochs=2)
    result = t2.fit(synth_samples)
    assert [h["epoch"] for h in result["history"]] == [1, 2]  # epoch 1 was not redone
    assert int(t2.optimizer.iterations.numpy()) == 8
    t2.write_run_files({}, {})  # same config: resuming is allowed and records the resume
    t2.write_run_files({}, {})
    assert len(json.loads((run / "manifest.json").read_text())["resumes"]) == 1
    before = (run / "config.json").read_text()
    t3 = _trainer(spec, run, epochs=2, batch_size=8)
    with pytest.raises(Exception, match="different batch_size"):
        t3.write_run_files({}, {})  # the CLI order: run files are written before fit
    assert (run / "config.json").read_text() == before  # nothing overwritten
    with pytest.raises(Exception, match="different batch_size"):
        t3.fit(synth_samples)
    model = {"model": {"backbone": "tiny", "width": 4}, "input_size": [16, 48]}
    t2.write_run_files(model, {})
    before = (run / "config.json").read_text()
    wider = {"model": {"backbone": "tiny", "width": 8}, "input_size": [16, 64]}
    with pytest.raises(Exception, match=r"different model\.width, input_size"):
        t2.write_run_files(wider, {})  # the model flags differ: refused before anything is rewritten
    assert (run / "config.json").read_text() == before


def test_init_starts_a_new_run_from_another_runs_weights(spec, synth_samples, tmp_path):
    from plates.errors import PlateError
    from plates.modelio import load_model

    _trainer(spec, tmp_path / "first").fit(synth_samples)
    first = load_model(tmp_path / "first")[0].get_weights()
    t = _trainer(spec, tmp_path / "second", epochs=0, ema=0.9, init=str(tmp_path / "first"))
    t.fit(synth_samples)  # zero epochs: the saved model is the initial weights, EMA restarted from them
    assert all(np.array_equal(a, b) for a, b in zip(first, t.model.get_weights(), strict=True))
    with t.average.applied():
        assert all(np.array_equal(a, b) for a, b in zip(first, t.model.get_weights(), strict=True))
    other, info = tiny_model(spec.__class__(spec.char_heads))  # no attribute heads
    config = TrainConfig(epochs=1, batch_size=16, steps_per_epoch=1, init=str(tmp_path / "first"))
    with pytest.raises(PlateError, match="other heads"):
        Trainer(lambda: other, info, config, tmp_path / "third", progress=False).fit(synth_samples)


def test_init_partial_takes_the_layers_that_fit_a_model_at_another_input_size(spec, synth_samples, tmp_path):
    """A wider input: the convolutions come from the first run, the heads' first layer (it
    reads the flattened, now wider feature map) starts afresh; plain --init refuses the shapes."""
    from plates.errors import PlateError
    from plates.modelio import load_model

    _trainer(spec, tmp_path / "first").fit(synth_samples)
    first = {layer.name: layer.get_weights() for layer in load_model(tmp_path / "first")[0].layers}
    wide = (TINY_SIZE[0], TINY_SIZE[1] + 16)
    info = tiny_model(spec, wide)[1]

    def trainer(run, partial):
        config = TrainConfig(
            epochs=0, batch_size=16, steps_per_epoch=1, init=str(tmp_path / "first"), init_partial=partial
        )
        return Trainer(lambda: tiny_model(spec, wide)[0], info, config, tmp_path / run, progress=False)

    with pytest.raises(PlateError, match="weight shapes differ"):
        trainer("plain", False).fit(synth_samples)
    t = trainer("partial", True)
    t.fit(synth_samples)
    same = {
        layer.name: all(np.array_equal(a, b) for a, b in zip(first[layer.name], layer.get_weights(), strict=True))
        for layer in t.model.layers
        if layer.get_weights() and [w.shape for w in first[layer.name]] == [w.shape for w in layer.get_weights()]
    }
    assert same and all(same.values())  # every layer that fits was taken as it was
    fresh = [layer.name for layer in t.model.layers if layer.get_weights() and layer.name not in same]
    assert fresh and all("conv" not in name for name in fresh)  # only head layers start afresh


def test_weight_average_matches_hand_computed_values_and_swaps_back():
    from plates.ema import WeightAverage

    model = keras.Sequential([keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros", input_shape=(1,))])
    kernel = model.weights[0]
    avg = WeightAverage(model, decay=0.5)
    kernel.assign([[1.0]])
    avg.update()  # decay ramps: min(0.5, 1/10) = 0.1 -> 0.1 * 0 + 0.9 * 1
    kernel.assign([[3.0]])
    avg.update()  # min(0.5, 2/11) = 2/11 -> 2/11 * 0.9 + 9/11 * 3
    expected = 2 / 11 * 0.9 + 9 / 11 * 3.0
    with avg.applied():
        assert float(kernel.numpy()[0, 0]) == pytest.approx(expected, rel=1e-6)
    assert float(kernel.numpy()[0, 0]) == 3.0  # raw weights are back
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(model, decay=1.0)


def test_weight_average_is_what_gets_saved_and_resumed(spec, synth_samples, tmp_path):
    from plates.modelio import load_model

    run = tmp_path / "ema"
    t = _trainer(spec, run, ema=0.9)
    t.fit(synth_samples, synth_samples.subset(range(32)))
    saved = load_model(run)[0]
    with t.average.applied():
        averaged = [w.numpy() for w in t.model.weights]
    raw = [w.numpy() for w in t.model.weights]
    assert all(np.allclose(a, b) for a, b in zip(averaged, [w.numpy() for w in saved.weights], strict=True))
    assert not all(np.allclose(a, b) for a, b in zip(averaged, raw, strict=True))
    t2 = _trainer(spec, run, ema=0.9, epochs=2)
    t2.fit(synth_samples)
    assert int(t2.average.updates.numpy()) == 8  # the average's state came back from the checkpoint
    t2.write_run_files({}, {})
    with pytest.raises(Exception, match="different ema"):
        _trainer(spec, run, ema=0.0, epochs=2).fit(synth_samples)


@pytest.mark.slow  # a TensorFlow of its own in a subprocess
def test_distributed_step_on_two_logical_cpus(synth_dir, tmp_path):
    """MirroredStrategy over 2 logical CPU devices must run, proximal gamma step included (own
    process: devices are fixed at TF start)."""
    code = textwrap.dedent(f"""
        import json
        from plates.distribute import create_strategy
        strategy = create_strategy("mirrored", 2)
        from plates.readers import read_any
        from plates.spec import default_spec
        from tests.conftest import tiny_model
        from plates.training import TrainConfig, Trainer
        spec = default_spec()
        samples = read_any({str(synth_dir)!r}, spec)
        t = Trainer(lambda: tiny_model(spec)[0], tiny_model(spec)[1],
                    TrainConfig(epochs=2, batch_size=16, steps_per_epoch=3, loss="ghm", gamma_l1=500.0,
                                gamma_l1_prox=True, ema=0.9), {str(tmp_path / "dist")!r},
                    strategy, progress=False)
        r = t.fit(samples)
        from plates.regularizers import gammas
        zeros = float(sum(int((g.numpy() == 0).sum()) for g in gammas(t.model)))
        zeros /= sum(g.shape[0] for g in gammas(t.model))
        assert int(t.average.updates.numpy()) == 6
        print(json.dumps({{"replicas": strategy.num_replicas_in_sync, "zeros": zeros,
                          "losses": [h["train_loss"] for h in r["history"]]}}))
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and all(np.isfinite(result["losses"]))
    assert result["zeros"] > 0.5  # the proximal gamma step runs in cross-replica context


def _free_ports(n: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow  # two training processes and a rerun
def test_two_workers_train_alike_only_the_chief_writes_and_a_rerun_resumes(synth_dir, tmp_path):
    """MultiWorkerMirroredStrategy with two worker processes on this host (TF_CONFIG, two local
    ports): both end with the same weights, only worker 0 (the chief) leaves files in the run
    folder, and the same command run again resumes from the chief's checkpoint. (The default
    suite runs it: two TensorFlow processes, well under a minute on 2 cores.)"""
    import os
    from pathlib import Path

    run = tmp_path / "mw"
    code = textwrap.dedent(f"""
        import hashlib, json, sys
        from plates.distribute import create_strategy
        strategy = create_strategy("multiworker")
        from plates.readers import read_any
        from plates.spec import default_spec
        from plates.training import TrainConfig, Trainer
        from tests.conftest import tiny_model
        spec = default_spec()
        samples = read_any({str(synth_dir)!r}, spec)
        cfg = TrainConfig(epochs=int(sys.argv[1]), batch_size=16, steps_per_epoch=3, augment=False)
        t = Trainer(lambda: tiny_model(spec)[0], tiny_model(spec)[1], cfg, {str(run)!r}, strategy, progress=False)
        t.write_run_files({{}}, {{}})
        r = t.fit(samples)
        digest = hashlib.sha256(b"".join(w.numpy().tobytes() for w in t.model.weights)).hexdigest()
        print(json.dumps({{"chief": t.is_chief, "weights": digest, "epochs": [h["epoch"] for h in r["history"]],
                          "steps": int(t.optimizer.iterations.numpy())}}))
    """)
    root = Path(__file__).resolve().parents[1]

    def train(epochs: int) -> list[dict]:
        ports = _free_ports(2)
        procs = []
        for index in range(2):
            tf_config = {
                "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                "task": {"type": "worker", "index": index},
            }
            env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "CUDA_VISIBLE_DEVICES": ""}
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", code, str(epochs)],
                    cwd=root,
                    env=env,
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        outs = [p.communicate(timeout=400) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err[-3000:]
        return [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]

    first = train(1)
    assert [r["chief"] for r in first] == [True, False]
    assert first[0]["weights"] == first[1]["weights"] and first[0]["steps"] == 3
    written = sorted(p.relative_to(run).as_posix() for p in run.iterdir())
    assert not any(name.startswith(".worker") for name in written)  # the other worker cleaned up
    assert {"config.json", "manifest.json", "history.json", "model.keras", "checkpoints"} <= set(written)
    again = train(1)  # the same command again: both workers restore the chief's last checkpoint, nothing to redo
    assert [r["epochs"] for r in again] == [[1], [1]] and [r["steps"] for r in again] == [3, 3]
    assert again[0]["weights"] == again[1]["weights"] == first[0]["weights"]
    assert len(json.loads((run / "manifest.json").read_text())["resumes"]) == 1  # written once, by the chief


# A shell that starts a job in the background (`nohup pytest ... &`) hands it SIGINT ignored, and
# Python installs its KeyboardInterrupt handler only where SIGINT is at its default: put the handler
# back, or the SIGINT case below would train on to the end wherever the suite runs in the background.
_RESUME_CODE = """
import hashlib, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from plates.readers import read_any
from plates.spec import default_spec
from plates.training import TrainConfig, Trainer
from tests.conftest import tiny_model
spec = default_spec()
cfg = TrainConfig(epochs=2, batch_size=8, steps_per_epoch=5, augment=False, checkpoint_every=1, lr=5e-3,
                  warmup_epochs=0.2, loss="ghm")
t = Trainer(lambda: tiny_model(spec)[0], tiny_model(spec)[1], cfg, sys.argv[1], progress=False)
t.fit(read_any(sys.argv[2], spec))
print(hashlib.sha256(b"".join(w.numpy().tobytes() for w in t.model.weights)).hexdigest())
"""


def _train_to_hash(folder, synth_dir) -> str:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _RESUME_CODE, str(folder), str(synth_dir)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def uninterrupted_hash(synth_dir, tmp_path_factory):
    return _train_to_hash(tmp_path_factory.mktemp("whole"), synth_dir)


# checkpoints: steps 1-4 are 1-4, the end of epoch 1 is 5, steps 6-9 of epoch 2 are 6-9, the end is 10
@pytest.mark.parametrize(
    ("sig", "at"),
    [
        ("SIGKILL", 4),
        pytest.param("SIGINT", 5, marks=pytest.mark.slow),  # each a training subprocess: one in the default suite
        pytest.param("SIGKILL", 7, marks=pytest.mark.slow),
    ],
)
def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_weights(sig, at, synth_dir, tmp_path, uninterrupted_hash):
    """Killed after a checkpoint (the last step of an epoch, the epoch end, mid-epoch), then
    rerun: the final weights equal an uninterrupted run's, bit for bit, because the checkpoint
    holds the data iterator (order and position) with the model, optimiser and loss state.
    (With augmentation or dropout on, the resumed run draws other random numbers than the
    uninterrupted one would have: same data, not the same bits; this test turns both off.)"""
    import os
    import signal
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", _RESUME_CODE, str(killed), str(synth_dir)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while not (killed / "checkpoints" / f"ckpt-{at}.index").exists() and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, getattr(signal, sig))
    proc.wait(timeout=60)
    assert proc.returncode != 0, f"the run finished before checkpoint {at} could be interrupted"
    assert _train_to_hash(killed, synth_dir) == uninterrupted_hash, f"resumed after {sig} at checkpoint {at}"


def test_radam_minimises_a_quadratic_and_warmup_schedule():
    var = keras.backend.variable(np.array([3.0, -2.0], np.float32))
    import tensorflow as tf

    opt = RAdam(0.1)
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(var))
        opt.apply_gradients([(tape.gradient(loss, var), var)])
    assert float(tf.reduce_sum(tf.abs(var))) < 0.1
    s = WarmupSchedule(1.0, total_steps=100, warmup_steps=10)
    assert float(s(0)) == pytest.approx(0.1) and float(s(9)) == pytest.approx(1.0) and float(s(100)) < 0.02


def test_best_model_ties_on_plate_accuracy_are_broken_by_characters(spec, synth_samples, tmp_path):
    """All epochs at 0 full-plate accuracy must still keep the epoch with the best characters."""
    t = _trainer(spec, tmp_path / "ties", epochs=3, steps_per_epoch=6, lr=1e-2)
    result = t.fit(synth_samples, synth_samples.subset(range(48)))
    chars = [h["val_char_accuracy"] for h in result["history"]]
    plates = [h["val_plate_accuracy"] for h in result["history"]]
    best = max(range(3), key=lambda i: (plates[i], chars[i]))
    assert t.best.numpy() == pytest.approx(plates[best] + 1e-4 * chars[best])


def test_cpu_description_names_the_widest_vector_level():
    assert vector_level({"sse4_2", "avx2", "avx512f", "avx512_vnni"}) == "AVX-512 VNNI"
    assert vector_level({"sse4_2", "avx2", "fma"}) == "AVX2"
    assert vector_level({"fp", "asimd"}) == "NEON"
    assert vector_level({"sse2"}) is None
    assert cpu_model().strip()

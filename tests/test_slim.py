import numpy as np
import pytest

from compress.slim import Graph, SlimError, Target, build, max_output_diff, plan, zero_gamma_keep
from plates.flops import count_macs
from student.mobilenetv3 import create_student
from tests.conftest import randomise_bn, save_tiny, tiny_model


def _images(rng, size, n=6):
    return rng.integers(0, 255, (n, *size, 3)).astype(np.float32)


def test_residual_block_slims_exactly_when_dead_channels_output_zero(spec):
    rng = np.random.default_rng(0)
    model, info = tiny_model(spec, width=16)
    randomise_bn(model, rng, dead_beta=-1.0)  # relu(-1) = 0: removed channels were exactly zero
    g = Graph(model)
    keep = zero_gamma_keep(g)
    slim = build(g, keep, probe=_images(rng, info.size))
    assert slim.count_params() < model.count_params() and count_macs(slim) < count_macs(model)
    conv = slim.get_layer("stage1_block1_1_conv")
    assert conv.filters < 16 and conv.kernel.shape[-1] == conv.filters  # physically smaller, not masked
    add = g.find(g.layouts["stage1_block1_add"].segments[0][0])  # residual: stem and block output tied
    assert g.find(g.layouts["stem_bn"].segments[0][0]) == add
    assert max_output_diff(model, slim, _images(rng, info.size)) < 1e-5


def test_mbconv_se_block_slims_and_folding_keeps_the_function(spec):
    rng = np.random.default_rng(1)
    model, info = create_student(spec, (24, 94), "small", alpha=0.5)
    randomise_bn(model, rng)  # dead channels carry hard-swish(beta) != 0: folded into consumers' biases
    g = Graph(model)
    keep = zero_gamma_keep(g)
    images = _images(rng, info.size)
    folded = build(g, keep, probe=images)
    unfolded = build(g, keep)
    assert folded.count_params() < model.count_params()
    assert (
        folded.get_layer("block2_dw_conv").depthwise_kernel.shape[2] == folded.get_layer("block2_expand_conv").filters
    )
    diff_folded = max_output_diff(model, folded, images)
    assert diff_folded < 1e-4  # 1x1 consumers see no padding: exact
    assert max_output_diff(model, unfolded, images) > 10 * diff_folded
    se = g.find(g.layouts["block4_se_expand"].segments[0][0])
    assert se == g.find(g.layouts["block4_dw_bn"].segments[0][0])  # SE gate tied to the depthwise channels


@pytest.mark.parametrize("make", ["resnet", "mnv3"])
def test_flops_target_rounding_and_floors(spec, make):
    rng = np.random.default_rng(2)
    model, info = tiny_model(spec, width=32) if make == "resnet" else create_student(spec, (24, 94), "small")
    randomise_bn(model, rng, dead_fraction=0.0)
    g = Graph(model)
    keep = plan(g, Target(flops=0.6, round_to=8, min_fraction=0.25))
    slim = build(g, keep, probe=_images(rng, info.size))
    assert count_macs(slim) <= 0.6 * count_macs(model)
    for r, k in keep.items():
        n = g.spaces[r].size
        assert len(k) == n or len(k) % 8 == 0  # rounded to a multiple of 8
        assert len(k) >= min(n, max(int(np.ceil(0.25 * n)), 8))  # floor: never emptied
    slim(np.zeros((1, *info.size, 3), np.float32))


def test_ratio_target_removes_that_share_of_prunable_channels(spec):
    rng = np.random.default_rng(3)
    model, _ = tiny_model(spec, width=64)
    randomise_bn(model, rng, dead_fraction=0.0)
    g = Graph(model)
    keep = plan(g, Target(ratio=0.5, round_to=1, min_fraction=0.0))
    total = sum(g.spaces[r].size for r in g.prunable())
    assert sum(len(k) for k in keep.values()) == pytest.approx(total / 2, abs=len(keep))


def test_latency_target_bisects_on_the_measured_metric(spec):
    """A fake latency (MACs + a fixed overhead) stands in for LiteRT: the plan must meet the
    budget on that metric, which is stricter than the same fraction of MACs."""
    rng = np.random.default_rng(5)
    model, _ = tiny_model(spec, width=32)
    randomise_bn(model, rng, dead_fraction=0.0)
    g = Graph(model)
    overhead = 0.2 * count_macs(model)
    fake = lambda m: count_macs(m) + overhead  # noqa: E731
    keep = plan(g, Target(latency=0.7, round_to=1, min_fraction=0.05), fake)
    slim = build(g, keep)
    assert fake(slim) <= 0.7 * fake(model)
    assert count_macs(slim) < 0.7 * count_macs(model)  # the overhead does not shrink
    with pytest.raises(SlimError, match="needs a latency measurement"):
        plan(g, Target(latency=0.7))


def test_litert_latency_times_the_converted_model(spec):
    from compress.latency import litert_p50_ms

    model, info = tiny_model(spec, width=8)
    ms = litert_p50_ms(model, info, threads=1, runs=5, min_seconds=0.0)
    assert np.isfinite(ms) and ms > 0


def test_bad_targets_get_clear_errors(spec):
    model, _ = tiny_model(spec, width=8)
    g = Graph(model)
    with pytest.raises(SlimError, match="would remove every channel"):
        plan(g, Target(ratio=1.0))
    with pytest.raises(SlimError, match="exactly one target"):
        plan(g, Target(ratio=0.5, flops=0.5))
    with pytest.raises(SlimError, match="--latency is the fraction to keep"):
        plan(g, Target(latency=1.5))
    with pytest.raises(SlimError, match="--protect 'no_such_layer' matches no layer"):
        Graph(model, protect=["no_such_layer"])
    with pytest.raises(SlimError, match="cannot reach"):
        plan(g, Target(flops=0.01, round_to=8))


def test_protected_layers_keep_all_channels(spec):
    rng = np.random.default_rng(4)
    model, _ = tiny_model(spec, width=16)
    randomise_bn(model, rng)
    g = Graph(model, protect=["stage2"])
    keep = zero_gamma_keep(g)
    assert g.find(g.layouts["stage2_conv"].segments[0][0]) not in keep
    assert build(g, keep).get_layer("stage2_conv").filters == 32


def test_slim_cli_rejects_bad_protect_before_training(tmp_path, spec, synth_dir, capsys):
    from compress.cli import main
    from plates.modelio import save_model

    save_model(tmp_path / "m", *tiny_model(spec))
    rc = main(
        [
            "slim",
            str(tmp_path / "m"),
            "--train",
            str(synth_dir),
            "--run",
            str(tmp_path / "r"),
            "--flops",
            "0.5",
            "--protect",
            "no_such_layer",
            "--sparsity-epochs",
            "1",
            "--quiet",
        ]
    )
    assert rc == 2 and "matches no layer" in capsys.readouterr().err
    assert not (tmp_path / "r" / "sparsity").exists()  # nothing trained first


def test_slim_cli_refuses_to_resume_a_run_slimmed_from_another_model(tmp_path, spec, synth_dir, capsys):
    from compress.cli import main

    source, run = tmp_path / "m", tmp_path / "r"
    save_tiny(source, spec, width=16)
    argv = ["slim", str(source), "--train", str(synth_dir), "--run", str(run), "--flops", "0.5"]
    argv += ["--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8", "--quiet"]
    assert main(argv) == 0
    before = {p: p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file() and "tb" not in p.parts}
    save_tiny(source, spec, seed=1, width=24)  # the source replaced: another plan, other weights
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "slimmed from another model" in err[0] and str(run) in err[0]
    assert {p: p.read_bytes() for p in before} == before  # nothing in the run folder rewritten

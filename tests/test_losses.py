import math

import numpy as np
import pytest

from plates.keras import tf
from plates.losses import create_loss


def test_ce_masks_unknown_labels_and_smooths():
    loss = create_loss("ce", 3, label_smoothing=0.0)
    probs = tf.constant([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    per, w = loss.per_sample(tf.constant([0, -1]), probs)
    np.testing.assert_allclose(per.numpy()[0], -math.log(0.7), rtol=1e-6)
    assert w.numpy().tolist() == [1.0, 0.0]
    smooth = create_loss("ce", 3, label_smoothing=0.3).per_sample(tf.constant([0, 1]), probs)[0].numpy()
    expected0 = -(0.8 * math.log(0.7) + 0.1 * math.log(0.2) + 0.1 * math.log(0.1))
    np.testing.assert_allclose(smooth[0], expected0, rtol=1e-6)


@pytest.mark.parametrize("name", ["ce", "focal", "ghm"])
def test_an_unsure_label_is_a_uniform_target_that_counts_in_the_loss(name):
    """-2 (a character the crop cuts off) is not masked like -1: it is trained toward uniform, so
    a confident guess costs more than saying nothing, and uniform is its lowest CE."""
    from plates.losses import labelled

    loss = create_loss(name, 4)
    labels = tf.constant([-2, -2, -1])
    probs = tf.constant([[0.25] * 4, [0.97, 0.01, 0.01, 0.01], [0.97, 0.01, 0.01, 0.01]])
    per, w = loss.per_sample(labels, probs)
    assert w.numpy().tolist()[0] > 0 and w.numpy().tolist()[2] == 0.0
    assert per.numpy()[1] > per.numpy()[0]
    if name == "ce":
        np.testing.assert_allclose(per.numpy()[0], math.log(4), rtol=1e-6)
    assert labelled(labels).numpy().tolist() == [1.0, 1.0, 0.0]


def test_focal_matches_formula():
    probs = tf.constant([[0.9, 0.1], [0.4, 0.6]])
    per, _ = create_loss("focal", 2, gamma=2.0).per_sample(tf.constant([0, 0]), probs)
    np.testing.assert_allclose(per.numpy(), [0.01 * -math.log(0.9), 0.36 * -math.log(0.4)], rtol=1e-6)


def test_ghm_weights_match_hand_computation():
    """4 valid samples, 10 bins, no momentum. p_t = .95 .92 .55 .05 -> g = .05 .08 .45 .95:
    bins 0, 0, 4, 9 -> counts 2, 1, 1; 3 bins used; weight = tot / count / used = 4/2/3, 4/1/3."""
    loss = create_loss("ghm", 2, bins=10, momentum=0.0)
    probs = tf.constant([[0.95, 0.05], [0.92, 0.08], [0.55, 0.45], [0.05, 0.95], [0.5, 0.5]])
    per, w = loss.per_sample(tf.constant([0, 0, 0, 0, -1]), probs)
    np.testing.assert_allclose(w.numpy(), [4 / 2 / 3, 4 / 2 / 3, 4 / 1 / 3, 4 / 1 / 3, 0.0], rtol=1e-6)
    ce = -np.log([0.95, 0.92, 0.55, 0.05])
    head_loss = float(tf.reduce_sum(per * w)) / 4  # the trainer divides by labelled samples
    assert head_loss == pytest.approx(float((ce * np.array([2 / 3, 2 / 3, 4 / 3, 4 / 3])).sum() / 4), rel=1e-5)


def test_ghm_momentum_smooths_bin_counts_across_steps():
    loss = create_loss("ghm", 2, bins=2, momentum=0.5)
    labels = tf.constant([0, 0])
    loss.per_sample(labels, tf.constant([[0.9, 0.1], [0.8, 0.2]]))  # both in bin 0: acc = 0.5*0 + 0.5*2 = 1
    np.testing.assert_allclose(loss.acc_sum.numpy(), [1.0, 0.0])
    _, w = loss.per_sample(labels, tf.constant([[0.9, 0.1], [0.2, 0.8]]))  # bin0: .5*1+.5*1 = 1 ; bin1: .5*0+.5*1 = .5
    np.testing.assert_allclose(loss.acc_sum.numpy(), [1.0, 0.5])
    np.testing.assert_allclose(w.numpy(), [2 / 1 / 2, 2 / 0.5 / 2])


def test_unknown_loss_name():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        create_loss("hinge", 3)

"""Per-head classification losses with masking of unknown labels (-1), and a uniform target
for characters the crop does not show (-2, ``plates.codec.UNSURE``).

Each loss maps (labels (B,), probabilities (B, C)) to (per-sample loss (B,), weights (B,)):
the head's loss is sum(loss * weight) / number of labelled samples in the *global* batch
(so CE is a masked mean, and GHM matches the paper's normalisation). GHM
keeps per-head state (EMA of gradient-density bin counts), so losses are objects built per
head by ``create_loss``."""

from __future__ import annotations

from collections.abc import Callable

from plates.codec import UNKNOWN, UNSURE
from plates.keras import tf

EPS = 1e-7
LOSSES: dict[str, Callable[..., HeadLoss]] = {}


def register_loss(name: str):
    def wrap(cls):
        LOSSES[name] = cls
        return cls

    return wrap


def create_loss(name: str, num_classes: int, **kwargs) -> HeadLoss:
    try:
        cls = LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose from {sorted(LOSSES)}") from None
    return cls(num_classes, **kwargs)


def labelled(labels: tf.Tensor) -> tf.Tensor:
    """float 1 where a label takes part in the loss (a class, or UNSURE's uniform target)."""
    return tf.cast(tf.not_equal(labels, UNKNOWN), tf.float32)


def _one_hot(labels: tf.Tensor, num_classes: int) -> tuple[tf.Tensor, tf.Tensor]:
    """(target rows, 1 where labelled): one-hot for a class, uniform for UNSURE (the head is
    taught to say it cannot tell, rather than being left free to guess with confidence)."""
    onehot = tf.one_hot(tf.maximum(labels, 0), num_classes)
    unsure = tf.equal(labels, UNSURE)[:, None]
    return tf.where(unsure, tf.fill(tf.shape(onehot), 1.0 / num_classes), onehot), labelled(labels)


class HeadLoss:
    """Base: cross-entropy with optional label smoothing."""

    def __init__(self, num_classes: int, label_smoothing: float = 0.0):
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    @property
    def variables(self) -> list[tf.Variable]:
        return []

    def target(self, onehot: tf.Tensor) -> tf.Tensor:
        if self.label_smoothing:
            return onehot * (1 - self.label_smoothing) + self.label_smoothing / self.num_classes
        return onehot

    def per_sample(self, labels: tf.Tensor, probs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        onehot, valid = _one_hot(labels, self.num_classes)
        ce = -tf.reduce_sum(self.target(onehot) * tf.math.log(tf.clip_by_value(probs, EPS, 1.0)), -1)
        return ce, valid


@register_loss("ce")
class CrossEntropy(HeadLoss):
    pass


@register_loss("focal")
class Focal(HeadLoss):
    """Focal loss (Lin et al. 2017): CE scaled by (1 - p_t)^gamma."""

    def __init__(self, num_classes: int, gamma: float = 2.0, label_smoothing: float = 0.0):
        super().__init__(num_classes, label_smoothing)
        self.gamma = gamma

    def per_sample(self, labels, probs):
        ce, valid = super().per_sample(labels, probs)
        onehot, _ = _one_hot(labels, self.num_classes)
        p_t = tf.reduce_sum(onehot * probs, -1)
        return tf.pow(1.0 - p_t, self.gamma) * ce, valid


@register_loss("ghm")
class GHM(HeadLoss):
    """Gradient Harmonized loss for one softmax head (Li, Liu & Wang, AAAI 2019, GHM-C).

    The gradient norm of softmax CE w.r.t. the true logit is g = 1 - p_t. Samples are
    binned by g; each is weighted by N / (bins_used * density), with the bin counts smoothed
    by an EMA (``momentum``) across steps so one batch's noise does not swing the weights."""

    def __init__(self, num_classes: int, bins: int = 10, momentum: float = 0.75, label_smoothing: float = 0.0):
        super().__init__(num_classes, label_smoothing)
        self.bins = bins
        self.momentum = momentum
        self.acc_sum = tf.Variable(
            tf.zeros([bins]), trainable=False, name="ghm_acc_sum", aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA
        )
        edges = [i / bins for i in range(bins + 1)]
        edges[-1] += 1e-6
        self.edges = tf.constant(edges, tf.float32)

    @property
    def variables(self):
        return [self.acc_sum]

    def weights(self, g: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
        """GHM weights for gradient norms ``g``; sums counts over replicas when distributed."""
        bin_idx = tf.clip_by_value(tf.searchsorted(self.edges, g, side="right") - 1, 0, self.bins - 1)
        onehot = tf.one_hot(bin_idx, self.bins) * valid[:, None]
        counts = tf.reduce_sum(onehot, 0)
        tot = tf.reduce_sum(valid)
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            counts, tot = ctx.all_reduce("sum", [counts, tot])
        tot = tf.maximum(tot, 1.0)
        has = tf.cast(counts > 0, tf.float32)
        if self.momentum > 0:
            acc = self.momentum * self.acc_sum + (1 - self.momentum) * counts
            acc = tf.where(counts > 0, acc, self.acc_sum)
            self.acc_sum.assign(acc)
            density = acc
        else:
            density = counts
        n_used = tf.maximum(tf.reduce_sum(has), 1.0)
        per_bin = tf.math.divide_no_nan(tot, density) * has / n_used
        return tf.gather(per_bin, bin_idx) * valid

    def per_sample(self, labels, probs):
        ce, valid = super().per_sample(labels, probs)
        onehot, _ = _one_hot(labels, self.num_classes)
        g = tf.stop_gradient(1.0 - tf.reduce_sum(onehot * probs, -1))
        return ce, tf.stop_gradient(self.weights(g, valid))

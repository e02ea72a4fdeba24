"""Knowledge distillation of a multi-head teacher into a student.

Per head: KL(teacher_T || student_T) on temperature-softened probabilities, scaled by T^2
(Hinton et al. 2015) so its gradient does not shrink with T, plus the label loss weighted
alpha (``TrainConfig.hard_weight``). Both models output probabilities; softening uses
softmax(log p / T), which equals softmax(logits / T). Optional feature distillation
(FitNets hint): a 1x1 conv adapter maps a student feature map onto a teacher one (resized
to the teacher's spatial size), trained with MSE.

Teacher outputs are computed online (works with augmentation) or cached: the teacher's
probabilities for every un-augmented training image are computed once, stored in the run
folder, and looked up by a sample index carried as an extra label column."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plates import logger
from plates.codec import UNSURE
from plates.errors import PlateError
from plates.keras import keras, tf
from plates.modelio import head_names, outputs_by_name
from plates.readers import Samples

EPS = 1e-7


def soften(probs: tf.Tensor, temperature: float) -> tf.Tensor:
    """log of softmax(log(p) / T)."""
    return tf.nn.log_softmax(tf.math.log(tf.clip_by_value(probs, EPS, 1.0)) / temperature, axis=-1)


def kd_loss(
    teacher: dict[str, tf.Tensor],
    student: dict[str, tf.Tensor],
    temperature: float,
    keep: dict[str, tf.Tensor] | None = None,
) -> tf.Tensor:
    """Sum over heads of batch-mean T^2 * KL(teacher_T || student_T); ``keep`` (per head, float
    (B,)) leaves samples out of a head's term (their zeros still count in the mean)."""
    total = tf.constant(0.0)
    for name, t_probs in teacher.items():
        log_t = soften(t_probs, temperature)
        log_s = soften(student[name], temperature)
        kl = tf.reduce_sum(tf.exp(log_t) * (log_t - log_s), axis=-1)
        if keep is not None and name in keep:
            kl = kl * keep[name]
        total += tf.reduce_mean(kl)
    return total * temperature**2


class Distiller(tf.Module):
    """The extra loss term for ``Trainer``: weight * KD (+ hint_weight * hint MSE). ``heads``
    (default: the student's outputs) are in the order of the label columns, the spec's."""

    def __init__(
        self,
        student: keras.Model,
        teacher: keras.Model | None,
        temperature: float = 4.0,
        weight: float = 0.5,
        hint: tuple[str, str] | None = None,
        hint_weight: float = 1.0,
        cached: np.ndarray | None = None,
        heads: list[str] | None = None,
    ):
        super().__init__(name="distiller")
        self.teacher, self.temperature, self.weight, self.hint_weight = teacher, temperature, weight, hint_weight
        self.heads = heads or head_names(student)
        self.n_heads = len(self.heads)
        self.cached = None
        if cached is not None:  # (N, sum of classes) concatenated per head
            self.cached = tf.constant(cached, tf.float32)
            self.splits = [int(student.outputs[head_names(student).index(h)].shape[-1]) for h in self.heads]
        if teacher is not None:
            teacher.trainable = False
            self.t_size = tuple(teacher.input_shape[1:3])
        self.s_size = tuple(student.input_shape[1:3])
        self.adapter = None
        if hint:
            s_layer, t_layer = hint
            if teacher is None:
                raise PlateError("feature distillation (--hint) needs the teacher online, not --cache-teacher")
            try:
                self.s_feat = keras.Model(student.input, student.get_layer(s_layer).output)
                t_feat = teacher.get_layer(t_layer).output
            except ValueError as exc:
                raise PlateError(f"--hint {s_layer}:{t_layer}: {exc}") from None
            # one teacher pass gives both the head probabilities and the hint features
            self.t_both = keras.Model(teacher.input, [*teacher.outputs, t_feat])
            self.t_hw = tuple(t_feat.shape[1:3])
            self.adapter = keras.layers.Conv2D(t_feat.shape[-1], 1, name="hint_adapter")
            self.adapter.build(self.s_feat.output_shape)

    @property
    def trainable_variables(self):
        return self.adapter.trainable_variables if self.adapter is not None else []

    def teacher_probs(self, images: tf.Tensor, labels: tf.Tensor) -> dict[str, tf.Tensor]:
        if self.cached is not None:
            rows = tf.gather(self.cached, labels[:, self.n_heads])
            return dict(zip(self.heads, tf.split(rows, self.splits, axis=-1), strict=True))
        if self.teacher is None:
            raise PlateError("distillation without cached teacher outputs needs the teacher model")
        return outputs_by_name(self.teacher, self.teacher(self._teacher_input(images), training=False))

    def _teacher_input(self, images: tf.Tensor) -> tf.Tensor:
        return images if self.t_size == self.s_size else tf.image.resize(images, self.t_size)

    def __call__(self, images, labels, outputs):
        if self.adapter is None:
            t = self.teacher_probs(images, labels)
        else:
            *t_out, target = self.t_both(self._teacher_input(images), training=False)
            t = outputs_by_name(self.teacher, t_out)
        # a character the crop cuts off (UNSURE) is taught as uniform by the label loss: the
        # teacher's reading of it, often a confident guess, would teach the guess back
        keep = {h: tf.cast(tf.not_equal(labels[:, i], UNSURE), tf.float32) for i, h in enumerate(self.heads)}
        loss = self.weight * kd_loss({h: t[h] for h in self.heads}, outputs, self.temperature, keep)
        if self.adapter is not None:
            s = self.adapter(tf.image.resize(self.s_feat(images, training=True), self.t_hw))
            loss += self.hint_weight * tf.reduce_mean(tf.square(s - tf.stop_gradient(target)))
        return loss


def cache_teacher(
    teacher: keras.Model, samples: Samples, info, run_dir: Path, skip_bad: bool = False
) -> tuple[Samples, np.ndarray]:
    """Teacher probabilities for every training image (computed once, reused on resume);
    returns samples whose labels carry the row index as an extra column. ``skip_bad`` leaves
    unreadable images out first, so the table and the samples stay row for row."""
    from plates.pipeline import decode_unique
    from plates.training import predict_probs

    path = Path(run_dir) / "teacher_cache.npy"
    cached = path.exists()
    if skip_bad or not cached:  # one decoding serves the bad-file filter and the teacher pass
        unique, rows, kept = decode_unique(samples, tuple(teacher.input_shape[1:3]), skip_bad)
        samples = samples.subset(kept)
    if cached:
        table = np.load(path)
        if len(table) != len(samples):
            raise PlateError(f"{path}: cached for {len(table)} images, training set has {len(samples)}; delete it")
    else:
        logger.info("caching teacher outputs for %d images", len(samples))
        probs = predict_probs(teacher, unique)  # each distinct image once, then one row per sample
        names = [h.name for h in info.spec.heads]
        table = np.concatenate([probs[n] for n in names], axis=1).astype(np.float32)[rows]
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, table)
    index = np.arange(len(samples), dtype=np.int32)[:, None]
    return Samples(samples.paths, np.concatenate([samples.labels, index], axis=1), samples.quads), table

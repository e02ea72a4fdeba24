"""The training engine every stage uses (teacher, student, slimming fine-tune, distillation).

A custom loop rather than ``model.fit`` because the recipe needs per-head masked losses
with state (GHM), role-split weight decay and gamma L1, optional extra loss terms (knowledge
distillation) and ``tf.distribute`` - all in one step function.

A run folder holds ``config.json``, ``manifest.json``, ``checkpoints/`` (resume after an
interruption: rerun the same command), ``tb/`` (TensorBoard), ``history.json`` and the
best model as ``model.keras`` + ``labels.json``."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import shutil
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from plates import logger
from plates.atomic import write_json
from plates.bundle import ModelInfo
from plates.ema import WeightAverage
from plates.errors import PlateError
from plates.keras import keras, tf
from plates.losses import create_loss, labelled
from plates.metrics import evaluate
from plates.modelio import head_names, model_file, outputs_by_name, save_model
from plates.optim import RAdam, WarmupSchedule
from plates.pipeline import Augment, decode_all, make_dataset
from plates.readers import Samples
from plates.regularizers import Decay, penalty, shrink_gammas
from plates.runinfo import manifest

# Fields that must match for a run folder to be resumed.
RESUME_KEYS = ("epochs", "batch_size", "steps_per_epoch", "loss", "lr", "ema")


@dataclasses.dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64
    steps_per_epoch: int = 0  # 0: one pass over the training set
    lr: float = 2e-3
    warmup_epochs: float = 1.0
    schedule: str = "cosine"
    loss: str = "ce"
    label_smoothing: float = 0.1
    focal_gamma: float = 2.0
    ghm_bins: int = 10
    ghm_momentum: float = 0.75
    head_weights: dict[str, float] = dataclasses.field(default_factory=dict)
    kernel_l2: float = 5e-5
    gamma_l2: float = 0.0
    gamma_l1: float = 0.0
    gamma_l1_prox: bool = False  # apply gamma_l1 as a soft-threshold after each step
    l1_exclude: tuple[str, ...] = ()
    augment: bool = True
    zoom_out: float = 0.0  # train on crops up to this fraction per side looser (Augment.zoom_out)
    zoom_in: float = 0.0  # and up to this fraction per side tighter (Augment.zoom_in)
    cut_ends: float = 0.0  # up to this fraction of the width cut from each end on its own (Augment.cut_ends)
    rotate: float = 0.0  # degrees of in-plane tilt (Augment.rotate)
    shear: float = 0.0  # degrees of vertical shear (Augment.shear)
    perspective: float = 0.0  # one end up to this fraction shorter (Augment.perspective)
    blur: float = 0.0  # share of the resolution lost at most (Augment.blur)
    seed: int = 0
    checkpoint_every: int = 0  # also checkpoint every N steps inside an epoch
    eval_batch_size: int = 256
    hard_weight: float = 1.0  # weight of the label loss (distillation's alpha)
    ema: float = 0.0  # decay of a weight average that is evaluated and saved (0: off); see plates/ema.py
    init: str = ""  # model folder whose weights a new run starts from (same architecture and heads)
    init_partial: bool = False  # take only the layers of `init` whose weights fit (e.g. another input size)
    skip_bad_images: bool = False  # drop unreadable images (counted in a warning) instead of refusing the set

    def loss_kwargs(self) -> dict[str, Any]:
        if self.loss == "focal":
            return {"gamma": self.focal_gamma, "label_smoothing": self.label_smoothing}
        if self.loss == "ghm":
            return {"bins": self.ghm_bins, "momentum": self.ghm_momentum, "label_smoothing": self.label_smoothing}
        return {"label_smoothing": self.label_smoothing}


#: extra(images, labels, outputs by head) -> scalar added to the loss (e.g. distillation). It may
#: have ``trainable_variables`` (e.g. a hint adapter), optimised with the model. Labels may carry
#: columns after the heads (e.g. a sample index for cached teacher outputs).
ExtraLoss = Callable[[tf.Tensor, tf.Tensor, dict[str, tf.Tensor]], tf.Tensor]


_PREDICT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predict_probs(
    model: keras.Model, images: np.ndarray | tf.data.Dataset, batch_size: int = 256
) -> dict[str, np.ndarray]:
    """Per-head probabilities for a uint8/float image array or an (images, labels) dataset."""
    if isinstance(images, np.ndarray):
        images = tf.data.Dataset.from_tensor_slices(images).batch(batch_size)
    fn = _PREDICT.get(model)
    if fn is None:  # one traced function per model, not one per call (epochs evaluate the same model)
        fn = _PREDICT[model] = tf.function(
            lambda x: model(tf.cast(x, tf.float32), training=False), reduce_retracing=True
        )
    chunks: dict[str, list[np.ndarray]] = {n: [] for n in head_names(model)}
    for batch in images:
        x = batch[0] if isinstance(batch, tuple) else batch
        for name, out in outputs_by_name(model, fn(x)).items():
            chunks[name].append(out.numpy())
    return {n: np.concatenate(c) if c else np.zeros((0,)) for n, c in chunks.items()}


def chief_and_task(strategy: tf.distribute.Strategy) -> tuple[bool, int]:
    """(is this process the chief, its task index): the chief is task ``chief``, or worker 0
    when the cluster has no chief; a single process is its own chief."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if resolver is None or not task_type:
        return True, 0
    task_id = int(resolver.task_id or 0)
    if task_type == "chief":
        return True, task_id
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief, task_id


class Trainer:
    """Train ``build_model()`` (built inside the strategy scope) on labelled samples."""

    def __init__(
        self,
        build_model: Callable[[], keras.Model],
        info: ModelInfo,
        config: TrainConfig,
        run_dir: str | Path,
        strategy: tf.distribute.Strategy | None = None,
        extra_loss: Callable[[keras.Model], ExtraLoss] | None = None,
        progress: bool = True,
        augment: Augment | None = None,
    ):
        self.info, self.config, self.run_dir = info, config, Path(run_dir)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.is_chief, task = chief_and_task(self.strategy)
        # every worker saves (MultiWorkerMirrored needs all of them in a save); only the chief
        # writes the run folder, the others a scratch folder inside it that they remove at the end
        self.out_dir = self.run_dir if self.is_chief else self.run_dir / f".worker-{task}"
        self.progress = progress
        if augment is None:
            # the config's augmentation fields are the Augment fields of the same name
            shared = {f.name: getattr(config, f.name) for f in dataclasses.fields(Augment) if hasattr(config, f.name)}
            augment = Augment(**shared) if config.augment else Augment.off()
        self.augment = augment
        keras.utils.set_random_seed(config.seed)
        with self.strategy.scope():
            self.model = build_model()
            self.losses = {
                h.name: create_loss(config.loss, len(h.classes), **config.loss_kwargs()) for h in info.spec.heads
            }
            self.epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name="epoch")
            self.best = tf.Variable(-1.0, trainable=False, dtype=tf.float64, name="best")
            self.extra = extra_loss(self.model) if extra_loss else None
            self.average = WeightAverage(self.model, config.ema) if config.ema else None
        self.trainable = list(self.model.trainable_variables) + list(getattr(self.extra, "trainable_variables", []))
        unknown = set(config.head_weights) - set(info.spec.names)
        if unknown:
            raise PlateError(f"loss weights name unknown head(s) {sorted(unknown)}; heads are {list(info.spec.names)}")
        self.decay = Decay(
            config.kernel_l2, config.gamma_l2, config.gamma_l1, tuple(config.l1_exclude), config.gamma_l1_prox
        )

    # -- the step ---------------------------------------------------------------------
    def _loss(self, images, labels, training: bool = True):
        ctx = tf.distribute.get_replica_context()
        outputs = outputs_by_name(self.model, self.model(images, training=training))
        counts = tf.reduce_sum(labelled(labels), 0)
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            counts = ctx.all_reduce("sum", counts)
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        head_losses = {}
        total = tf.constant(0.0)
        for i, head in enumerate(self.info.spec.heads):
            per, w = self.losses[head.name].per_sample(labels[:, i], outputs[head.name])
            head_losses[head.name] = tf.reduce_sum(per * w) / tf.maximum(counts[i], 1.0)
            total += self.config.hard_weight * self.config.head_weights.get(head.name, 1.0) * head_losses[head.name]
        reg = penalty(self.model, self.decay) / replicas
        total += reg
        if self.extra is not None:
            extra = self.extra(images, labels, outputs) / replicas
            head_losses["extra"] = extra
            total += extra
        head_losses["reg"] = reg
        return total, head_losses

    def _build_step(self):
        def step(images, labels):
            with tf.GradientTape() as tape:
                total, parts = self._loss(images, labels)
            grads = tape.gradient(total, self.model.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=False))
            return total, parts

        prox = bool(self.decay.gamma_l1 and self.decay.gamma_l1_prox)

        @tf.function
        def train_step(batch):
            total, parts = self.strategy.run(step, args=batch)
            if prox:  # cross-replica context: one assignment updates every replica's copy
                shrink_gammas(self.model, self.decay, self.schedule(self.optimizer.iterations))
            if self.average is not None:
                self.average.update()
            reduce = lambda t: self.strategy.reduce("sum", t, axis=None)  # noqa: E731
            return reduce(total), {k: reduce(v) for k, v in parts.items()}

        return train_step

    # -- the loop ---------------------------------------------------------------------
    def fit(self, train: Samples, val: Samples | None = None) -> dict[str, Any]:
        """Train to ``config.epochs``, resuming from the run folder's last checkpoint; the best
        epoch (by full-plate accuracy on ``val``, else by training loss) is saved as the model."""
        cfg = self.config
        if len(train) < cfg.batch_size:
            raise PlateError(f"training set has {len(train)} images, fewer than one batch of {cfg.batch_size}")
        steps = cfg.steps_per_epoch or max(1, len(train) // cfg.batch_size)
        if not self.is_chief:  # a crashed earlier attempt may have left its scratch folder
            shutil.rmtree(self.out_dir, ignore_errors=True)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._check_resume(cfg)
        val_ds = None
        if val is not None and len(val):  # decoded first, before any step: a bad file costs no epoch
            val_ds, kept = decode_all(val, self.info.size, cfg.skip_bad_images)
            val = val.subset(kept)
        iterator = iter(self.strategy.experimental_distribute_dataset(self._train_dataset(train)))
        manager, resumed = self._restore(iterator, steps)
        history_path = self.run_dir / "history.json"
        history = json.loads(history_path.read_text()) if history_path.exists() and resumed else []
        # decided from what every worker sees before its first step, so all of them save alike
        saved = model_file(self.run_dir).exists()
        writer = tf.summary.create_file_writer(str(self.out_dir / "tb"))
        train_step = self._build_step()
        start = time.time()
        while int(self.epoch.numpy()) < cfg.epochs:
            record = self._train_epoch(train_step, iterator, manager, steps)
            score = self._score(record, val, val_ds)
            with writer.as_default(step=record["epoch"]):
                for k, v in record.items():
                    if isinstance(v, (int, float)) and k != "epoch":
                        tf.summary.scalar(k, v)
            history.append(record)
            logger.info(
                "epoch %d/%d %s",
                record["epoch"],
                cfg.epochs,
                " ".join(f"{k}={v:.4g}" for k, v in record.items() if k.startswith(("train_loss", "val_", "images"))),
            )
            if score > float(self.best.numpy()):
                self.best.assign(score)
                with self._averaged():
                    save_model(self.out_dir, self.model, self.info)
                saved = True
            self.epoch.assign_add(1)
            manager.save()
            write_json(self.out_dir / "history.json", history)
        if not saved:
            with self._averaged():
                save_model(self.out_dir, self.model, self.info)
        if not self.is_chief:
            shutil.rmtree(self.out_dir, ignore_errors=True)
        return {
            "epochs": cfg.epochs,
            "steps_per_epoch": steps,
            "best_score": float(self.best.numpy()),
            "train_seconds_this_session": round(time.time() - start, 1),
            "history": history,
        }

    def _train_dataset(self, train: Samples) -> tf.data.Dataset:
        cfg = self.config
        return make_dataset(
            train,
            self.info.size,
            cfg.batch_size,
            training=True,
            augment=self.augment,
            seed=cfg.seed,
            repeat=True,
            drop_remainder=True,
            skip_bad=cfg.skip_bad_images,
            progress=self.progress,
        )

    def _restore(self, iterator, steps: int) -> tuple[tf.train.CheckpointManager, bool]:
        """Optimiser, schedule and checkpoint; restore the run folder's last checkpoint (or the
        ``init`` weights of a new run). Returns the manager and whether a checkpoint was restored."""
        cfg = self.config
        # one process: the data iterator (its shuffle order and position) is saved too, so a run
        # killed mid-epoch resumes on the batches it would have seen (distributed iterators are not)
        single = self.strategy is tf.distribute.get_strategy()  # outside any scope: the default one
        with self.strategy.scope():
            total_steps = steps * cfg.epochs
            self.schedule = WarmupSchedule(cfg.lr, total_steps, int(cfg.warmup_epochs * steps), cfg.schedule)
            self.optimizer = RAdam(self.schedule)
            self.optimizer.build(self.trainable)
            ghm = {f"loss_{k}_{i}": v for k, loss in self.losses.items() for i, v in enumerate(loss.variables)}
            extra = {"extra": self.extra} if isinstance(self.extra, tf.Module) else {}
            if self.average is not None:
                extra["ema"] = self.average
            state = dict(model=self.model, optimizer=self.optimizer, epoch=self.epoch, best=self.best, **ghm, **extra)
            ckpt = tf.train.Checkpoint(**state, **({"data": iterator} if single else {}))
        manager = tf.train.CheckpointManager(ckpt, self.out_dir / "checkpoints", max_to_keep=2)
        latest = tf.train.latest_checkpoint(str(self.run_dir / "checkpoints"))  # the chief's, for every worker
        if latest:
            try:
                ckpt.restore(latest)
            except (tf.errors.OpError, ValueError, AssertionError) as exc:  # other data than the saved run's
                logger.warning("the saved data order does not fit these sources (%s); it restarts", str(exc)[:120])
                tf.train.Checkpoint(**state).restore(latest).expect_partial()
            logger.info(
                "resumed from %s (epoch %d, step %d)",
                latest,
                int(self.epoch.numpy()),
                int(self.optimizer.iterations.numpy()),
            )
        elif cfg.init:  # a new run
            self._load_init(cfg.init)
        return manager, bool(latest)

    def _train_epoch(self, train_step, iterator, manager: tf.train.CheckpointManager, steps: int) -> dict[str, Any]:
        """The rest of the current epoch's steps (all of them unless resumed mid-epoch); its
        record holds the mean losses over the steps run in this session."""
        from tqdm import tqdm

        cfg = self.config
        epoch = int(self.epoch.numpy())
        done = int(self.optimizer.iterations.numpy()) - epoch * steps
        sums: dict[str, float] = {}
        bar = tqdm(
            range(max(done, 0), steps),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not self.progress,
            unit="step",
            leave=False,
        )
        t0 = time.time()
        n = 0
        for s in bar:
            total, parts = train_step(next(iterator))
            total = float(total)
            if not math.isfinite(total):
                raise PlateError(f"loss became {total} at epoch {epoch + 1} step {s + 1}; lower --lr")
            n += 1
            sums["loss"] = sums.get("loss", 0.0) + total
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            bar.set_postfix(loss=f"{sums['loss'] / n:.3f}")
            # the last step of an epoch is saved by the epoch-end checkpoint (with the epoch
            # counted): a step checkpoint there would resume into an epoch with no steps left
            if cfg.checkpoint_every and (s + 1) % cfg.checkpoint_every == 0 and s + 1 < steps:
                manager.save()
        bar.close()
        return {
            "epoch": epoch + 1,
            "seconds": round(time.time() - t0, 1),
            "images_per_second": round(n * cfg.batch_size / max(time.time() - t0, 1e-9), 1),
            "lr": float(self.schedule(self.optimizer.iterations)),
            **{f"train_{k}": v / max(n, 1) for k, v in sums.items()},
        }

    def _score(self, record: dict[str, Any], val: Samples | None, val_ds: np.ndarray | None) -> float:
        """The epoch's score (higher is better), adding the validation metrics to ``record``."""
        if val is None or val_ds is None:
            return -record["train_loss"]  # every epoch that reaches here ran at least one step
        with self._averaged():
            probs = predict_probs(self.model, val_ds, self.config.eval_batch_size)
        metrics = evaluate(self.info.spec, val.labels, probs)
        record.update(val_plate_accuracy=metrics["plate_accuracy"], val_char_accuracy=metrics["char_accuracy"])
        # full-plate accuracy decides; character accuracy breaks ties (e.g. early epochs at 0)
        return metrics["plate_accuracy"] + 1e-4 * metrics["char_accuracy"]

    def _load_init(self, folder: str) -> None:
        """Start from another run's weights (a warm start: the next round of pseudo-labelling
        fine-tunes the previous model instead of paying for training from scratch again).

        With ``init_partial`` only the layers (by name) whose weight shapes fit are taken: a
        model at another input size keeps its convolutions, and the heads, whose first layer
        reads the flattened feature map, start afresh."""
        from plates.modelio import load_model

        source, source_info = load_model(folder)
        if source_info.spec.to_dict() != self.info.spec.to_dict():
            raise PlateError(f"{folder}: --init model has other heads or classes than the model being trained")
        if self.config.init_partial:
            theirs = {layer.name: layer for layer in source.layers}
            taken, fresh = 0, []
            for layer in self.model.layers:
                weights = layer.get_weights()
                if not weights:
                    continue
                other = theirs.get(layer.name)
                other_weights = other.get_weights() if other is not None else []
                if [w.shape for w in other_weights] == [w.shape for w in weights]:
                    layer.set_weights(other_weights)
                    taken += 1
                else:
                    fresh.append(layer.name)
            if not taken:
                raise PlateError(f"{folder}: --init-partial found no layer whose weights fit this model")
            logger.info("initialised %d layers from %s; %d start afresh: %s", taken, folder, len(fresh), fresh)
        else:
            theirs_w, ours = source.get_weights(), self.model.get_weights()
            if [w.shape for w in theirs_w] != [w.shape for w in ours]:
                raise PlateError(
                    f"{folder}: --init model has another architecture (weight shapes differ; "
                    "--init-partial takes the layers that fit)"
                )
            self.model.set_weights(theirs_w)
            logger.info("initialised from %s", folder)
        if self.average is not None:
            self.average.reset()

    def _averaged(self):
        """The weights to evaluate and save: the average when there is one (``self.model`` keeps
        the raw training weights outside this context)."""
        return self.average.applied() if self.average is not None else contextlib.nullcontext()

    def architecture(self) -> str:
        """A digest of the model's weight shapes in build order: what a checkpoint must match.

        Flags do not always name the architecture: a slimmed model's channel counts come from its
        source's gammas, so a run folder resumed after the source changed would otherwise fail in
        checkpoint restore. Shapes only, as weight names carry per-process counters."""
        shapes = [list(w.shape) for w in self.model.weights]
        return hashlib.sha256(json.dumps(shapes).encode()).hexdigest()[:16]

    def _check_resume(self, cfg: TrainConfig, model_config: dict[str, Any] | None = None) -> None:
        """Refuse to resume a run with other training or model-defining settings.

        Called before anything in the folder is rewritten: a run resumed with another width would
        otherwise fail deep in checkpoint restore, after its config.json said the new width."""
        path = self.run_dir / "config.json"
        current = dataclasses.asdict(cfg)
        if path.exists() and (self.run_dir / "checkpoints").exists():
            saved = json.loads(path.read_text())
            old = saved.get("train", {})
            diff = [k for k in RESUME_KEYS if k in old and old[k] != current[k]]
            for key, value in {**(model_config or {}), "architecture": self.architecture()}.items():
                before = saved.get(key)
                if key not in saved or before == value:
                    continue
                if isinstance(before, dict) and isinstance(value, dict):
                    keys = sorted(set(before) | set(value))
                    diff += [f"{key}.{k}" for k in keys if before.get(k) != value.get(k)]
                else:
                    diff.append(key)
            if diff:
                raise PlateError(
                    f"{self.run_dir}: holds a run with different {', '.join(diff)}; "
                    "use a new --run folder (or delete this one) instead of resuming"
                )

    def write_run_files(self, extra_config: dict[str, Any], data: dict[str, Any]) -> None:
        """config.json and manifest.json; a resumed run keeps its first manifest and logs the resume.

        Refuses before writing anything when the folder holds a run with another config. Only the
        chief writes them (every worker checks)."""
        self._check_resume(self.config, extra_config)
        if not self.is_chief:
            return
        config = {"train": dataclasses.asdict(self.config), **extra_config, "architecture": self.architecture()}
        write_json(self.run_dir / "config.json", config)
        path = self.run_dir / "manifest.json"
        current = manifest(
            data=data,
            model={
                "name": self.model.name,
                "params": int(self.model.count_params()),
                "strategy": type(self.strategy).__name__,
                "replicas": self.strategy.num_replicas_in_sync,
            },
        )
        if path.exists() and (self.run_dir / "checkpoints").exists():
            first = json.loads(path.read_text(encoding="utf-8"))
            first.setdefault("resumes", []).append({k: current[k] for k in ("command", "time", "git")})
            current = first
        write_json(path, current)

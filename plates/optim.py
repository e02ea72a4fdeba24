"""RAdam and warm-up learning-rate schedules (tf_keras ships neither).

RAdam (Liu et al., ICLR 2020) rectifies Adam's adaptive step while the variance estimate
is unreliable (first few hundred steps), falling back to momentum SGD there."""

from __future__ import annotations

import math

from plates.keras import keras, tf


@keras.utils.register_keras_serializable(package="plates")
class RAdam(keras.optimizers.Optimizer):
    def __init__(
        self,
        learning_rate=1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        name: str = "RAdam",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self._learning_rate = self._build_learning_rate(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, var_list):
        super().build(var_list)
        if getattr(self, "_built", False):
            return
        self._built = True
        self._m = [self.add_variable_from_reference(v, "m") for v in var_list]
        self._v = [self.add_variable_from_reference(v, "v") for v in var_list]

    def update_step(self, gradient, variable):
        dtype = variable.dtype
        gradient = tf.convert_to_tensor(gradient)
        lr = tf.cast(self.learning_rate, dtype)
        t = tf.cast(self.iterations + 1, dtype)
        b1, b2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        idx = self._index_dict[self._var_key(variable)]
        m, v = self._m[idx], self._v[idx]
        m.assign(b1 * m + (1 - b1) * gradient)
        v.assign(b2 * v + (1 - b2) * tf.square(gradient))
        b1_t, b2_t = tf.pow(b1, t), tf.pow(b2, t)
        m_hat = m / (1 - b1_t)
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2_t / (1.0 - b2_t)
        r = tf.sqrt(
            tf.maximum((rho_t - 4.0) * (rho_t - 2.0) * rho_inf, 0.0)
            / tf.maximum((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t, 1e-12)
        )
        adaptive = r * m_hat / (tf.sqrt(v / (1 - b2_t)) + self.epsilon)
        variable.assign_sub(lr * tf.where(rho_t > 5.0, adaptive, m_hat))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "learning_rate": self._serialize_hyperparameter(self._learning_rate),
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
            }
        )
        return config


@keras.utils.register_keras_serializable(package="plates")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up over ``warmup_steps``, then cosine decay or step decay to the end."""

    def __init__(
        self,
        base_lr: float,
        total_steps: int,
        warmup_steps: int = 0,
        kind: str = "cosine",
        min_lr_ratio: float = 0.01,
        step_boundaries: tuple[float, ...] = (0.6, 0.85),
        step_gamma: float = 0.1,
    ):
        if kind not in ("cosine", "step", "constant"):
            raise ValueError(f"schedule must be cosine, step or constant, not {kind!r}")
        self.base_lr, self.total_steps, self.warmup_steps = float(base_lr), int(total_steps), int(warmup_steps)
        self.kind, self.min_lr_ratio = kind, float(min_lr_ratio)
        self.step_boundaries, self.step_gamma = tuple(step_boundaries), float(step_gamma)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = tf.cast(max(self.warmup_steps, 1), tf.float32)
        total = tf.cast(max(self.total_steps, self.warmup_steps + 1), tf.float32)
        progress = tf.clip_by_value((step - warm) / (total - warm), 0.0, 1.0)
        if self.kind == "cosine":
            factor = self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + tf.cos(math.pi * progress))
        elif self.kind == "step":
            factor = tf.constant(1.0)
            for b in self.step_boundaries:
                factor = tf.where(progress >= b, factor * self.step_gamma, factor)
        else:
            factor = tf.constant(1.0)
        warmup = tf.minimum(1.0, (step + 1) / warm) if self.warmup_steps else 1.0
        return self.base_lr * factor * warmup

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "kind": self.kind,
            "min_lr_ratio": self.min_lr_ratio,
            "step_boundaries": self.step_boundaries,
            "step_gamma": self.step_gamma,
        }

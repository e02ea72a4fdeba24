"""``tf.distribute`` strategy by name. On a CPU-only host ``mirrored`` with ``devices=N``
splits the CPU into N logical devices (how the tests exercise multi-device training)."""

from __future__ import annotations

from plates import logger
from plates.keras import tf

STRATEGIES = ("default", "mirrored", "multiworker")


def create_strategy(name: str = "default", devices: int = 0) -> tf.distribute.Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose from {STRATEGIES}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multiworker":  # hosts and this worker's index come from TF_CONFIG
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy()
    n = max(devices, 1)
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:
        logger.warning("TensorFlow devices were already initialised; using the existing logical CPUs")
    logical = [d.name for d in tf.config.list_logical_devices("CPU")][:n]
    return tf.distribute.MirroredStrategy(devices=logical, cross_device_ops=tf.distribute.ReductionToOneDevice())

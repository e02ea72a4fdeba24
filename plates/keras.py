"""The one place the toolkit imports Keras from.

tensorflow-model-optimization (QAT) only supports Keras 2, so every module uses the
legacy ``tf_keras`` package. ``TF_USE_LEGACY_KERAS`` must be set before TensorFlow is
first imported, which is why this module sets it and everything else imports from here::

    from plates.keras import keras, tf, tfmot

A module that imports TensorFlow (or tfmot, tf2onnx) itself at the top would run before these
settings whenever it is imported first (``tests/test_import_order.py`` checks that none does).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow turns oneDNN on by itself only on x86 CPUs with AVX-512 VNNI or newer. Without it,
# the plain CPU depthwise kernel refuses unequal strides ("only supports equal length strides"),
# and the students' plate-shaped stride plan uses (2, 1) depthwise strides: seen on an AVX2-only
# EPYC. Builds without oneDNN ignore the variable.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

if os.environ["TF_USE_LEGACY_KERAS"] != "1":  # pragma: no cover - configuration guard
    raise RuntimeError(
        "TF_USE_LEGACY_KERAS is set to something other than 1; this toolkit needs tf_keras "
        "(Keras 2) because tensorflow-model-optimization does not support Keras 3."
    )


def _import_quietly():
    """Import TensorFlow with file descriptor 2 pointed at /dev/null.

    TensorFlow's C++ start-up lines (the oneDNN notice, "Could not find cuda drivers" and the
    ``cuInit`` error on CPU hosts, absl's "before InitializeLog" warning) are written before any
    log level applies, so no environment variable hides them; they would open every command's
    output. An import error still surfaces: it is raised after stderr is back.
    ``PLATE_EDGE_VERBOSE=1`` (set by every CLI's ``--verbose``) keeps them."""
    import importlib

    def load():
        tf = importlib.import_module("tensorflow")
        tf.config.list_physical_devices()  # platform start-up: the cuInit error line on CPU-only hosts
        return tf, importlib.import_module("tf_keras")

    if os.environ.get("PLATE_EDGE_VERBOSE") == "1":
        return load()
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no stderr descriptor (embedded interpreters)
        return load()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        return load()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


tf, keras = _import_quietly()

__all__ = ["keras", "tf"]  # and tfmot, on first use (below)


def __getattr__(name: str):
    """``from plates.keras import tfmot``: tensorflow-model-optimization, imported only when asked
    for and always after the settings above (it imports TensorFlow itself)."""
    if name == "tfmot":
        import tensorflow_model_optimization

        return tensorflow_model_optimization
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

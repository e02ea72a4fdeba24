"""Plate domain shared by every stage: spec and charsets, label codec, data sets, synthetic
generator, metrics. Importing this package does not import TensorFlow."""

from __future__ import annotations

import logging

logger = logging.getLogger("plates")
logger.addHandler(logging.NullHandler())

__version__ = "0.1.0"

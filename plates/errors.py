"""Errors the toolkit raises for bad user input; the CLIs turn them into one clean line."""

from __future__ import annotations


class PlateError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""


class SpecError(PlateError):
    """A plate spec or a labels.json is malformed."""


class LabelError(PlateError):
    """A plate text or a label row does not fit the spec."""


class DataError(PlateError):
    """A data file or folder cannot be read."""


class OptionError(PlateError):
    """An option value only checkable after parsing (e.g. NAME=VALUE pairs)."""


class ModelError(PlateError):
    """A model file is missing, corrupt, or not a multi-head classifier."""

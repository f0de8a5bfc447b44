"""Exceptions of the inference package (no torch import here)."""
from __future__ import annotations


class ModelLoadError(RuntimeError):
    """A model manifest or weights file cannot be used; the message names the file and the fix."""


class InputError(ValueError):
    """An image cannot be given to a model (wrong shape, modality, values); radiologist-readable."""

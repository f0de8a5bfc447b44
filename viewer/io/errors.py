"""Exceptions of the data layer. Messages are written for a radiologist, not a developer."""
from __future__ import annotations


class DicomLoadError(Exception):
    """A file or series could not be read. ``path`` names the file, ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

"""DICOM data layer: discovery, loading, geometry, presets, tags and a synthetic writer.

Imports neither Qt nor torch nor ``inference``. Arrays are ``(z, y, x)``; spacing ``(z, y, x)`` mm.
"""
from __future__ import annotations

from viewer.io.discovery import discover
from viewer.io.errors import DicomLoadError
from viewer.io.geometry import edge_labels
from viewer.io.loader import LoadProgress, iter_load, load_series, open_path
from viewer.io.presets import CT_PRESETS, auto_window, presets_for
from viewer.io.records import (
    DiscoveryResult,
    Orientation,
    PatientInfo,
    SeriesInfo,
    SkippedFile,
    Volume,
    WindowPreset,
)
from viewer.io.tags import TagRow, read_tags
from viewer.io.writer import write_series

__all__ = [
    "CT_PRESETS",
    "DicomLoadError",
    "DiscoveryResult",
    "LoadProgress",
    "Orientation",
    "PatientInfo",
    "SeriesInfo",
    "SkippedFile",
    "TagRow",
    "Volume",
    "WindowPreset",
    "auto_window",
    "discover",
    "edge_labels",
    "iter_load",
    "load_series",
    "open_path",
    "presets_for",
    "read_tags",
    "write_series",
]

"""Heat map -> DICOM Parametric Map (float32 frames with a Real World Value Mapping).

One object per explanation method and class: frames are the maps of the explained slices,
``(n, y, x)`` float32 in the source slices' pixel grid with the raw range kept; each frame
references its source image (Derivation Image Sequence, written by highdicom) and carries the
source's plane position. The Real World Value Mapping names the quantity "class activation"
(:data:`CLASS_ACTIVATION`, unitless); the algorithm (name, version, weights sha256, demo flag)
is in Manufacturer Model Name, Software Versions (name and version), Device Serial Number (the
sha256), Content Description and each frame's Derivation Description.
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from viewer.io.results.common import (
    CLASS_ACTIVATION,
    NO_UNITS,
    AlgorithmInfo,
    DicomResultError,
    check_frames,
    declare_scheme,
    method_name,
)

#: Series numbers of the objects SliceWise writes (above the scanner's usual range).
PM_SERIES_NUMBER = 9001


def content_label(method: str, target: str) -> str:
    """A Content Label (CS, at most 16 characters of A-Z, 0-9 and _, starting with a letter and
    not ending with _, as highdicom checks): "GRADCAM_TUMOUR", "GRADCAM_T1_POST" (from "T1
    post-contrast": cut at 16, then the trailing "_" dropped)."""
    text = re.sub(r"_+", "_", re.sub(r"[^A-Z0-9_]", "_", f"{method}_{target}".upper()))
    text = text.lstrip("_0123456789")[:16].rstrip("_")
    return text or "MAP"


def parametric_map(maps: np.ndarray, sources: Sequence[Dataset], algorithm: AlgorithmInfo,
                   method: str, target: str, *, series_uid: str | None = None,
                   series_number: int = PM_SERIES_NUMBER, instance_number: int = 1) -> Dataset:
    """A Parametric Map of ``maps`` (float ``(n, y, x)``: one map per source slice, raw range).

    ``sources``: the ``n`` source images (one single-frame dataset per map, in the same order)
    or one multi-frame dataset of ``n`` frames. ``method`` ("gradcam", "occlusion", ...) and
    ``target`` (the class the maps explain) go into the labels. Raises DicomResultError when the
    maps and sources do not fit.
    """
    data = np.asarray(maps, dtype=np.float32)
    if data.ndim == 2:
        data = data[None]
    if data.ndim != 3 or data.shape[0] == 0:
        raise DicomResultError("", f"maps must be (n, y, x), not shape {data.shape}")
    check_frames(sources, data.shape[0])
    first = sources[0]
    if (int(first.Rows), int(first.Columns)) != data.shape[1:]:
        raise DicomResultError(str(getattr(first, "filename", "")),
                               f"maps of {data.shape[2]}x{data.shape[1]} pixels do not match the "
                               f"source images of {first.Columns}x{first.Rows}")
    finite = data[np.isfinite(data)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    what = f"{method_name(method)} class activation map for class '{target}'"
    mapping = hd.pm.RealWorldValueMapping(
        lut_label=content_label(method, target), lut_explanation=what[:64],
        unit=NO_UNITS, value_range=(lo, hi if hi > lo else lo + 1.0),
        slope=1.0, intercept=0.0, quantity_definition=CLASS_ACTIVATION)
    width = max(hi - lo, 1e-6)
    pm = hd.pm.ParametricMap(
        source_images=list(sources), pixel_array=data,
        series_instance_uid=series_uid or hd.UID(), series_number=series_number,
        sop_instance_uid=hd.UID(), instance_number=instance_number,
        manufacturer="SliceWise", manufacturer_model_name=f"SliceWise {algorithm.name}"[:64],
        software_versions=algorithm.software_versions(),
        device_serial_number=(algorithm.sha256 or "unknown")[:64],
        contains_recognizable_visual_features=False,
        real_world_value_mappings=[mapping],
        voi_lut_transformations=[hd.VOILUTTransformation(
            window_center=lo + width / 2.0, window_width=width,
            window_explanation="map range", voi_lut_function="LINEAR_EXACT")],
        content_label=content_label(method, target),
        content_description=f"{method_name(method)} '{target}' {algorithm.label}"[:64],
        content_creator_name=None,
    )
    pm.SeriesDescription = (f"AI {method_name(method)} {target} ({algorithm.name}"
                            + (", demo)" if algorithm.demo else ")"))[:64]
    # General Series Laterality (Type 2C): the source's, else empty (unknown).
    pm.Laterality = str(first.get("Laterality", "") or "")
    statement = algorithm.statement(what)
    for frame in pm.PerFrameFunctionalGroupsSequence:
        for item in frame.get("DerivationImageSequence", []):
            item.DerivationDescription = statement[:1024]
    declare_scheme(pm)
    return pm


def write_parametric_map(path: str | os.PathLike[str], maps: np.ndarray, sources: Sequence[Dataset],
                         algorithm: AlgorithmInfo, method: str, target: str, **kwargs) -> Path:
    """Writes :func:`parametric_map` to ``path`` (a file) and returns it."""
    pm = parametric_map(maps, sources, algorithm, method, target, **kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.save_as(path, enforce_file_format=True)
    return path

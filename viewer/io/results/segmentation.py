"""Thresholded heat map -> DICOM Segmentation of FRACTIONAL type (PROBABILITY).

For viewers that show SEG but not Parametric Maps. One segment, "evidence for <class>": each
frame holds the caller's fraction 0..1 per pixel (SliceWise: the map normalised by its positive
maximum on that slice, 0 below the display threshold), stored as 0..255
(MaximumFractionalValue 255). Frames reference their source images; every explained slice gets
a frame, also when nothing is above the threshold. The segment's Algorithm Identification names
the model, its version, and as parameters the weights' sha256, the demo flag, the explanation
method and the threshold.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from viewer.io.results.common import (
    AlgorithmInfo,
    DicomResultError,
    check_frames,
    declare_scheme,
    local_code,
    method_name,
)
from viewer.io.results.parametric_map import content_label

SEG_SERIES_NUMBER = 9002
MAX_FRACTION = 255


def fractional_segmentation(fraction: np.ndarray, sources: Sequence[Dataset], algorithm: AlgorithmInfo,
                            method: str, target: str, threshold: float, *,
                            series_uid: str | None = None, series_number: int = SEG_SERIES_NUMBER,
                            instance_number: int = 1) -> Dataset:
    """A FRACTIONAL (PROBABILITY) Segmentation of ``fraction`` (float ``(n, y, x)`` in 0..1, one
    frame per source slice; NaN counts as 0). ``sources`` as for the Parametric Map: ``n``
    single-frame images or one multi-frame image of ``n`` frames. ``threshold``: the fraction
    of the map's maximum below which the caller set 0 (recorded as a parameter)."""
    data = np.nan_to_num(np.asarray(fraction, dtype=np.float32), nan=0.0)
    if data.ndim == 2:
        data = data[None]
    if data.ndim != 3 or data.shape[0] == 0:
        raise DicomResultError("", f"fractions must be (n, y, x), not shape {data.shape}")
    if data.min() < 0.0 or data.max() > 1.0:
        raise DicomResultError("", "fractions must lie in 0..1")
    check_frames(sources, data.shape[0])
    first = sources[0]
    if (int(first.Rows), int(first.Columns)) != data.shape[1:]:
        raise DicomResultError(str(getattr(first, "filename", "")),
                               f"maps of {data.shape[2]}x{data.shape[1]} pixels do not match the "
                               f"source images of {first.Columns}x{first.Rows}")
    family = codes.cid7162.ArtificialIntelligence
    algorithm_id = hd.AlgorithmIdentificationSequence(
        name=algorithm.name, family=family, version=algorithm.version, source="SliceWise",
        parameters=algorithm.parameters(**{"explanation method": method_name(method),
                                           "threshold": f"{threshold:.3g} of the map maximum",
                                           "class": target}))
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label=f"{method_name(method)} evidence for {target}"[:64],
        segmented_property_category=local_code("CAM-REGION", "Class activation region"),
        segmented_property_type=local_code(f"EV-{target}", f"Evidence for class {target}"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=algorithm_id)
    seg = hd.seg.Segmentation(
        source_images=list(sources), pixel_array=data,
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        segment_descriptions=[description],
        series_instance_uid=series_uid or hd.UID(), series_number=series_number,
        sop_instance_uid=hd.UID(), instance_number=instance_number,
        manufacturer="SliceWise", manufacturer_model_name=f"SliceWise {algorithm.name}"[:64],
        software_versions=algorithm.software_versions(),
        device_serial_number=(algorithm.sha256 or "unknown")[:64],
        fractional_type=hd.seg.SegmentationFractionalTypeValues.PROBABILITY,
        max_fractional_value=MAX_FRACTION, omit_empty_frames=False,
        content_label=content_label(method, target),
        content_description=f"{method_name(method)} '{target}' {algorithm.label}"[:64],
    )
    seg.SeriesDescription = (f"AI {method_name(method)} {target} SEG ({algorithm.name}"
                             + (", demo)" if algorithm.demo else ")"))[:64]
    statement = algorithm.statement(f"Regions of {method_name(method)} evidence for class '{target}'")
    for frame in seg.PerFrameFunctionalGroupsSequence:
        for item in frame.get("DerivationImageSequence", []):
            item.DerivationDescription = statement[:1024]
    declare_scheme(seg)
    return seg


def write_fractional_segmentation(path: str | os.PathLike[str], fraction: np.ndarray,
                                  sources: Sequence[Dataset], algorithm: AlgorithmInfo, method: str,
                                  target: str, threshold: float, **kwargs) -> Path:
    """Writes :func:`fractional_segmentation` to ``path`` and returns it."""
    seg = fractional_segmentation(fraction, sources, algorithm, method, target, threshold, **kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(path, enforce_file_format=True)
    return path

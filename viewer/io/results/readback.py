"""Read back Parametric Maps and Segmentations as heat-map overlays on the series they refer to.

Made by SliceWise or by another tool. :func:`find_overlays` lists, from a discovery result, the
PM / SEG objects and the series each references (header reads only); :func:`read_overlay`
decodes one into float32 frames (PM: real-world values through its Real World Value Mapping;
SEG: fraction 0..1 per segment, BINARY segments 0 / 1); :func:`overlay_stack` lays those frames
on a series' slices as ``(z, y, x)`` float32 with NaN where the object has no frame, matching
frames to slices by the source image they reference (SOP Instance UID and frame number), else by
plane position in the same frame of reference.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from viewer.io.records import DiscoveryResult
from viewer.io.results.errors import DicomResultError

PARAMETRIC_MAP = "1.2.840.10008.5.1.4.1.1.30"
SEGMENTATION = "1.2.840.10008.5.1.4.1.1.66.4"
KINDS = {PARAMETRIC_MAP: "parametric map", SEGMENTATION: "segmentation"}
#: Plane positions closer than this (mm) are the same slice.
POSITION_TOLERANCE_MM = 0.05

SliceRef = tuple[str, "int | None"]  # (SOP Instance UID, 1-based frame number or None)


@dataclass(frozen=True)
class OverlayRef:
    """A PM or SEG file found beside the images: ``kind`` ("parametric map" or
    "segmentation"), ``referenced_series`` (SeriesInstanceUIDs it refers to), ``label`` (content
    label) and ``description`` (series description) for menus."""

    path: str
    kind: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    referenced_series: tuple[str, ...]
    label: str = ""
    description: str = ""


@dataclass(frozen=True, eq=False)
class OverlayFrames:
    """Decoded frames of one overlay: ``frames`` float32 ``(n, y, x)`` (PM: real-world values;
    SEG: fraction 0..1), each frame's source ``refs`` and plane ``positions`` (LPS mm or None),
    the ``frame_of_reference`` UID, ``name`` (PM content label / segment label) and ``unit``."""

    ref: OverlayRef
    frames: np.ndarray
    refs: tuple[SliceRef | None, ...]
    positions: tuple[tuple[float, float, float] | None, ...]
    frame_of_reference: str
    name: str
    unit: str = ""


def _header(path: str) -> Dataset | None:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # noqa: BLE001 - not DICOM or damaged: not an overlay
        return None


def overlay_ref(path: str, ds: Dataset | None = None) -> OverlayRef | None:
    """The :class:`OverlayRef` of ``path`` when it is a PM or SEG, else None."""
    ds = ds if ds is not None else _header(path)
    if ds is None:
        return None
    kind = KINDS.get(str(ds.get("SOPClassUID", "")))
    if kind is None:
        return None
    series = [str(i.get("SeriesInstanceUID", "")) for i in ds.get("ReferencedSeriesSequence", [])]
    for study in ds.get("StudiesContainingOtherReferencedInstancesSequence", []):
        series += [str(i.get("SeriesInstanceUID", "")) for i in study.get("ReferencedSeriesSequence", [])]
    return OverlayRef(path=str(path), kind=kind, sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
                      series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
                      study_instance_uid=str(ds.get("StudyInstanceUID", "")),
                      referenced_series=tuple(dict.fromkeys(s for s in series if s)),
                      label=str(ds.get("ContentLabel", "") or ""),
                      description=str(ds.get("SeriesDescription", "") or ""))


def find_overlays(result: DiscoveryResult) -> tuple[OverlayRef, ...]:
    """PM and SEG objects among a discovery result's series and skipped files (header reads:
    one per series and one per skipped file)."""
    found: list[OverlayRef] = []
    for info in result.series:
        for path in dict.fromkeys(info.files):
            ref = overlay_ref(path)
            if ref is None:
                break  # the series' first file says it holds images
            found.append(ref)
    for skipped in result.skipped:
        ref = overlay_ref(skipped.path) if os.path.isfile(skipped.path) else None
        if ref is not None:
            found.append(ref)
    unique = {r.sop_instance_uid or r.path: r for r in found}
    return tuple(unique.values())


def overlays_for(series_instance_uid: str, refs: Sequence[OverlayRef]) -> list[OverlayRef]:
    """The overlays among ``refs`` that reference the series ``series_instance_uid``."""
    return [r for r in refs if series_instance_uid in r.referenced_series]


def _first(item: Dataset | None, seq: str) -> Dataset | None:
    value = item.get(seq) if item is not None else None
    return value[0] if value else None


def _frame_group(ds: Dataset, index: int, seq: str) -> Dataset | None:
    per = ds.get("PerFrameFunctionalGroupsSequence")
    found = _first(per[index], seq) if per is not None and index < len(per) else None
    return found if found is not None else _first(_first(ds, "SharedFunctionalGroupsSequence"), seq)


def _source_ref(ds: Dataset, index: int) -> SliceRef | None:
    per = ds.get("PerFrameFunctionalGroupsSequence")
    groups = per[index] if per is not None and index < len(per) else None
    for deriv in (groups.get("DerivationImageSequence", []) if groups is not None else []):
        for src in deriv.get("SourceImageSequence", []):
            uid = str(src.get("ReferencedSOPInstanceUID", ""))
            if uid:
                frame = src.get("ReferencedFrameNumber")
                if isinstance(frame, (list, tuple, pydicom.multival.MultiValue)):
                    frame = frame[0] if frame else None
                return uid, int(frame) if frame not in (None, "") else None
    return None


def _position(ds: Dataset, index: int) -> tuple[float, float, float] | None:
    plane = _frame_group(ds, index, "PlanePositionSequence")
    ipp = plane.get("ImagePositionPatient") if plane is not None else None
    return tuple(float(v) for v in ipp) if ipp is not None and len(ipp) == 3 else None  # type: ignore


def _real_world(ds: Dataset, index: int, stored: np.ndarray) -> tuple[np.ndarray, str]:
    """PM frame values through its Real World Value Mapping (slope/intercept or LUT)."""
    group = _frame_group(ds, index, "RealWorldValueMappingSequence")
    if group is None:
        return stored.astype(np.float32), ""
    units = _first(group, "MeasurementUnitsCodeSequence")
    unit = str(units.get("CodeMeaning", "")) if units is not None else ""
    if "RealWorldValueLUTData" in group:
        lut = np.asarray(group.RealWorldValueLUTData, np.float64)
        first = float(group.get("RealWorldValueFirstValueMapped", 0))
        idx = np.clip(np.rint(stored - first), 0, len(lut) - 1).astype(np.int64)
        return lut[idx].astype(np.float32), unit
    slope = float(group.get("RealWorldValueSlope", 1.0))
    intercept = float(group.get("RealWorldValueIntercept", 0.0))
    return (stored.astype(np.float64) * slope + intercept).astype(np.float32), unit


def read_overlay(ref: OverlayRef, segment: int | None = None) -> OverlayFrames:
    """Decodes ``ref``'s frames. SEG: the frames of ``segment`` (default: the first segment)."""
    try:
        ds = pydicom.dcmread(ref.path)
        pixels = np.asarray(ds.pixel_array)
    except Exception as exc:  # noqa: BLE001 - one message for every way a decode fails
        raise DicomResultError(ref.path, f"cannot decode the {ref.kind} ({exc})") from exc
    n = int(ds.get("NumberOfFrames", 1) or 1)
    pixels = pixels.reshape((n, int(ds.Rows), int(ds.Columns)) + pixels.shape[(3 if n > 1 else 2):])
    if pixels.ndim != 3:
        raise DicomResultError(ref.path, f"{ref.kind} with {pixels.ndim - 1}-D frames is not supported")
    indices = list(range(n))
    name, unit = ref.label, ""
    if ref.kind == "segmentation":
        numbers = [int(_frame_group(ds, i, "SegmentIdentificationSequence").ReferencedSegmentNumber)
                   for i in indices]
        wanted = segment if segment is not None else (min(numbers) if numbers else 1)
        indices = [i for i in indices if numbers[i] == wanted]
        seg = next((s for s in ds.get("SegmentSequence", []) if int(s.SegmentNumber) == wanted), None)
        name = str(seg.get("SegmentLabel", "")) if seg is not None else name
        scale = float(ds.get("MaximumFractionalValue", 1)) \
            if str(ds.get("SegmentationType", "")) == "FRACTIONAL" else 1.0
        frames = pixels[indices].astype(np.float32) / np.float32(scale)
    else:
        values = [_real_world(ds, i, pixels[i]) for i in indices]
        frames = np.stack([v for v, _ in values]) if values else pixels.astype(np.float32)
        unit = values[0][1] if values else ""
    return OverlayFrames(ref=ref, frames=np.ascontiguousarray(frames, np.float32),
                         refs=tuple(_source_ref(ds, i) for i in indices),
                         positions=tuple(_position(ds, i) for i in indices),
                         frame_of_reference=str(ds.get("FrameOfReferenceUID", "")),
                         name=name, unit=unit)


def slice_refs(files: Sequence[str], frame_indices: Sequence[int] = ()) -> list[SliceRef]:
    """(SOP Instance UID, frame number) of each slice of a series, from its slice files in slice
    order (a multi-frame file repeats once per frame; ``frame_indices`` are the series' 0-based
    frames in such a file, when it holds several image sets). Frame number None: single-frame."""
    counts = Counter(files)
    seen: Counter[str] = Counter()
    uids: dict[str, str] = {}
    out: list[SliceRef] = []
    for f in files:
        if f not in uids:
            ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
            uids[f] = str(ds.get("SOPInstanceUID", ""))
        occurrence = seen[f]
        seen[f] += 1
        if counts[f] == 1 and not frame_indices:
            out.append((uids[f], None))
        else:
            frame = frame_indices[occurrence] if occurrence < len(frame_indices) else occurrence
            out.append((uids[f], frame + 1))
    return out


def _same(a: SliceRef | None, b: SliceRef) -> bool:
    return a is not None and a[0] == b[0] and (a[1] or 1) == (b[1] or 1)


def overlay_stack(overlay: OverlayFrames, shape: tuple[int, int, int], refs: Sequence[SliceRef],
                  positions: np.ndarray | None = None, frame_of_reference: str = "") -> np.ndarray:
    """(z, y, x) float32 of ``overlay`` on a series of ``shape`` whose slices have source
    ``refs`` (see :func:`slice_refs`) and LPS ``positions`` ((z, 3) mm, for objects that do not
    reference the images frame by frame); NaN where the object has no frame. Raises
    DicomResultError when the frame size differs from the series' or no frame fits a slice."""
    z, rows, cols = shape
    if overlay.frames.shape[1:] != (rows, cols):
        raise DicomResultError(overlay.ref.path, f"its frames are {overlay.frames.shape[2]}x"
                               f"{overlay.frames.shape[1]} pixels, the series' slices {cols}x{rows}")
    out = np.full((z, rows, cols), np.nan, np.float32)
    by_ref = {(r[0], r[1] or 1): k for k, r in enumerate(refs)}
    placed = 0
    for frame, ref, pos in zip(overlay.frames, overlay.refs, overlay.positions):
        k = by_ref.get((ref[0], ref[1] or 1)) if ref is not None else None
        if k is None and pos is not None and positions is not None and (
                not frame_of_reference or not overlay.frame_of_reference
                or frame_of_reference == overlay.frame_of_reference):
            dist = np.linalg.norm(np.asarray(positions, float) - np.asarray(pos, float), axis=1)
            best = int(np.argmin(dist)) if dist.size else -1
            k = best if best >= 0 and dist[best] <= POSITION_TOLERANCE_MM else None
        if k is not None and 0 <= k < z:
            out[k] = frame
            placed += 1
    if placed == 0:
        raise DicomResultError(overlay.ref.path, f"none of the {overlay.ref.kind}'s frames belongs "
                               "to a slice of this series")
    return out

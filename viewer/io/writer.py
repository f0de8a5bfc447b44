"""Synthetic DICOM writer (pydicom) for test fixtures, the sample study and benchmarks.

Writes one single-frame file per slice of a ``(z, y, x)`` array, valid enough for SimpleITK,
pydicom and other viewers: file meta, CT/MR Image Storage SOP classes, fresh UIDs, instance
numbers, ImagePositionPatient / ImageOrientationPatient, SliceLocation, FrameOfReferenceUID.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import dcmwrite
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MRImageStorage,
    RLELossless,
    generate_uid,
)

from viewer.io.records import PatientInfo

_TRANSFER_SYNTAXES = {
    "explicit little endian": ExplicitVRLittleEndian,
    "implicit little endian": ImplicitVRLittleEndian,
    "explicit big endian": ExplicitVRBigEndian,
    "rle": RLELossless,
}
CT_INTERCEPT = -1024.0


def _stored_values(
    voxels: np.ndarray, modality: str
) -> tuple[np.ndarray, float, float, int]:
    """Integer stored values, slope, intercept and PixelRepresentation for float voxels."""
    if modality == "CT":
        stored = np.rint(voxels - CT_INTERCEPT)
        return np.clip(stored, -32768, 32767).astype(np.int16), 1.0, CT_INTERCEPT, 1
    lo, hi = float(np.min(voxels)), float(np.max(voxels))
    integral = bool(np.all(np.equal(np.mod(voxels, 1), 0)))
    if integral and lo >= 0 and hi <= 65535:
        return voxels.astype(np.uint16), 1.0, 0.0, 0
    if integral and lo >= -32768 and hi <= 32767:
        return voxels.astype(np.int16), 1.0, 0.0, 1
    # Fractional (or out of range): map [lo, hi] onto 0..4095 with a slope, as scanners do.
    slope = (hi - lo) / 4095.0 if hi > lo else 1.0
    stored = np.rint((voxels - lo) / slope)
    return stored.astype(np.uint16), float(slope), lo, 0


def _ds_str(value: float) -> str:
    """A DS value (at most 16 characters)."""
    text = f"{value:.10g}"
    return text if len(text) <= 16 else f"{value:.8g}"


def write_series(
    folder: str | Path,
    voxels: np.ndarray,
    *,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    direction: np.ndarray | None = None,
    modality: str = "MR",
    series_description: str = "",
    study_description: str = "",
    patient: PatientInfo | None = None,
    window: tuple[float, float] | None = None,
    positions: Sequence[tuple[float, float, float]] | None = None,
    series_uid: str | None = None,
    study_uid: str | None = None,
    series_number: int = 1,
    photometric: str = "MONOCHROME2",
    transfer_syntax: str = "explicit little endian",
    file_prefix: str = "IM",
    attributes: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``voxels`` ``(z, y, x)`` (physical units: HU for CT) as one file per slice.

    ``spacing``: ``(z, y, x)`` mm. ``origin``: LPS ``(x, y, z)`` mm of voxel (0, 0, 0).
    ``direction``: 3x3, columns are the LPS unit vectors of i (column), j (row) and k (slice).
    ``positions`` overrides ImagePositionPatient per slice (for geometry edge cases).
    ``window``: (centre, width) written as WindowCenter/WindowWidth.
    CT is stored as int16 with RescaleIntercept -1024, slope 1; MR as uint16/int16, with a
    slope when values are fractional. ``photometric``: MONOCHROME2, MONOCHROME1 or RGB (then
    ``voxels`` is ``(z, y, x, 3)`` in 0..255). ``transfer_syntax``: "explicit little endian",
    "implicit little endian", "explicit big endian" or "rle".
    ``attributes``: further elements by DICOM keyword, the same in every file (e.g. an MR
    series' ScanningSequence, RepetitionTime and EchoTime).
    Returns the written paths in slice order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    modality = modality.upper()
    if modality not in ("CT", "MR"):
        raise ValueError(f"modality must be 'CT' or 'MR', not {modality!r}")
    try:
        ts_uid = _TRANSFER_SYNTAXES[transfer_syntax.lower()]
    except KeyError:
        raise ValueError(f"unknown transfer syntax {transfer_syntax!r}; "
                         f"choose one of {sorted(_TRANSFER_SYNTAXES)}") from None
    voxels = np.asarray(voxels)
    rgb = photometric.upper() == "RGB"
    if voxels.ndim != (4 if rgb else 3):
        raise ValueError("voxels must be (z, y, x)" + (", 3)" if rgb else ""))
    n, rows, cols = voxels.shape[:3]
    d = np.eye(3) if direction is None else np.asarray(direction, dtype=float)
    sz, sy, sx = (float(v) for v in spacing)
    if positions is not None and len(positions) != n:
        raise ValueError(f"{len(positions)} positions for {n} slices")
    patient = patient or PatientInfo(name="Synthetic^Phantom", patient_id="SW0001")
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    frame_uid = generate_uid()
    sop_class = CTImageStorage if modality == "CT" else MRImageStorage
    if rgb:
        stored_all = np.clip(np.rint(voxels), 0, 255).astype(np.uint8)
        slope, intercept, signed = 1.0, 0.0, 0
    else:
        stored_all, slope, intercept, signed = _stored_values(voxels.astype(np.float64), modality)
    now = _dt.datetime.now()
    paths: list[Path] = []
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ts_uid
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        path = folder / f"{file_prefix}{k + 1:05d}.dcm"
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.Modality = modality
        ds.StudyDate = ds.SeriesDate = now.strftime("%Y%m%d")
        ds.StudyTime = ds.SeriesTime = now.strftime("%H%M%S")
        ds.StudyDescription = study_description
        ds.SeriesDescription = series_description
        ds.SeriesNumber = series_number
        ds.InstanceNumber = k + 1
        ds.PatientName = patient.name
        ds.PatientID = patient.patient_id
        ds.PatientBirthDate = patient.birth_date
        ds.PatientSex = patient.sex
        ds.Manufacturer = "SliceWise synthetic"
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        for keyword, value in (attributes or {}).items():
            setattr(ds, keyword, value)
        if positions is not None:
            pos = np.asarray(positions[k], dtype=float)
        else:
            pos = np.asarray(origin, dtype=float) + d[:, 2] * (k * sz)
        ds.ImagePositionPatient = [_ds_str(v) for v in pos]
        ds.ImageOrientationPatient = [_ds_str(v) for v in (*d[:, 0], *d[:, 1])]
        ds.SliceLocation = _ds_str(float(pos @ d[:, 2]))
        ds.SliceThickness = _ds_str(sz)
        ds.PixelSpacing = [_ds_str(sy), _ds_str(sx)]
        ds.Rows, ds.Columns = rows, cols
        ds.PhotometricInterpretation = photometric.upper()
        if rgb:
            ds.SamplesPerPixel = 3
            ds.PlanarConfiguration = 0
            ds.BitsAllocated = ds.BitsStored = 8
            ds.HighBit = 7
        else:
            ds.SamplesPerPixel = 1
            ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
            ds.RescaleSlope = _ds_str(slope)
            ds.RescaleIntercept = _ds_str(intercept)
            if modality == "CT":
                ds.RescaleType = "HU"
        ds.PixelRepresentation = signed
        if window is not None:
            ds.WindowCenter = _ds_str(window[0])
            ds.WindowWidth = _ds_str(window[1])
        pixels = np.ascontiguousarray(stored_all[k])
        if ts_uid == RLELossless:
            ds.compress(RLELossless, pixels, encoding_plugin="pydicom")
        else:
            if ts_uid == ExplicitVRBigEndian:
                pixels = pixels.astype(pixels.dtype.newbyteorder(">"))
            ds.PixelData = pixels.tobytes()
        if ts_uid == ExplicitVRBigEndian:
            dcmwrite(path, ds, implicit_vr=False, little_endian=False, enforce_file_format=True)
        else:
            ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


__all__ = ["write_series"]

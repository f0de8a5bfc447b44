"""Pixel decoding: SimpleITK (GDCM) first, pydicom as the fallback, errors a reader understands.

Every reader returns float32 arrays ``(frames, y, x)`` (or ``(frames, y, x, 3)`` for RGB) with the
modality rescale (slope/intercept) applied. No raw SimpleITK ``RuntimeError`` leaves this module:
failures become ``DicomLoadError`` naming the file and the reason.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pydicom
import SimpleITK as sitk

from viewer.io.errors import DicomLoadError
from viewer.io.headers import UnreadableFile, pixel_data_problem, read_dataset

#: Transfer syntaxes SimpleITK's GDCM build and pydicom (with pylibjpeg) cannot decode.
UNSUPPORTED_SYNTAXES = {
    "1.2.840.10008.1.2.4.100": "MPEG-2 video", "1.2.840.10008.1.2.4.101": "MPEG-2 video",
    "1.2.840.10008.1.2.4.102": "MPEG-4 video", "1.2.840.10008.1.2.4.103": "MPEG-4 video",
    "1.2.840.10008.1.2.4.104": "MPEG-4 video", "1.2.840.10008.1.2.4.105": "MPEG-4 video",
    "1.2.840.10008.1.2.4.106": "MPEG-4 video", "1.2.840.10008.1.2.4.107": "HEVC video",
    "1.2.840.10008.1.2.4.108": "HEVC video", "1.2.840.10008.1.2.4.110": "JPEG XL",
    "1.2.840.10008.1.2.4.111": "JPEG XL", "1.2.840.10008.1.2.4.112": "JPEG XL",
    "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000",
    "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000",
    "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
    "1.2.840.10008.1.2.1.99": "Deflated little endian (compressed header)",
}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def _output_type(rgb: bool) -> int:
    return sitk.sitkVectorFloat32 if rgb else sitk.sitkFloat32


def diagnose(path: str, detail: str = "") -> str:
    """Why the pixels of ``path`` cannot be read, in words a reader can act on."""
    try:
        header = read_dataset(path)
    except UnreadableFile as exc:
        return str(exc.args[0])
    ts = str(getattr(getattr(header, "file_meta", None), "TransferSyntaxUID", "") or "")
    if ts in UNSUPPORTED_SYNTAXES:
        return (f"the images are compressed as {UNSUPPORTED_SYNTAXES[ts]} (transfer syntax "
                f"{ts}), which SliceWise cannot decode; export the series uncompressed")
    problem = pixel_data_problem(path)
    if problem is not None:  # missing or cut short, judged from the bytes on disk
        return problem
    try:
        full = pydicom.dcmread(path, force=True, defer_size="1 KB")
        present = [kw for kw in _PIXEL_KEYWORDS if kw in full]
    except Exception:  # noqa: BLE001 - reading past the header failed: damaged pixel data
        present = ["PixelData"]
        full = None
    if not present:
        return "the file has no pixel data (no image is stored in it)"
    try:
        compressed = pydicom.uid.UID(ts).is_compressed
    except ValueError:  # empty or not a transfer syntax UID: judge the data as native
        compressed = False
    if full is not None and present[0] == "PixelData" and not compressed:
        try:
            expected = (int(full.Rows) * int(full.Columns) * int(full.get("NumberOfFrames") or 1)
                        * int(full.get("SamplesPerPixel") or 1) * int(full.BitsAllocated) // 8)
            actual = len(full.PixelData)
            if actual < expected:
                return (f"the image data is truncated ({actual} of {expected} bytes): the file "
                        "was not copied or written completely")
        except Exception:  # noqa: BLE001 - fall through to the generic reason
            pass
    name = pydicom.uid.UID(ts).name if ts else "unknown"
    first = detail.strip().splitlines()[-1] if detail.strip() else ""
    return (f"the image data could not be decoded (transfer syntax {name}"
            + (f"; {first}" if first else "") + ")")


def _is_rgb(ds: pydicom.Dataset) -> bool:
    return int(ds.get("SamplesPerPixel") or 1) == 3


def frame_rescales(ds: pydicom.Dataset) -> list[tuple[float, float]]:
    """(slope, intercept) of each frame: per-frame functional group, shared group, then the
    top-level RescaleSlope/RescaleIntercept, else (1, 0)."""
    frames = int(ds.get("NumberOfFrames") or 1)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared = ds.get("SharedFunctionalGroupsSequence")
    top = (ds.get("RescaleSlope"), ds.get("RescaleIntercept"))
    pairs = []
    for k in range(frames):
        slope, intercept = top
        for groups, index in ((per_frame, k), (shared, 0)):
            if groups is not None and len(groups) > index:
                pvt = groups[index].get("PixelValueTransformationSequence")
                if pvt:
                    slope = pvt[0].get("RescaleSlope", slope)
                    intercept = pvt[0].get("RescaleIntercept", intercept)
                    break
        pairs.append((float(slope) if slope not in (None, "") else 1.0,
                      float(intercept) if intercept not in (None, "") else 0.0))
    return pairs


def _apply_rescale_pydicom(ds: pydicom.Dataset, arr: np.ndarray) -> np.ndarray:
    """Stored values -> physical values (float32), per frame for enhanced multi-frame files."""
    frames = int(ds.get("NumberOfFrames") or 1)
    out = np.asarray(arr, dtype=np.float64).reshape((frames,) + arr.shape[-2:])
    for k, (slope, intercept) in enumerate(frame_rescales(ds)):
        if slope != 1.0 or intercept != 0.0:
            out[k] = out[k] * slope + intercept
    return out.astype(np.float32)


def read_with_pydicom(path: str) -> np.ndarray:
    """Decode one file with pydicom: float32 ``(frames, y, x[, 3])``, rescale applied.
    Raises ``DicomLoadError`` with the reason."""
    try:
        ds = pydicom.dcmread(path, force=True)
        meta = ds.file_meta
        if not str(meta.get("TransferSyntaxUID", "") or "").strip("\x00 ") and \
                ds.original_encoding[0] is not None:
            # No transfer syntax in the file meta: decode as the header was read (the series
            # carries the note from viewer.io.headers).
            meta.TransferSyntaxUID = {(True, True): pydicom.uid.ImplicitVRLittleEndian,
                                      (False, True): pydicom.uid.ExplicitVRLittleEndian,
                                      }.get(tuple(ds.original_encoding),
                                            pydicom.uid.ExplicitVRBigEndian)
        arr = ds.pixel_array
    except Exception as exc:  # noqa: BLE001 - any decoder failure is reported with a reason
        raise DicomLoadError(path, diagnose(path, str(exc))) from exc
    except BaseException as exc:  # pyo3's PanicException (Rust RLE decoder) is no Exception
        if type(exc).__name__ != "PanicException":
            raise
        raise DicomLoadError(path, diagnose(path, f"the decoder failed: {exc}")) from exc
    try:
        if _is_rgb(ds):
            frames = int(ds.get("NumberOfFrames") or 1)
            return np.ascontiguousarray(arr.reshape((frames,) + arr.shape[-3:]),
                                        dtype=np.float32)
        return np.ascontiguousarray(_apply_rescale_pydicom(ds, arr))
    except Exception as exc:  # noqa: BLE001 - frames, size or rescale disagree or unreadable
        raise DicomLoadError(path, f"the decoded image ({' x '.join(map(str, arr.shape))}) "
                                   "does not match the header's NumberOfFrames, Rows, Columns "
                                   f"or rescale values ({exc})") from exc


def read_file(path: str, rgb: bool = False) -> np.ndarray:
    """Decode one file (all frames) with SimpleITK: float32 ``(frames, y, x[, 3])``, rescaled.
    Raises ``DicomLoadError`` (never a raw SimpleITK error)."""
    reader = sitk.ImageFileReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileName(str(path))
    reader.SetOutputPixelType(_output_type(rgb))
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise DicomLoadError(str(path), diagnose(str(path), str(exc))) from exc
    arr = sitk.GetArrayFromImage(image)
    if arr.ndim == (3 if rgb else 2):
        arr = arr[np.newaxis]
    return arr


def read_files_into(paths: Sequence[str], out: np.ndarray, rgb: bool = False) -> None:
    """Decode several single-frame files of one size with one SimpleITK series read, straight
    into ``out`` (``(len(paths), y, x[, 3])`` float32). Raises ``DicomLoadError`` naming the
    first file when the batch fails (the caller then reads file by file)."""
    reader = sitk.ImageSeriesReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileNames([str(p) for p in paths])
    reader.SetOutputPixelType(_output_type(rgb))
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise DicomLoadError(str(paths[0]), diagnose(str(paths[0]), str(exc))) from exc
    view = sitk.GetArrayViewFromImage(image)
    if view.shape != out.shape:
        raise DicomLoadError(str(paths[0]), f"images of different sizes in one batch "
                                            f"({view.shape} instead of {out.shape})")
    out[...] = view


def file_name(path: str) -> str:
    """Short file name for messages."""
    return Path(path).name

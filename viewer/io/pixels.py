"""Pixel reading entry points and the reasons given when pixels cannot be read.

Loading decodes with ``viewer.io.decode`` (pydicom's safe decoders, GDCM only in a worker
process) and ``viewer.io.fast_read`` (uncompressed slices); the values kept are those defined in
``viewer.io.colour``. ``read_file`` (SimpleITK) is kept for comparisons only: SimpleITK inverts
MONOCHROME1, ignores palettes and Modality LUT Sequences, so the loader does not use it.
Every reader returns float32 ``(frames, y, x)`` (or ``(frames, y, x, 3)`` for RGB); failures
become ``DicomLoadError`` naming the file and the reason.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk

from viewer.io.colour import frame_rescales  # noqa: F401 - re-exported
from viewer.io.dataset_read import UnreadableFile, read_dataset
from viewer.io.decode import decode_file
from viewer.io.errors import DicomLoadError
from viewer.io.pixel_check import pixel_data_problem

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


def read_with_pydicom(path: str) -> np.ndarray:
    """Decode one file with pydicom's safe decoders: float32 ``(frames, y, x[, 3])``, values as
    ``viewer.io.colour`` defines them. Raises ``DicomLoadError`` with the reason."""
    return decode_file(path).frames


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


def file_name(path: str) -> str:
    """Short file name for messages."""
    return Path(path).name

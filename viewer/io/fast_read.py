"""Uncompressed grey slices read straight into a preallocated volume slice.

For a single-frame MONOCHROME1/2 image stored uncompressed (implicit or explicit VR little
endian, explicit big endian) the header is parsed by pydicom up to the pixel data element, whose
value is then read with ``numpy.fromfile`` at its file offset, corrected for unused bits exactly
as pydicom does (shift left then right by BitsAllocated - BitsStored) and rescaled into the
float32 slice. The values are those of ``viewer.io.colour.grey_values`` on pydicom's decode.

``read_native_slice`` returns False when the file is not such an image (the caller then decodes
it with ``viewer.io.decode.decode_file``); it raises ``DicomLoadError`` when the file is such an
image but its data is short.
"""
from __future__ import annotations

import os

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from viewer.io.decode import check_claimed_size
from viewer.io.errors import DicomLoadError

_PIXEL_DATA = Tag(0x7FE0, 0x0010)
_BYTE_ORDER = {ImplicitVRLittleEndian: "<", ExplicitVRLittleEndian: "<", ExplicitVRBigEndian: ">"}
_UNDEFINED_LENGTH = 0xFFFFFFFF
#: Pixel data longer than this is left in the file while the header is parsed.
_DEFER = 4096


def _number(value: object, default: float) -> float | None:
    if value in (None, ""):
        return default
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def read_native_slice(path: str, out: np.ndarray) -> bool:
    """Fill ``out`` (float32 ``(y, x)``) with the modality values of ``path`` when it is an
    uncompressed single-frame grey image of that size; False when it is not (nothing
    written)."""
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER)
    except Exception:  # noqa: BLE001 - the general decoder reports the reason
        return False
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    order = _BYTE_ORDER.get(ts)  # type: ignore[call-overload]
    raw = ds._dict.get(_PIXEL_DATA)
    if order is None or raw is None or "ModalityLUTSequence" in ds:
        return False
    if str(ds.get("PhotometricInterpretation", "")).strip() not in ("MONOCHROME1",
                                                                      "MONOCHROME2"):
        return False
    rows, cols = ds.get("Rows"), ds.get("Columns")
    bits, stored = ds.get("BitsAllocated"), ds.get("BitsStored")
    signed = ds.get("PixelRepresentation")
    if (int(ds.get("NumberOfFrames") or 1) != 1 or int(ds.get("SamplesPerPixel") or 1) != 1
            or (rows, cols) != out.shape or bits not in (8, 16, 32) or signed not in (0, 1)
            or "PerFrameFunctionalGroupsSequence" in ds):
        return False
    slope = _number(ds.get("RescaleSlope"), 1.0)
    intercept = _number(ds.get("RescaleIntercept"), 0.0)
    if slope is None or intercept is None:
        return False
    if isinstance(raw, RawDataElement):
        length, offset, inline = raw.length, raw.value_tell, raw.value
    else:  # already converted (small element): the bytes are in memory
        length, offset, inline = len(raw.value or b""), 0, raw.value
    if length == _UNDEFINED_LENGTH:
        return False
    if inline is not None:
        length = len(inline)
    else:
        length = max(0, min(length, os.path.getsize(path) - offset))
    check_claimed_size(ds, path, length)
    dtype = np.dtype(f"{order}{'i' if signed else 'u'}{bits // 8}")
    count = rows * cols
    if inline is not None:
        values = np.frombuffer(inline, dtype=dtype, count=count)
    else:
        with open(path, "rb") as fh:
            fh.seek(offset)
            values = np.fromfile(fh, dtype=dtype, count=count)
    if values.size < count:
        raise DicomLoadError(path, f"the image data is truncated ({values.size * dtype.itemsize}"
                                   f" of {count * dtype.itemsize} bytes): the file was not "
                                   "copied or written completely")
    values = values.reshape(out.shape)
    stored = int(stored or bits)
    if stored < bits or not dtype.isnative:
        values = values.astype(dtype.newbyteorder("="))  # writable, native order
        if stored < bits:
            shift = bits - stored
            np.left_shift(values, shift, out=values)
            np.right_shift(values, shift, out=values)
    if slope == 1.0 and intercept == int(intercept) and bits < 32:
        out[...] = values
        if intercept:
            out += np.float32(intercept)
    else:
        out[...] = values.astype(np.float64) * slope + intercept
    return True

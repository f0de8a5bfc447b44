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
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from viewer.io.colour import usable_rescale
from viewer.io.decode import check_claimed_size
from viewer.io.errors import DicomLoadError
from viewer.io.header_walk import lengths_fit
from viewer.io.warnings_capture import library_messages

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


def _store(values: np.ndarray, dtype: np.dtype, bits: int, stored: int, slope: float,
           intercept: float, out: np.ndarray) -> None:
    """Stored values -> modality values in ``out``, as pydicom corrects and rescales them."""
    if stored < bits or not dtype.isnative:
        values = values.astype(dtype.newbyteorder("="))  # writable, native order
        if stored < bits:
            shift = bits - stored
            np.left_shift(values, shift, out=values)
            np.right_shift(values, shift, out=values)
    if slope == 1.0 and intercept == int(intercept) and bits < 32:
        np.add(values, np.float32(intercept), out=out, dtype=np.float32)
    else:
        out[...] = values.astype(np.float64) * slope + intercept


def read_native_slice(path: str, out: np.ndarray) -> bool:
    """Fill ``out`` (float32 ``(y, x)``) with the modality values of ``path`` when it is an
    uncompressed single-frame grey image of that size; False when it is not (nothing
    written)."""
    # pydicom warns about odd header values while converting them: discovery already turned
    # this header's warnings into notes, so here they only go to the log (never the console).
    with library_messages():
        plan = _native_plan(path, out.shape)
    if plan is None:
        return False
    dtype, offset, inline, bits, stored, slope, intercept = plan
    count = out.shape[0] * out.shape[1]
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
    _store(values.reshape(out.shape), dtype, bits, stored, slope, intercept, out)
    return True


def _native_plan(path: str, shape: tuple[int, ...]
                 ) -> tuple[np.dtype, int, bytes | None, int, int, float, float] | None:
    """(dtype, offset, inline bytes or None, bits, stored bits, slope, intercept) of an
    uncompressed single-frame grey image of ``shape``; None for any other file. Raises
    ``DicomLoadError`` when its data is shorter than its header says."""
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER)
    except Exception:  # noqa: BLE001 - the general decoder reports the reason
        return None
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    order = _BYTE_ORDER.get(ts)  # type: ignore[call-overload]
    raw = ds._dict.get(_PIXEL_DATA)
    if order is None or raw is None or "ModalityLUTSequence" in ds:
        return None
    try:
        if str(ds.get("PhotometricInterpretation", "")).strip() not in ("MONOCHROME1",
                                                                          "MONOCHROME2"):
            return None
        rows, cols = ds.get("Rows"), ds.get("Columns")
        bits, stored = ds.get("BitsAllocated"), ds.get("BitsStored")
        signed = ds.get("PixelRepresentation")
        frames, samples = int(ds.get("NumberOfFrames") or 1), int(ds.get("SamplesPerPixel") or 1)
        per_frame = "PerFrameFunctionalGroupsSequence" in ds
        slope = _number(ds.get("RescaleSlope"), 1.0)
        intercept = _number(ds.get("RescaleIntercept"), 0.0)
    except Exception:  # noqa: BLE001 - odd values: the general decoder reads (or refuses) it
        return None
    if (frames != 1 or samples != 1 or (rows, cols) != shape or bits not in (8, 16, 32)
            or signed not in (0, 1) or per_frame):
        return None
    if slope is None or intercept is None or not usable_rescale(slope, intercept, int(bits)):
        return None
    stored = int(stored or bits)
    if not 0 < stored <= bits:
        return None
    if isinstance(raw, RawDataElement):
        length, offset, inline = raw.length, raw.value_tell, raw.value
    else:  # already converted (small element): the bytes are in memory
        length, offset, inline = len(raw.value or b""), 0, raw.value
    if length == _UNDEFINED_LENGTH:
        return None
    if inline is not None:
        length = len(inline)
    else:
        length = max(0, min(length, os.path.getsize(path) - offset))
    check_claimed_size(ds, path, length)
    dtype = np.dtype(f"{order}{'i' if signed else 'u'}{bits // 8}")
    return dtype, offset, inline, int(bits), stored, slope, intercept


# --- batch layout from GDCM's header scanner -------------------------------------------------
# pydicom spends ~0.4 ms of Python per header; GDCM's C++ scanner reads the few tags below in
# ~0.08 ms. The pixel data element is then found at the end of the file (its tag and length are
# checked byte for byte); any file that does not fit goes through ``read_native_slice``.
_TS, _SAMPLES, _PHOTOMETRIC, _FRAMES = (0x0002, 0x0010), (0x0028, 0x0002), (0x0028, 0x0004), \
    (0x0028, 0x0008)
_ROWS, _COLUMNS, _BITS, _STORED, _SIGNED = (0x0028, 0x0010), (0x0028, 0x0011), \
    (0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0103)
_INTERCEPT, _SLOPE, _MODALITY_LUT, _PER_FRAME = (0x0028, 0x1052), (0x0028, 0x1053), \
    (0x0028, 0x3000), (0x5200, 0x9230)
_SCAN_TAGS = (_TS, _SAMPLES, _PHOTOMETRIC, _FRAMES, _ROWS, _COLUMNS, _BITS, _STORED, _SIGNED,
              _INTERCEPT, _SLOPE, _MODALITY_LUT, _PER_FRAME)


@dataclass(frozen=True)
class NativeLayout:
    """Where and how one uncompressed grey slice is stored: ``offset`` (bytes) of ``rows x
    columns`` values of ``dtype``, ``stored`` bits used, then ``slope``/``intercept``."""

    path: str
    offset: int
    dtype: np.dtype
    rows: int
    columns: int
    stored: int
    slope: float
    intercept: float


def _element_header(order: str, implicit: bool, length: int) -> tuple[bytes, ...]:
    """The bytes that must precede pixel data of ``length`` bytes at the end of a file."""
    if order == ">":
        tag = b"\x7f\xe0\x00\x10"
        return tuple(tag + vr + b"\x00\x00" + length.to_bytes(4, "big") for vr in (b"OW", b"OB"))
    tag = b"\xe0\x7f\x10\x00"
    if implicit:
        return (tag + length.to_bytes(4, "little"),)
    return tuple(tag + vr + b"\x00\x00" + length.to_bytes(4, "little") for vr in (b"OW", b"OB"))


def _layout(path: str, v: dict[tuple[int, int], str | None]) -> NativeLayout | None:
    text = {k: (val or "").strip("\x00 ") for k, val in v.items()}
    order = _BYTE_ORDER.get(text[_TS])  # type: ignore[call-overload]
    if (order is None or text[_PHOTOMETRIC] not in ("MONOCHROME1", "MONOCHROME2")
            or text[_SAMPLES] not in ("", "1") or text[_FRAMES] not in ("", "1")
            or v[_MODALITY_LUT] is not None or v[_PER_FRAME] is not None):
        return None
    try:
        rows, cols, bits = int(text[_ROWS]), int(text[_COLUMNS]), int(text[_BITS])
        stored, signed = int(text[_STORED] or bits), int(text[_SIGNED])
        slope = float(text[_SLOPE]) if text[_SLOPE] else 1.0
        intercept = float(text[_INTERCEPT]) if text[_INTERCEPT] else 0.0
    except ValueError:
        return None
    if bits not in (8, 16, 32) or signed not in (0, 1) or not 0 < stored <= bits or \
            not usable_rescale(slope, intercept, bits):
        return None
    nbytes = rows * cols * bits // 8
    length = nbytes + (nbytes & 1)
    try:
        size = os.path.getsize(path)
        headers = _element_header(order, text[_TS] == ImplicitVRLittleEndian, length)
        start = size - length - len(headers[0])
        if start < 0:
            return None
        with open(path, "rb") as fh:
            fh.seek(start)
            found = fh.read(len(headers[0]))
    except OSError:
        return None
    if found not in headers:
        return None
    dtype = np.dtype(f"{order}{'i' if signed else 'u'}{bits // 8}")
    return NativeLayout(path, start + len(headers[0]), dtype, rows, cols, stored, slope,
                        intercept)


def scan_native(paths: list[str]) -> dict[str, NativeLayout]:
    """The layouts of the uncompressed single-frame grey images among ``paths`` that GDCM's
    scanner can vouch for (empty without python-gdcm). Never raises for a bad file."""
    try:
        import gdcm  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - optional accelerator
        return {}
    scanner = gdcm.Scanner()
    tags = [gdcm.Tag(*t) for t in _SCAN_TAGS]
    for tag in tags:
        scanner.AddTag(tag)
    # A damaged length field makes GDCM allocate gigabytes: such files go to pydicom.
    paths = [p for p in paths if lengths_fit(str(p), stop=_PER_FRAME)]
    if not paths:
        return {}
    try:
        scanner.Scan([str(p) for p in paths])
    except Exception:  # noqa: BLE001 - every file then goes through pydicom
        return {}
    out: dict[str, NativeLayout] = {}
    for path in paths:
        try:
            if not scanner.IsKey(str(path)):
                continue
            layout = _layout(path, {t: scanner.GetValue(str(path), tag)
                                    for t, tag in zip(_SCAN_TAGS, tags)})
        except Exception:  # noqa: BLE001 - odd values: pydicom reads this one
            continue
        if layout is not None:
            out[path] = layout
    return out


def read_layout(layout: NativeLayout, out: np.ndarray) -> bool:
    """Fill ``out`` (float32 ``(y, x)``) from a scanned layout; False when the size differs
    or the file changed (the caller then uses ``read_native_slice``)."""
    if (layout.rows, layout.columns) != out.shape:
        return False
    count = layout.rows * layout.columns
    try:
        with open(layout.path, "rb") as fh:
            fh.seek(layout.offset)
            values = np.fromfile(fh, dtype=layout.dtype, count=count)
    except OSError:
        return False
    if values.size < count:
        return False
    _store(values.reshape(out.shape), layout.dtype, layout.dtype.itemsize * 8, layout.stored,
           layout.slope, layout.intercept, out)
    return True

"""Checks of the pixel data bytes on disk, without decoding: is the data cut short, and by how
much (native data against the header's claimed size; compressed fragments against the file's
end)."""
from __future__ import annotations

import os
import struct
from typing import Any

import pydicom
from pydicom.dataset import Dataset

from viewer.io.values import int_value as _int
from viewer.io.warnings_capture import library_messages

_LONG_VRS = (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC", b"UR")


def native_bytes(ds: Dataset) -> int | None:
    """Bytes the header promises for uncompressed pixel data, or None when it cannot say."""
    try:
        rows, columns = int(ds.Rows), int(ds.Columns)
        frames = _int(ds.get("NumberOfFrames")) or 1
        samples = _int(ds.get("SamplesPerPixel")) or 1
        bits = int(ds.BitsAllocated)
    except (AttributeError, TypeError, ValueError, KeyError):
        return None
    if min(rows, columns, frames, samples, bits) <= 0:
        return None
    return (rows * columns * frames * samples * bits + 7) // 8


def pixel_data_problem(path: str) -> str | None:
    """What is wrong with the pixel data element of ``path`` as stored, in a reader's words:
    missing, cut short (``"pixel data cut short: 8130 of 8192 bytes ..."``), or an
    encapsulated (compressed) stream that ends before its last fragment. None when the element
    is complete or the file cannot be judged."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh, library_messages():
            ds = pydicom.dcmread(fh, stop_before_pixels=True, force=True, defer_size="1 MB")
            start = fh.tell()
            head = fh.read(12)
            implicit, little = ds.original_encoding
            if implicit is None:
                return None
            end = "<" if little in (True, None) else ">"
            if len(head) < 8:
                if start >= size and "Rows" in ds:
                    return ("no pixel data: the file ends right after the header "
                            f"({size} bytes); it may have been cut short while copying")
                return None
            group, elem = struct.unpack(end + "HH", head[:4])
            if (group, elem) not in ((0x7FE0, 0x0010), (0x7FE0, 0x0008), (0x7FE0, 0x0009)):
                return None
            if implicit:
                length, offset = struct.unpack(end + "I", head[4:8])[0], 8
            elif head[4:6] in _LONG_VRS:
                if len(head) < 12:
                    return ("pixel data cut short: the file ends inside the pixel data "
                            "element's header; it may have been cut short while copying")
                length, offset = struct.unpack(end + "I", head[8:12])[0], 12
            else:
                length, offset = struct.unpack(end + "H", head[6:8])[0], 8
            available = size - start - offset
            if length != 0xFFFFFFFF:
                expected = native_bytes(ds) if (group, elem) == (0x7FE0, 0x0010) else length
                if available < length:
                    wanted = length if expected is None else min(length, expected)
                    if available < wanted:
                        return (f"pixel data cut short (truncated): {max(0, available)} of "
                                f"{wanted} bytes; the file was not copied or written "
                                "completely")
                if expected is not None and length < expected:
                    return (f"pixel data too short for the image size in the header: "
                            f"{length} of {expected} bytes (Rows, Columns, frames or "
                            "BitsAllocated are wrong, or the data was cut short)")
                return None
            fh.seek(start + offset)
            return _fragments_problem(fh, end, size)
    except Exception:  # noqa: BLE001 - e.g. zlib.error in a deflated file: cannot judge,
        return None  # the caller gives its general reason


def _fragments_problem(fh: Any, end: str, size: int) -> str | None:
    """Walk the items of encapsulated pixel data; a reason when the file ends before the
    sequence delimiter."""
    fragments = 0
    while True:
        item = fh.read(8)
        if len(item) < 8:
            return (f"compressed pixel data cut short: the file ends after {fragments} "
                    f"complete fragment(s), before the end of the image data ({size} bytes "
                    "in the file); it may have been cut short while copying")
        group, elem, length = struct.unpack(end + "HHI", item)
        if (group, elem) == (0xFFFE, 0xE0DD):
            return None
        if (group, elem) != (0xFFFE, 0xE000) or length == 0xFFFFFFFF:
            return (f"compressed pixel data damaged: fragment {fragments + 1} does not start "
                    "with an item tag")
        if fh.tell() + length > size:
            return (f"compressed pixel data cut short: fragment {fragments + 1} holds "
                    f"{size - fh.tell()} of {length} bytes; the file was not copied or "
                    "written completely")
        fh.seek(length, 1)
        fragments += 1

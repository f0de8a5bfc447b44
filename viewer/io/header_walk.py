"""A byte-level check that a file's header is safe to hand to GDCM's ``Scanner``.

GDCM allocates the length an element claims before reading it: a damaged length field (one
flipped bit in a 740-byte file) makes its scanner allocate and zero 2 GB, taking a second and
risking the process's memory. ``lengths_fit(path)`` walks the elements the scanner would read
(the file meta, then the data set up to ``stop``: (0028,0011) Columns by default) with
``struct`` only and says whether every length fits in the file. Anything it is not sure of
(no preamble, big endian, deflated, a header longer than ``WINDOW``) answers False: such files
go to pydicom, which defers large values and names what is wrong. About 0.05 ms per file.
"""
from __future__ import annotations

import os
import struct

#: Bytes read from the start of a file; headers ending later go to pydicom.
WINDOW = 64 * 1024
_LONG_VRS = frozenset({b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC",
                       b"UR"})
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xE000, 0xE00D, 0xE0DD
_TAG = struct.Struct("<HH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_IMPLICIT_LE = b"1.2.840.10008.1.2"
_NOT_WALKED = (b"1.2.840.10008.1.2.2", b"1.2.840.10008.1.2.1.99")  # big endian, deflated
#: Nesting deeper than this is not a header SliceWise needs to scan quickly.
_MAX_DEPTH = 8


class _Unsure(Exception):
    """The walk cannot vouch for the file."""


class _Beyond(_Unsure):
    """The walk needs bytes past the end of what was read."""


def _element(buf: bytes, pos: int, explicit: bool) -> tuple[int, int, int, bytes, int]:
    """(group, element, value length, VR, value offset) of the element at ``pos``."""
    if pos + 8 > len(buf):
        raise _Beyond
    group, elem = _TAG.unpack_from(buf, pos)
    if group == 0xFFFE:  # item tags have no VR in either encoding
        return group, elem, _U32.unpack_from(buf, pos + 4)[0], b"", pos + 8
    if not explicit:
        return group, elem, _U32.unpack_from(buf, pos + 4)[0], b"", pos + 8
    vr = buf[pos + 4:pos + 6]
    if vr in _LONG_VRS:
        if pos + 12 > len(buf):
            raise _Beyond
        return group, elem, _U32.unpack_from(buf, pos + 8)[0], vr, pos + 12
    if not vr.isalpha() or not vr.isupper():
        raise _Unsure
    return group, elem, _U16.unpack_from(buf, pos + 6)[0], vr, pos + 8


def _skip_value(buf: bytes, at: int, length: int, size: int, explicit: bool,
                depth: int) -> int:
    """Offset after a value of ``length`` starting at ``at`` (an undefined length walks the
    items of a sequence to its delimiter)."""
    if length != _UNDEFINED:
        if at + length > size:
            raise _Unsure  # the damage GDCM would allocate for
        return at + length
    if depth >= _MAX_DEPTH:
        raise _Unsure
    pos = at
    while True:  # items of the sequence
        group, elem, item_length, _, value_at = _element(buf, pos, explicit)
        if group != 0xFFFE:
            raise _Unsure
        if elem == _SEQ_END:
            return value_at
        if elem != _ITEM:
            raise _Unsure
        if item_length != _UNDEFINED:
            pos = _skip_value(buf, value_at, item_length, size, explicit, depth + 1)
            continue
        pos = value_at
        while True:  # elements of an item of undefined length
            group, elem, length, _, value_at = _element(buf, pos, explicit)
            if group == 0xFFFE and elem == _ITEM_END:
                pos = value_at
                break
            pos = _skip_value(buf, value_at, length, size, explicit, depth + 1)


#: Answers by (path, stop) for a file of a given size and modification time: discovery and
#: loading ask about the same files.
_ANSWERS: dict[tuple[str, tuple[int, int]], tuple[int, int, bool]] = {}
_MAX_ANSWERS = 100_000
#: First read; the walk reads up to ``WINDOW`` when the header is longer.
_FIRST_READ = 8192


def lengths_fit(path: str, stop: tuple[int, int] = (0x0028, 0x0011)) -> bool:
    """True when every element up to ``stop`` (file meta included) has a length that fits in
    the file (see the module docstring); False when one does not or the walk is unsure."""
    try:
        stat = os.stat(path)
    except OSError:
        return False
    key = (path, stop)
    known = _ANSWERS.get(key)
    if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
        return known[2]
    answer = _walk_file(path, stat.st_size, stop, _FIRST_READ)
    if answer is None and stat.st_size > _FIRST_READ:
        answer = _walk_file(path, stat.st_size, stop, WINDOW)
    if len(_ANSWERS) >= _MAX_ANSWERS:
        _ANSWERS.clear()
    _ANSWERS[key] = (stat.st_size, stat.st_mtime_ns, bool(answer))
    return bool(answer)


def _walk_file(path: str, size: int, stop: tuple[int, int], window: int) -> bool | None:
    """``lengths_fit`` on the first ``window`` bytes; None when they end before ``stop``."""
    try:
        with open(path, "rb") as fh:
            buf = fh.read(window)
    except OSError:
        return False
    if len(buf) < 132 or buf[128:132] != b"DICM":
        return False
    try:
        pos, syntax = 132, b""
        while pos + 4 <= len(buf) and _TAG.unpack_from(buf, pos)[0] == 0x0002:
            group, elem, length, _, at = _element(buf, pos, True)  # explicit VR LE
            if (group, elem) == (0x0002, 0x0010):
                syntax = buf[at:at + length].rstrip(b"\x00 ")
            pos = _skip_value(buf, at, length, size, True, 0)
        if syntax in _NOT_WALKED or not syntax:
            return False
        explicit = syntax != _IMPLICIT_LE
        while pos < size:
            group, elem, length, _, at = _element(buf, pos, explicit)
            if (group, elem) > stop:
                return True
            pos = _skip_value(buf, at, length, size, explicit, 0)
        return True
    except _Beyond:
        return None
    except (_Unsure, struct.error):
        return False

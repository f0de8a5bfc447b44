"""Mutations of DICOM files: byte-level damage and hostile header values.

A ``Recipe`` names everything needed to rebuild a mutant bit for bit: the seed files of the
(1-3 file) series, which file is mutated, the mutation names and the RNG seed. ``build`` applies
header mutations first (pydicom read, change, write back), then byte mutations. A header mutation
that cannot be applied to the (already damaged) bytes falls back to a byte flip, so every recipe
yields a mutant; ``build`` returns the concrete changes made, for the failure report.
"""
from __future__ import annotations

import io
import json
import random
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pydicom
from pydicom import config
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

HUGE = "1e308"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
NON_IMAGE_CLASSES = ("1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.481.3",
                     "1.2.840.10008.5.1.4.1.1.131", "1.2.840.10008.5.1.4.1.1.104.1")
BAD_SYNTAXES = ("1.2.3.4", "", "garbage", CT_IMAGE, "1.2.840.10008.1.2.2",
                "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.80",
                "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.201")
#: Elements most worth deleting (others are picked at random).
KEY_ELEMENTS = ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelData",
                "PixelRepresentation", "SamplesPerPixel", "PhotometricInterpretation",
                "ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing", "SOPClassUID",
                "SeriesInstanceUID", "Modality", "NumberOfFrames", "RescaleSlope",
                "PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence",
                "SpecificCharacterSet")


@dataclass(frozen=True)
class Recipe:
    """How to rebuild one mutant: ``files`` (seed paths, series order), ``target`` (index of the
    mutated file), ``ops`` (mutation names, see ``OPS``) and ``rng_seed``."""

    index: int
    files: tuple[str, ...]
    target: int
    ops: tuple[str, ...]
    rng_seed: int

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        data = json.loads(text)
        return cls(int(data["index"]), tuple(data["files"]), int(data["target"]),
                   tuple(data["ops"]), int(data["rng_seed"]))


# ----------------------------------------------------------------------------- header mutations

def _set(ds: Dataset, keyword: str, value: object) -> str:
    setattr(ds, keyword, value)
    return f"{keyword}={value!r}"


def _m_size(ds: Dataset, rng: random.Random) -> str:
    rows = int(ds.get("Rows") or 16)
    return _set(ds, rng.choice(("Rows", "Columns")),
                rng.choice((0, 1, 65535, rows + 1, max(1, rows // 2), rows * 2)))


def _m_bits(ds: Dataset, rng: random.Random) -> str:
    keyword = rng.choice(("BitsAllocated", "BitsAllocated", "BitsStored", "HighBit"))
    return _set(ds, keyword, rng.choice((0, 1, 3, 7, 12, 24, 32, 64, 65535)))


def _m_pixel_format(ds: Dataset, rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return _set(ds, "PixelRepresentation", rng.choice((1 - int(ds.get("PixelRepresentation")
                                                                  or 0), 2, 65535)))
    if choice == 1:
        return _set(ds, "SamplesPerPixel", rng.choice((0, 2, 3, 4, 65535)))
    if choice == 2:
        return _set(ds, "PlanarConfiguration", rng.choice((0, 1, 5)))
    return _set(ds, "PhotometricInterpretation", rng.choice(
        ("RGB", "YBR_FULL_422", "PALETTE COLOR", "", "MONOCHROME3", "YBR_ICT", "MONOCHROME1")))


def _m_frames(ds: Dataset, rng: random.Random) -> str:
    return _set(ds, "NumberOfFrames", rng.choice(("0", "-1", "2", "3", "100000", "abc",
                                                  "2147483647", "1.5")))


def _m_position(ds: Dataset, rng: random.Random) -> str:
    value = rng.choice((["nan", "0", "0"], ["inf", "-inf", "0"], [HUGE, HUGE, HUGE],
                        ["1", "2"], ["a", "b", "c"], ["0", "0", "0", "0"], ["-" + HUGE, "0", "1"]))
    return _set(ds, "ImagePositionPatient", value)


def _m_spacing(ds: Dataset, rng: random.Random) -> str:
    keyword = rng.choice(("PixelSpacing", "PixelSpacing", "SpacingBetweenSlices",
                          "SliceThickness"))
    if keyword == "PixelSpacing":
        value: object = rng.choice((["0", "0"], ["-1", "1"], ["nan", "1"], [HUGE, HUGE], ["1"],
                                    ["inf", "1"], ["1e-300", "1e-300"], ["x", "y"]))
    else:
        value = rng.choice(("0", "-5", "nan", HUGE, "inf"))
    return _set(ds, keyword, value)


def _m_orientation(ds: Dataset, rng: random.Random) -> str:
    value = rng.choice((["1", "0", "0", "1", "0", "0"], ["0"] * 6, ["nan"] * 6,
                        ["1", "0", "0", "0", "1"], ["2", "0", "0", "0", "3", "0"],
                        [HUGE, "0", "0", "0", HUGE, "0"], ["1", "0", "0", "-1", "0", "0"],
                        ["inf", "0", "0", "0", "1", "0"], ["1e-9", "0", "0", "0", "1e-9", "0"]))
    return _set(ds, "ImageOrientationPatient", value)


def _m_rescale(ds: Dataset, rng: random.Random) -> str:
    if rng.random() < 0.6:
        return _set(ds, "RescaleSlope", rng.choice((HUGE, "nan", "0", "-1e30", "abc", "inf")))
    return _set(ds, "RescaleIntercept", rng.choice(("inf", "nan", "-" + HUGE, "x")))


def _m_window(ds: Dataset, rng: random.Random) -> str:
    keyword = rng.choice(("WindowWidth", "WindowCenter"))
    return _set(ds, keyword, rng.choice(("0", "-5", "nan", "abc", HUGE, "inf")))


def _m_sop(ds: Dataset, rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return _set(ds, "SOPClassUID", rng.choice(NON_IMAGE_CLASSES))
    if choice == 1:
        return _set(ds, "SOPClassUID", rng.choice(("", "1.2.3", "not-a-uid")))
    if choice == 2:
        return _set(ds, "Modality", rng.choice(("SR", "RTSTRUCT", "", "KO", "XX")))
    return _set(ds, "SeriesInstanceUID", rng.choice(("", "1." * 40 + "1", "x")))


def _m_delete(ds: Dataset, rng: random.Random) -> str:
    present = [k for k in KEY_ELEMENTS if k in ds]
    if present and rng.random() < 0.7:
        keyword = rng.choice(present)
        delattr(ds, keyword)
        return f"del {keyword}"
    tags = list(ds.keys())
    if not tags:
        raise ValueError("empty data set")
    tag = rng.choice(tags)
    del ds[tag]
    return f"del {tag}"


def _m_insert(ds: Dataset, rng: random.Random) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        ds.add_new(0x00091010, "OB", bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
        return "private OB element"
    if choice == 1:
        ds.add_new(0x00280008, "SQ", Sequence([Dataset()]))
        return "NumberOfFrames as an empty SQ"
    if choice == 2:
        ds.add_new(0x00280010, "DS", rng.choice(("abc", "-1", "1e9")))
        return "Rows with VR DS"
    if choice == 3:
        ds.add_new(0x00200032, "US", [1, 2, 3])
        return "ImagePositionPatient with VR US"
    ds.add_new(0x00080005, "CS", rng.choice(("ISO_IR 999", "ISO 2022 IR 87", "GB18030")))
    ds.PatientName = b"\xff\xfe\x81\x00caf\xe9"
    return "odd SpecificCharacterSet and undecodable PatientName"


def _m_multiframe(ds: Dataset, rng: random.Random) -> str:
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame:
        choice = rng.randrange(4)
        if choice == 0:
            ds.PerFrameFunctionalGroupsSequence = Sequence(list(per_frame)[:1])
            return "per-frame groups cut to one item"
        if choice == 1:
            ds.PerFrameFunctionalGroupsSequence = Sequence([])
            return "per-frame groups emptied"
        item = per_frame[rng.randrange(len(per_frame))]
        if choice == 2:
            for kw in ("PlanePositionSequence", "PlaneOrientationSequence",
                       "PixelValueTransformationSequence"):
                if kw in item:
                    delattr(item, kw)
            return "a per-frame item lost its plane/rescale groups"
        pos = Dataset()
        pos.ImagePositionPatient = ["nan", HUGE, "0"]
        item.PlanePositionSequence = Sequence([pos])
        return "a per-frame position set to nan/huge"
    return _set(ds, "NumberOfFrames", rng.choice(("2", "100000", "8")))


def _m_pixel_data(ds: Dataset, rng: random.Random) -> str:
    if "PixelData" not in ds:
        raise ValueError("no pixel data")
    data = bytes(ds.PixelData)
    choice = rng.randrange(4)
    if choice == 0:
        cut = rng.randrange(len(data) + 1)
        ds.PixelData = data[:cut]
        return f"PixelData cut to {cut} of {len(data)} bytes"
    if choice == 1:
        ds.PixelData = data + b"\x00"
        return "PixelData odd length"
    if choice == 2:
        ds.PixelData = b""
        return "PixelData empty"
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 32)):
        if buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    ds.PixelData = bytes(buf)
    return "PixelData bytes flipped"


HEADER_OPS: dict[str, Callable[[Dataset, random.Random], str]] = {
    "size": _m_size, "bits": _m_bits, "pixel_format": _m_pixel_format, "frames": _m_frames,
    "position": _m_position, "spacing": _m_spacing, "orientation": _m_orientation,
    "rescale": _m_rescale, "window": _m_window, "sop": _m_sop, "delete": _m_delete,
    "insert": _m_insert, "multiframe": _m_multiframe, "pixel_data": _m_pixel_data,
}


def _apply_header_ops(data: bytes, ops: list[str], rng: random.Random) -> tuple[bytes, list[str]]:
    done: list[str] = []
    old = config.settings.writing_validation_mode
    config.settings.writing_validation_mode = config.IGNORE
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
        for op in ops:
            done.append(HEADER_OPS[op](ds, rng))
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=False)
        return out.getvalue(), done
    finally:
        config.settings.writing_validation_mode = old


# ------------------------------------------------------------------------------- byte mutations

def _header_end(data: bytes) -> int:
    """Rough end of the header: the PixelData tag, else the whole file."""
    for tag in (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10"):
        at = data.find(tag)
        if at > 0:
            return at
    return len(data)


def _r_flip(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    buf = bytearray(data)
    if not buf:
        return data + bytes([rng.randrange(256)]), "one random byte written to an empty file"
    end = _header_end(data) if rng.random() < 0.7 else len(data)
    n = rng.randrange(1, 20)
    for _ in range(n):
        buf[rng.randrange(max(1, end))] ^= 1 << rng.randrange(8)
    return bytes(buf), f"{n} bits flipped in the first {end} bytes"


def _r_truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    end = _header_end(data)
    cut = rng.randrange(end) if rng.random() < 0.4 else rng.randrange(len(data))
    return data[:cut], f"cut at {cut} of {len(data)} bytes"


def _r_insert(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(max(1, _header_end(data)))
    chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    return data[:at] + chunk + data[at:], f"{len(chunk)} random bytes inserted at {at}"


def _r_zero(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(max(1, len(data)))
    n = rng.randrange(1, 512)
    return data[:at] + bytes(min(n, len(data) - at)) + data[at + n:], f"{n} bytes zeroed at {at}"


def _element_offsets(data: bytes) -> list[tuple[int, int, bool]]:
    """(value offset, length-field size, is long form) of the top-level data set elements."""
    ds = pydicom.dcmread(io.BytesIO(data), force=True, defer_size=64)
    out = []
    implicit = ds.original_encoding[0]
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        tell = getattr(raw, "value_tell", None)
        if tell is None:
            continue
        long_form = implicit or str(raw.VR) in ("OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UN",
                                                "UT", "UC", "UR")
        out.append((int(tell), 4 if long_form else 2, long_form))
    return out


def _r_length(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    offsets = _element_offsets(data)
    if not offsets:
        raise ValueError("no elements")
    tell, size, _ = rng.choice(offsets)
    little = True
    if size == 2:
        value = rng.choice((0, 1, 3, 0xFFFF, 0xFFFE, rng.randrange(0x10000)))
        field = struct.pack("<H" if little else ">H", value)
    else:
        value = rng.choice((0, 1, 3, 0xFFFFFFFF, 0x7FFFFFFF, len(data) * 2,
                            rng.randrange(1 << 32)))
        field = struct.pack("<I", value)
    start = tell - size
    return data[:start] + field + data[tell:], f"length field at {start} set to {value}"


def _meta_end(data: bytes) -> int | None:
    """Offset just past the file meta group of a Part 10 file (explicit VR LE), or None."""
    if data[128:132] != b"DICM":
        return None
    pos = 132
    while pos + 8 <= len(data):
        group = int.from_bytes(data[pos:pos + 2], "little")
        if group != 2:
            return pos
        vr = data[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR"):
            length = int.from_bytes(data[pos + 8:pos + 12], "little")
            pos += 12 + length
        else:
            pos += 8 + int.from_bytes(data[pos + 6:pos + 8], "little")
    return None


def _r_syntax(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Replace, drop the Transfer Syntax UID, or drop the whole file meta."""
    end = _meta_end(data)
    if end is None:
        raise ValueError("no file meta")
    elements, pos = [], 132
    while pos < end:
        tag = data[pos:pos + 4]
        vr = data[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR"):
            length = int.from_bytes(data[pos + 8:pos + 12], "little")
            elements.append((tag, vr, data[pos + 12:pos + 12 + length]))
            pos += 12 + length
        else:
            length = int.from_bytes(data[pos + 6:pos + 8], "little")
            elements.append((tag, vr, data[pos + 8:pos + 8 + length]))
            pos += 8 + length
    choice = rng.randrange(5)
    if choice == 0:
        return data[end:], "file meta and preamble removed"
    ts_tag = b"\x02\x00\x10\x00"
    if choice == 1:
        elements = [e for e in elements if e[0] != ts_tag]
        what = "TransferSyntaxUID removed"
    else:
        uid = rng.choice(BAD_SYNTAXES).encode()
        uid += b"\x00" * (len(uid) % 2)
        elements = [(t, v, uid if t == ts_tag else val) for t, v, val in elements]
        what = f"TransferSyntaxUID={uid.decode().rstrip(chr(0))!r}"
    body = b""
    for tag, vr, value in elements:
        if tag == b"\x02\x00\x00\x00":
            continue
        if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR"):
            body += tag + vr + b"\x00\x00" + struct.pack("<I", len(value)) + value
        else:
            body += tag + vr + struct.pack("<H", len(value)) + value
    group_length = b"\x02\x00\x00\x00UL" + struct.pack("<HI", 4, len(body))
    return data[:132] + group_length + body + data[end:], what


BYTE_OPS: dict[str, Callable[[bytes, random.Random], tuple[bytes, str]]] = {
    "flip": _r_flip, "truncate": _r_truncate, "insert_bytes": _r_insert, "zero": _r_zero,
    "length": _r_length, "syntax": _r_syntax,
}

#: Mutation names with their draw weights.
OPS: dict[str, int] = {
    "size": 6, "bits": 5, "pixel_format": 5, "frames": 4, "position": 4, "spacing": 4,
    "orientation": 4, "rescale": 3, "window": 2, "sop": 3, "delete": 6, "insert": 3,
    "multiframe": 3, "pixel_data": 5, "flip": 10, "truncate": 8, "insert_bytes": 4, "zero": 3,
    "length": 6, "syntax": 6,
}


def mutate(data: bytes, ops: tuple[str, ...], rng_seed: int) -> tuple[bytes, list[str]]:
    """Apply ``ops`` to ``data`` (header ops first, then byte ops in order). Returns the mutant
    and the concrete changes made."""
    rng = random.Random(rng_seed)
    header = [op for op in ops if op in HEADER_OPS]
    raw = [op for op in ops if op in BYTE_OPS]
    done: list[str] = []
    if header:
        try:
            data, done = _apply_header_ops(data, header, rng)
        except Exception as exc:  # noqa: BLE001 - the seed cannot take it: flip bytes instead
            done = [f"({'+'.join(header)} not applicable: {type(exc).__name__})"]
            raw.insert(0, "flip")
    for op in raw:
        try:
            data, what = BYTE_OPS[op](data, rng)
        except Exception as exc:  # noqa: BLE001
            data, what = _r_flip(data, rng)
            what = f"({op} not applicable: {type(exc).__name__}) {what}"
        done.append(what)
    return data, done


def build(recipe: Recipe, folder: Path) -> tuple[list[Path], list[str]]:
    """Write the recipe's series into ``folder`` (``00.dcm``, ``01.dcm``, ...). Returns the
    paths and the concrete changes made to the target file."""
    paths: list[Path] = []
    changes: list[str] = []
    for k, seed in enumerate(recipe.files):
        data = Path(seed).read_bytes()
        if k == recipe.target:
            data, changes = mutate(data, recipe.ops, recipe.rng_seed)
        path = folder / f"{k:02d}.dcm"
        path.write_bytes(data)
        paths.append(path)
    return paths, changes


def recipes(seeds: list[str], count: int, seed: int, start: int = 0) -> list[Recipe]:
    """``count`` recipes drawn from ``seeds`` with master ``seed`` (same list every time for the
    same seeds). Series of 2-3 files use neighbouring seeds of the same folder or copies."""
    rng = random.Random(seed)
    names, weights = list(OPS), list(OPS.values())
    by_folder: dict[str, list[str]] = {}
    for s in seeds:
        by_folder.setdefault(str(Path(s).parent), []).append(s)
    out = []
    for index in range(start + count):
        first = rng.choice(seeds)
        size = rng.choices((1, 2, 3), weights=(6, 2, 2))[0]
        if size > 1 and rng.random() < 0.5:
            folder = by_folder[str(Path(first).parent)]
            at = folder.index(first)
            files = tuple(folder[(at + k) % len(folder)] for k in range(size))
        else:
            files = (first,) * size
        n_ops = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
        ops = tuple(rng.choices(names, weights=weights, k=n_ops))
        recipe = Recipe(index, files, rng.randrange(size), ops, rng.getrandbits(32))
        if index >= start:
            out.append(recipe)
    return out


"""Header-only reads shared by discovery and loading: one ``FileHeader`` per DICOM file.

Positions are patient LPS mm ``(x, y, z)``; orientation is the six ImageOrientationPatient
cosines; pixel spacing is ``(row spacing = y, column spacing = x)`` mm.
"""
from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from viewer.io.mosaic import is_mosaic, mosaic_geometry
from viewer.io.multiframe import FrameGroup, frame_groups
from viewer.io.records import PatientInfo
from viewer.io.warnings_capture import library_messages

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
#: Patient coordinates beyond this (mm) are not a position in a scanner.
MAX_POSITION_MM = 1e6
#: Pixel spacing outside (0, MAX_SPACING_MM] is not a pixel spacing.
MAX_SPACING_MM = 1e4
#: One file may hold at most this many voxels (2**30 float32 = 4 GiB once decoded).
MAX_VOXELS = 1 << 30


class NotAnImage(Exception):
    """The file is readable DICOM but holds no image; ``args[0]`` is the reason for a reader."""


class UnreadableFile(Exception):
    """The file is not DICOM or is damaged; ``args[0]`` is the reason for a reader."""


@dataclass
class FileHeader:
    """What SliceWise needs from one image file's header."""

    path: str
    series_instance_uid: str
    study_instance_uid: str
    modality: str
    sop_class: str
    series_number: int | None
    instance_number: int | None
    description: str
    study_description: str
    patient: PatientInfo
    rows: int
    columns: int
    frames: int
    orientation: tuple[float, ...]
    position: tuple[float, float, float] | None
    pixel_spacing: tuple[float, float]
    photometric: str
    samples_per_pixel: int
    transfer_syntax: str
    frame_positions: tuple[tuple[float, float, float] | None, ...] = ()
    spacing_between_slices: float | None = None
    window: tuple[float, float] | None = None
    patient_orientation: tuple[str, ...] = ()  # PatientOrientation (0020,0020): row, column
    #: Siemens mosaic: number of slices packed in the one stored image (0 = not a mosaic). Then
    #: ``rows``/``columns`` are one tile's, ``frames`` the tile count and ``frame_positions``
    #: each tile's position (see viewer.io.mosaic).
    mosaic_tiles: int = 0
    #: Problems with this file's header in a reader's words (unusable values replaced, library
    #: warnings, an unsplittable mosaic), each starting with the file name.
    notes: tuple[str, ...] = ()
    #: Enhanced multi-frame file with several image sets (frame types, stacks, ...): one
    #: ``FrameGroup`` per set; discovery turns each into its own header
    #: (viewer.io.multiframe.split_by_frame_group), which then has ``frame_indices`` (0-based
    #: frames of the file) and ``frame_group`` (the set's label) set.
    frame_groups: tuple[FrameGroup, ...] = ()
    frame_indices: tuple[int, ...] = ()
    frame_group: str = ""


def _floats(value: Any) -> tuple[float, ...]:
    if value is None:
        return ()
    try:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            return (float(value),)
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return ()


def _strings(value: Any) -> tuple[str, ...]:
    """A multi-valued text attribute as a tuple of stripped strings (empty when absent)."""
    if value is None or value == "":
        return ()
    if isinstance(value, (str, bytes)):
        value = str(value).split("\\")
    return tuple(str(v).strip() for v in value)


def _first(value: Any) -> float | None:
    values = _floats(value)
    return values[0] if values else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _group_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """The ``sequence`` item of a functional group for ``frame``: per-frame first, then shared."""
    for groups_kw, index in (("PerFrameFunctionalGroupsSequence", frame),
                             ("SharedFunctionalGroupsSequence", 0)):
        groups = ds.get(groups_kw)
        if groups is not None and len(groups) > index:
            seq = groups[index].get(sequence)
            if seq:
                return seq[0]
    return None


def _missing(ds: Dataset, keywords: tuple[str, ...]) -> list[str]:
    out = []
    for kw in keywords:
        if kw not in ds:
            tag = pydicom.datadict.tag_for_keyword(kw)
            out.append(f"{kw} ({tag >> 16:04X},{tag & 0xFFFF:04X})")
    return out


def _file_ends_in_header(ds: Dataset) -> bool:
    """True when the data set's last element is before the image description group (0028)
    and the file ends right after it: the header was cut short."""
    keys = list(ds.keys())
    return bool(keys) and max(keys) < 0x00280000 and bool(getattr(ds, "_slicewise_at_eof", False))


def non_image_reason(ds: Dataset) -> str | None:
    """Why a readable DICOM object is not an image, or None when it is one."""
    sop = str(ds.get("SOPClassUID", "") or getattr(ds.get("file_meta", None),
                                                    "MediaStorageSOPClassUID", ""))
    name = pydicom.uid.UID(sop).name if sop else ""
    modality = str(ds.get("Modality", "")).upper()
    if sop == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        return "DICOMDIR index file: its images are read from the files it lists"
    if "SR Storage" in name or modality == "SR":
        return "Structured report (text findings), not an image"
    if "RT Structure Set" in name or modality == "RTSTRUCT":
        return "RT structure set (contours drawn on another series), not an image"
    if "Presentation State" in name or modality == "PR":
        return "Presentation state (display settings for other images), not an image"
    if "Waveform" in name or modality in ("ECG", "HD", "AU"):
        return "Waveform (ECG, audio or other signal), not an image"
    if "Encapsulated PDF" in name or modality == "DOC":
        return "Encapsulated PDF document, not an image"
    if "Key Object Selection" in name or modality == "KO":
        return "Key-image note (a list of other images), not an image"
    if "RT Plan" in name or "Treatment Record" in name or modality in ("RTPLAN", "RTRECORD"):
        return "Radiotherapy plan or treatment record, not an image"
    missing = _missing(ds, ("Rows", "Columns"))
    if missing:
        pixel_keywords = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
        has_pixels = any(kw in ds for kw in pixel_keywords) or bool(
            getattr(ds, "_slicewise_has_pixels", False))
        if _file_ends_in_header(ds):
            size = getattr(ds, "_slicewise_size", 0)
            return (f"Damaged or incomplete DICOM file: it ends after {size} bytes, before the "
                    f"image description (no {' or '.join(missing)}); it may have been cut "
                    "short while copying")
        if not has_pixels and name and "Image Storage" not in name:
            return f"A DICOM object without image data ({name.replace(' Storage', '')})"
        if not has_pixels and not sop:
            return ("A DICOM object without image data (no SOP Class UID, no Rows, Columns "
                    "or pixel data)")
        return (f"Image header incomplete: missing {' and '.join(missing)}, so the image "
                "size is unknown")
    return None


def _looks_like_dicom_without_preamble(path: str) -> bool:
    """True when the file starts with a plausible little-endian group 0002/0008 element."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    if len(head) < 4:
        return False
    group = int.from_bytes(head[:2], "little")
    return group in (0x0002, 0x0008)


_ENCODINGS = {(True, True): "implicit VR little endian", (False, True): "explicit VR little endian",
              (False, False): "explicit VR big endian", (True, False): "implicit VR big endian"}


def _syntax_notes(ds: Dataset) -> list[str]:
    """Notes on a missing or unusable Transfer Syntax UID (the encoding pydicom guessed)."""
    meta = getattr(ds, "file_meta", None)
    guessed = _ENCODINGS.get(tuple(ds.original_encoding), "an encoding guessed from the data")
    if meta is None or len(meta) == 0:
        return [f"no DICOM file meta (preamble and group 0002); read as {guessed}"]
    ts = str(meta.get("TransferSyntaxUID", "") or "").strip("\x00 ")
    if not ts:
        return [f"no transfer syntax in the file meta; read as {guessed}"]
    uid = pydicom.uid.UID(ts)
    if not uid.is_transfer_syntax:
        what = f"{uid.name} is not a transfer syntax" if uid.name != ts else "unknown"
        return [f"transfer syntax {ts} in the file meta is {what}; read as {guessed}"]
    return []


def read_dataset(path: str) -> Dataset:
    """Header-only pydicom read (pixel data not loaded). ``force`` only for files that look
    like DICOM without the 128-byte preamble. Raises ``UnreadableFile`` with a reason.
    Library warnings and transfer syntax problems are kept in ``ds._slicewise_notes``."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise UnreadableFile(f"Cannot open the file ({exc.strerror or exc})") from exc
    if size == 0:
        raise UnreadableFile("Empty file (0 bytes)")
    notes: list[str] = []
    with library_messages(notes) as caught:
        try:
            ds, at = _read(path, force=False)
        except InvalidDicomError:
            if not _looks_like_dicom_without_preamble(path):
                raise UnreadableFile("Not a DICOM file") from None
            try:
                ds, at = _read(path, force=True)
            except MemoryError as exc:
                raise UnreadableFile(f"Damaged DICOM file: an element claims more bytes than "
                                     f"can be read (the file has {size} bytes)") from exc
            except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged file
                raise UnreadableFile(_damaged(exc, caught)) from exc
        except UnreadableFile:
            raise
        except MemoryError as exc:  # a length field claims gigabytes
            raise UnreadableFile(f"Damaged DICOM file: an element claims more bytes than can "
                                 f"be read (the file has {size} bytes)") from exc
        except Exception as exc:  # noqa: BLE001
            raise UnreadableFile(_damaged(exc, caught)) from exc
        syntax = _syntax_notes(ds)  # reads file meta values: inside the capture
    ds._slicewise_at_eof = at >= size  # type: ignore[attr-defined]
    ds._slicewise_size = size  # type: ignore[attr-defined]
    ds._slicewise_has_pixels = at < size  # type: ignore[attr-defined]
    ds._slicewise_notes = syntax + notes  # type: ignore[attr-defined]
    return ds


def _read(path: str, force: bool) -> tuple[Dataset, int]:
    """(header-only data set, file offset where reading stopped: the pixel data or the end)."""
    with open(path, "rb") as fh:
        # Values over 1 MB are read when used: a damaged length field must not allocate GBs.
        ds = pydicom.dcmread(fh, stop_before_pixels=True, force=force, defer_size="1 MB")
        return ds, fh.tell()


def _damaged(exc: BaseException, notes: list[str]) -> str:
    text = " ".join(str(exc).split())[:160] or type(exc).__name__
    extra = f"; {notes[0]}" if notes else ""
    return f"Damaged DICOM file: the header could not be read ({text}){extra}"


def dataset_notes(ds: Dataset) -> list[str]:
    """The notes ``read_dataset`` attached to ``ds`` (empty for other data sets)."""
    return list(getattr(ds, "_slicewise_notes", ()))


def _usable_position(values: tuple[float, ...]) -> bool:
    return len(values) == 3 and all(math.isfinite(v) and abs(v) <= MAX_POSITION_MM
                                    for v in values)


def usable_orientation(values: tuple[float, ...]) -> bool:
    """Six finite cosines whose row and column vectors are non-zero and not parallel."""
    if len(values) != 6 or not all(math.isfinite(v) and abs(v) <= 1e3 for v in values):
        return False
    r, c = values[:3], values[3:]
    nr = math.sqrt(sum(v * v for v in r))
    nc = math.sqrt(sum(v * v for v in c))
    if nr < 1e-3 or nc < 1e-3:
        return False
    cross = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
    return math.sqrt(sum(v * v for v in cross)) / (nr * nc) > 1e-3


def usable_position(values: tuple[float, ...]) -> bool:
    """Three finite patient coordinates within a scanner's reach (|x| <= 1 km)."""
    return _usable_position(values)


def _checked_geometry(orientation: tuple[float, ...], position: tuple[float, ...],
                      spacing: tuple[float, ...], notes: list[str]
                      ) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, float]]:
    if orientation and not usable_orientation(orientation):
        notes.append("ImageOrientationPatient (0020,0037) is unusable ("
                     + ("parallel or zero row and column directions"
                        if len(orientation) == 6 and all(map(math.isfinite, orientation))
                        else f"{len(orientation)} values, not 6 finite cosines")
                     + "): orientation unknown")
        orientation = ()
    if position and not _usable_position(position):
        notes.append("ImagePositionPatient (0020,0032) is unusable "
                     f"({', '.join(f'{v:g}' for v in position[:4])}): position unknown")
        position = ()
    pair: tuple[float, float] = (1.0, 1.0)
    if spacing:
        if len(spacing) >= 2 and all(math.isfinite(v) and 0 < v <= MAX_SPACING_MM
                                     for v in spacing[:2]):
            pair = (spacing[0], spacing[1])
        else:
            notes.append("PixelSpacing (0028,0030) is unusable "
                         f"({', '.join(f'{v:g}' for v in spacing[:3])}): 1 mm assumed")
    return orientation, position, pair


def _positive(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) and 0 < value <= MAX_SPACING_MM \
        else None


def _size_check(ds: Dataset, rows: int, columns: int, frames: int, samples: int) -> None:
    """Raise ``UnreadableFile`` when the image size cannot be right."""
    if rows <= 0 or columns <= 0:
        raise UnreadableFile(f"Damaged image header: the image size is {columns} x {rows} "
                             "pixels (Columns (0028,0011) x Rows (0028,0010))")
    voxels = rows * columns * frames * samples
    if voxels > MAX_VOXELS:
        raise UnreadableFile(
            f"Damaged image header: {columns} x {rows} pixels x {frames} frames x {samples} "
            f"samples is {voxels:,} values, more than SliceWise reads from one file "
            f"({MAX_VOXELS:,} values, {MAX_VOXELS * 4 >> 30} GB of memory once decoded)")


def _native_size_check(ds: Dataset) -> None:
    """Raise ``UnreadableFile`` when uncompressed pixel data would need far more bytes than the
    whole file holds (a wrong Rows/Columns/NumberOfFrames/BitsAllocated, not a short copy)."""
    meta = getattr(ds, "file_meta", None)
    ts = str(getattr(meta, "TransferSyntaxUID", "") or "").strip("\x00 ")
    size = int(getattr(ds, "_slicewise_size", 0) or 0)
    try:
        compressed = pydicom.uid.UID(ts).is_compressed if ts else False
    except ValueError:
        compressed = False
    expected = _native_bytes(ds)
    if compressed or not size or expected is None or expected <= 4 * size + (16 << 20):
        return
    raise UnreadableFile(
        f"Damaged image header: {int(ds.Columns)} x {int(ds.Rows)} pixels x "
        f"{_int(ds.get('NumberOfFrames')) or 1} frames at {int(ds.BitsAllocated)} bits need "
        f"{expected:,} bytes, but the whole file has {size:,} bytes (Rows, Columns, "
        "NumberOfFrames or BitsAllocated are wrong)")


def header_from_dataset(path: str, ds: Dataset) -> FileHeader:
    """A ``FileHeader`` from a header-only dataset; raises ``NotAnImage`` for non-images and
    ``UnreadableFile`` when a needed element cannot be read or makes no sense."""
    notes = dataset_notes(ds)
    with library_messages(notes):
        try:
            header = _header(path, ds, notes)
        except (NotAnImage, UnreadableFile, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed element: say which
            text = " ".join(str(exc).split())[:160]
            raise UnreadableFile(f"Damaged DICOM header: an element could not be read "
                                 f"({type(exc).__name__}: {text})") from exc
    name = os.path.basename(path)
    header.notes = tuple(dict.fromkeys(f"{name}: {n}" for n in notes))
    return header


def _header(path: str, ds: Dataset, notes: list[str]) -> FileHeader:
    reason = non_image_reason(ds)
    if reason is not None:
        raise NotAnImage(reason)
    rows, columns = _int(ds.get("Rows")), _int(ds.get("Columns"))
    if rows is None or columns is None:
        raise UnreadableFile("Damaged image header: Rows (0028,0010) or Columns (0028,0011) "
                             "is not a number")
    raw_frames = ds.get("NumberOfFrames")
    frames = _int(raw_frames) or 1
    if frames < 1 or (raw_frames not in (None, "") and _int(raw_frames) is None):
        notes.append(f"NumberOfFrames (0028,0008) is {raw_frames!s}: read as one frame")
        frames = 1
    samples = _int(ds.get("SamplesPerPixel")) or 1
    _size_check(ds, rows, columns, frames, max(1, samples))
    _native_size_check(ds)
    orientation = _floats(ds.get("ImageOrientationPatient"))
    position = _floats(ds.get("ImagePositionPatient"))
    spacing = _floats(ds.get("PixelSpacing"))
    frame_positions: list[tuple[float, float, float] | None] = []
    groups: tuple[FrameGroup, ...] = ()
    between = _first(ds.get("SpacingBetweenSlices"))
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        plane = _group_item(ds, 0, "PlaneOrientationSequence")
        if plane is not None and len(orientation) != 6:
            orientation = _floats(plane.get("ImageOrientationPatient"))
        measures = _group_item(ds, 0, "PixelMeasuresSequence")
        if measures is not None:
            spacing = _floats(measures.get("PixelSpacing")) or spacing
            between = _first(measures.get("SpacingBetweenSlices")) or between
        bad = 0
        for k in range(frames):
            item = _group_item(ds, k, "PlanePositionSequence")
            pos = _floats(item.get("ImagePositionPatient")) if item is not None else ()
            if pos and not _usable_position(pos):
                bad += 1
            frame_positions.append(pos if _usable_position(pos) else None)  # type: ignore
        if bad:
            notes.append(f"{bad} frame position(s) are unusable (not finite or out of range)")
        if frame_positions and frame_positions[0] is not None:
            position = frame_positions[0]  # type: ignore[assignment]
        groups = frame_groups(ds)
    orientation, position, pixel_spacing = _checked_geometry(orientation, position, spacing,
                                                             notes)
    mosaic_tiles = 0
    if is_mosaic(ds) and frames == 1:
        mosaic = mosaic_geometry(ds, orientation, position if len(position) == 3 else None,
                                 pixel_spacing)
        if mosaic is None:
            notes.append("Siemens mosaic whose slice count cannot be read (no CSA header): "
                         "shown as one grid of tiles, positions are those of the grid")
        else:
            mosaic_tiles = frames = mosaic.tiles
            rows, columns = mosaic.tile_rows, mosaic.tile_cols
            frame_positions = list(mosaic.positions)
            if frame_positions:
                position = frame_positions[0]  # type: ignore[assignment]
            if mosaic.note:
                notes.append(mosaic.note)
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if center is None or width is None:
        voi = _group_item(ds, 0, "FrameVOILUTSequence")
        if voi is not None:
            center, width = _first(voi.get("WindowCenter")), _first(voi.get("WindowWidth"))
    window_ok = (center is not None and width is not None and math.isfinite(center)
                 and math.isfinite(width) and width > 0)
    meta = getattr(ds, "file_meta", None)
    return FileHeader(
        path=path,
        series_instance_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        study_instance_uid=str(ds.get("StudyInstanceUID", "") or ""),
        modality=str(ds.get("Modality", "") or "OT"),
        sop_class=str(ds.get("SOPClassUID", "") or ""),
        series_number=_int(ds.get("SeriesNumber")),
        instance_number=_int(ds.get("InstanceNumber")),
        description=str(ds.get("SeriesDescription", "") or ""),
        study_description=str(ds.get("StudyDescription", "") or ""),
        patient=PatientInfo(
            name=str(ds.get("PatientName", "") or ""),
            patient_id=str(ds.get("PatientID", "") or ""),
            birth_date=str(ds.get("PatientBirthDate", "") or ""),
            sex=str(ds.get("PatientSex", "") or ""),
        ),
        rows=rows,
        columns=columns,
        frames=frames,
        orientation=orientation,
        position=position if len(position) == 3 else None,  # type: ignore[arg-type]
        pixel_spacing=pixel_spacing,
        photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip(),
        samples_per_pixel=samples,
        transfer_syntax=str(getattr(meta, "TransferSyntaxUID", "") or ""),
        frame_positions=tuple(frame_positions),
        spacing_between_slices=_positive(between),
        patient_orientation=_strings(ds.get("PatientOrientation")),
        mosaic_tiles=mosaic_tiles,
        frame_groups=groups,
        window=(center, width) if window_ok else None,  # type: ignore[arg-type]
    )


def read_header(path: str) -> FileHeader:
    """Header-only read of one file; raises ``UnreadableFile`` or ``NotAnImage``."""
    return header_from_dataset(path, read_dataset(path))


_LONG_VRS = (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC", b"UR")


def _native_bytes(ds: Dataset) -> int | None:
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
                expected = _native_bytes(ds) if (group, elem) == (0x7FE0, 0x0010) else length
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

"""Header-only reads shared by discovery and loading: one ``FileHeader`` per DICOM file.

Positions are patient LPS mm ``(x, y, z)``; orientation is the six ImageOrientationPatient
cosines; pixel spacing is ``(row spacing = y, column spacing = x)`` mm.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset

from viewer.io.acquisition import MRAcquisition, read_acquisition
from viewer.io.dataset_read import NotAnImage, UnreadableFile, dataset_notes, non_image_reason, read_dataset
from viewer.io.mosaic import is_mosaic, mosaic_geometry
from viewer.io.multiframe import FrameGroup, frame_groups
from viewer.io.pixel_check import native_bytes as _native_bytes
from viewer.io.records import PatientInfo
from viewer.io.values import first as _first
from viewer.io.values import floats as _floats
from viewer.io.values import int_value as _int
from viewer.io.values import strings as _strings
from viewer.io.warnings_capture import library_messages

#: Patient coordinates beyond this (mm) are not a position in a scanner.
MAX_POSITION_MM = 1e6
#: Pixel spacing outside (0, MAX_SPACING_MM] is not a pixel spacing.
MAX_SPACING_MM = 1e4
#: One file may hold at most this many voxels (2**30 float32 = 4 GiB once decoded).
MAX_VOXELS = 1 << 30


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
    frame_of_reference_uid: str = ""   # FrameOfReferenceUID (0020,0052): shared patient space
    study_date: str = ""               # StudyDate (0008,0020), YYYYMMDD
    body_part: str = ""                # BodyPartExamined (0018,0015)
    acquisition: MRAcquisition | None = None   # MR only: sequence, TR, TE, TI, ... (viewer.io.acquisition)






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
        frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "") or ""),
        study_date=str(ds.get("StudyDate", "") or ""),
        body_part=str(ds.get("BodyPartExamined", "") or ""),
        acquisition=_acquisition(ds),
    )


def _acquisition(ds: Dataset) -> MRAcquisition | None:
    """The MR acquisition parameters; None when absent or unreadable (they only inform the
    classifiers' checks, never whether the image can be shown)."""
    try:
        return read_acquisition(ds)
    except Exception:  # noqa: BLE001 - a damaged optional element must not refuse the image
        return None


def read_header(path: str) -> FileHeader:
    """Header-only read of one file; raises ``UnreadableFile`` or ``NotAnImage``."""
    return header_from_dataset(path, read_dataset(path))

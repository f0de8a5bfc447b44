"""Header-only reads shared by discovery and loading: one ``FileHeader`` per DICOM file.

Positions are patient LPS mm ``(x, y, z)``; orientation is the six ImageOrientationPatient
cosines; pixel spacing is ``(row spacing = y, column spacing = x)`` mm.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from viewer.io.mosaic import is_mosaic, mosaic_geometry
from viewer.io.multiframe import FrameGroup, frame_groups
from viewer.io.records import PatientInfo

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


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
    #: Notes about this file's geometry for the reader (e.g. an unsplittable mosaic).
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
    if "Rows" not in ds or "Columns" not in ds:
        if not sop or "Image Storage" in name:
            return ("Damaged or incomplete DICOM file: the header ends before the image "
                    "description (the file may have been cut short while copying)")
        return f"{name}: no image data in this file"
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


def read_dataset(path: str) -> Dataset:
    """Header-only pydicom read (pixel data not loaded). ``force`` only for files that look
    like DICOM without the 128-byte preamble. Raises ``UnreadableFile`` with a reason."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise UnreadableFile(f"Cannot open the file ({exc.strerror or exc})") from exc
    if size == 0:
        raise UnreadableFile("Empty file (0 bytes)")
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        if not _looks_like_dicom_without_preamble(path):
            raise UnreadableFile("Not a DICOM file") from None
        try:
            return pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged file
            raise UnreadableFile(f"Damaged DICOM file: the header could not be read ({exc})"
                                 ) from exc
    except Exception as exc:  # noqa: BLE001
        raise UnreadableFile(f"Damaged DICOM file: the header could not be read ({exc})"
                             ) from exc


def header_from_dataset(path: str, ds: Dataset) -> FileHeader:
    """A ``FileHeader`` from a header-only dataset; raises ``NotAnImage`` for non-images."""
    reason = non_image_reason(ds)
    if reason is not None:
        raise NotAnImage(reason)
    frames = _int(ds.get("NumberOfFrames")) or 1
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
        for k in range(frames):
            item = _group_item(ds, k, "PlanePositionSequence")
            pos = _floats(item.get("ImagePositionPatient")) if item is not None else ()
            frame_positions.append(pos if len(pos) == 3 else None)  # type: ignore[arg-type]
        if frame_positions and frame_positions[0] is not None:
            position = frame_positions[0]  # type: ignore[assignment]
        groups = frame_groups(ds)
    rows, columns = int(ds.Rows), int(ds.Columns)
    mosaic_tiles = 0
    notes: list[str] = []
    if is_mosaic(ds) and frames == 1:
        mosaic = mosaic_geometry(ds, orientation, position if len(position) == 3 else None,
                                 spacing if len(spacing) >= 2 else (1.0, 1.0))
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
        orientation=orientation if len(orientation) == 6 else (),
        position=position if len(position) == 3 else None,  # type: ignore[arg-type]
        pixel_spacing=(spacing[0], spacing[1]) if len(spacing) >= 2 else (1.0, 1.0),
        photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip(),
        samples_per_pixel=_int(ds.get("SamplesPerPixel")) or 1,
        transfer_syntax=str(getattr(meta, "TransferSyntaxUID", "") or ""),
        frame_positions=tuple(frame_positions),
        spacing_between_slices=between,
        patient_orientation=_strings(ds.get("PatientOrientation")),
        mosaic_tiles=mosaic_tiles,
        notes=tuple(notes),
        frame_groups=groups,
        window=(center, width) if center is not None and width is not None and width > 0
        else None,
    )


def read_header(path: str) -> FileHeader:
    """Header-only read of one file; raises ``UnreadableFile`` or ``NotAnImage``."""
    return header_from_dataset(path, read_dataset(path))

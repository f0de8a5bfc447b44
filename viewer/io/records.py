"""Frozen data records of the data layer: what discovery finds and what loading returns.

Axis order everywhere is row-major ``(z, y, x)``: ``voxels[k, j, i]`` is slice ``k``, row ``j``,
column ``i``. Spacing follows the same order, in millimetres. Patient coordinates are DICOM LPS
millimetres ``(x, y, z)``.

This module imports neither Qt nor torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.io.acquisition import MRAcquisition

Orientation = str  # "axial" | "coronal" | "sagittal" | "oblique" | "unknown" (no IOP)


@dataclass(frozen=True)
class WindowPreset:
    """A display window: ``center`` and ``width`` in the volume's units (HU for CT)."""

    name: str
    center: float
    width: float

    @property
    def levels(self) -> tuple[float, float]:
        """(low, high) display levels."""
        return (self.center - self.width / 2.0, self.center + self.width / 2.0)


@dataclass(frozen=True)
class PatientInfo:
    """Identifying data, kept apart so the anonymised display can hide it in one place."""

    name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    sex: str = ""


@dataclass(frozen=True)
class SkippedFile:
    """A file discovery or loading passed over, with a reason a reader can act on."""

    path: str
    reason: str


@dataclass(frozen=True)
class SeriesInfo:
    """One displayable series as found by header-only discovery.

    ``files`` are in slice order (by ImagePositionPatient projected on the slice normal) when the
    geometry allows it. ``uid`` is unique within a discovery result: it is the SeriesInstanceUID,
    with a suffix such as ``".o2"``, ``".s2"`` or ``".f2"`` when one UID had to be split by
    orientation, image size or image set of a multi-frame file (e.g. magnitude / field map).
    """

    uid: str
    series_instance_uid: str
    study_instance_uid: str
    modality: str
    description: str
    study_description: str
    patient: PatientInfo
    files: tuple[str, ...]
    rows: int
    columns: int
    frames_per_file: int = 1
    series_number: int | None = None
    orientation: Orientation = "oblique"
    image_orientation: tuple[float, ...] = ()  # six direction cosines (row x,y,z, col x,y,z)
    pixel_spacing: tuple[float, float] = (1.0, 1.0)  # (row spacing = y, column spacing = x) mm
    slice_step: float | None = None  # mm along the normal between neighbours, when uniform
    photometric: str = "MONOCHROME2"
    transfer_syntax: str = ""
    warnings: tuple[str, ...] = ()
    #: PatientOrientation (0020,0020) shared by every image (row, column direction letters), or
    #: () when absent or when the images disagree. Gives edge letters when orientation is
    #: "unknown" (no ImageOrientationPatient).
    patient_orientation: tuple[str, ...] = ()
    #: Siemens mosaic: slices packed as tiles in each stored image (0 = not a mosaic). Then
    #: ``rows``/``columns`` are one tile's size, ``frames_per_file`` the tile count, and the
    #: loader cuts each file's image into tiles (viewer.io.mosaic.split_mosaic).
    mosaic_tiles: int = 0
    #: Multi-frame file holding several image sets (e.g. magnitude and field map): the frames
    #: of this series, 0-based in storage order, in each of ``files``; () = all frames.
    frame_indices: tuple[int, ...] = ()
    #: FrameOfReferenceUID: series sharing one are in the same patient space (same session,
    #: no repositioning), so positions in mm can be compared directly; "" when absent.
    frame_of_reference_uid: str = ""
    #: StudyDate (YYYYMMDD, "" when absent) and BodyPartExamined (upper case as stored).
    study_date: str = ""
    body_part: str = ""
    #: MR acquisition parameters of the series' first image (None for other modalities or
    #: when the header gives none): the weighting the MR classifiers' calls are checked against.
    acquisition: MRAcquisition | None = None

    @property
    def n_slices(self) -> int:
        """Number of 2D images in the series (frames of multi-frame files included)."""
        return len(self.files) * max(1, self.frames_per_file)


@dataclass(frozen=True)
class DiscoveryResult:
    """All series found under some paths, plus every file passed over and why."""

    series: tuple[SeriesInfo, ...]
    skipped: tuple[SkippedFile, ...] = ()


@dataclass(frozen=True)
class Volume:
    """A loaded series.

    ``voxels``: float32, shape ``(z, y, x)`` (or ``(z, y, x, 3)`` RGB for colour), C-contiguous.
    Grey values equal pydicom's decode after the modality transform (Modality LUT Sequence, else
    rescale slope/intercept: HU for CT). **MONOCHROME1 rule:** the values are never inverted
    (high value = dark, as stored); ``invert_display`` is True and only the display flips the
    grey scale, after the window. Colour (RGB, YBR_* converted to RGB, PALETTE COLOR with its
    palette applied) has ``is_rgb`` True, values 0..255 (deeper colour scaled by
    255 / (2**bits - 1)) and the fixed window 0..255 (center 127.5, width 255): no per-channel
    window. See ``viewer.io.colour``.
    ``spacing``: ``(z, y, x)`` mm; ``spacing[0]`` is the real step along the stack (not SimpleITK's
    guess) or 1.0 with a warning when the stack has no uniform step.
    ``origin``: patient LPS mm ``(x, y, z)`` of voxel ``(0, 0, 0)``.
    ``direction``: 3x3, columns are the patient-space unit vectors of the index axes i (x, column),
    j (y, row) and k (z, slice).
    ``slice_files``: the file each slice came from (for the tag browser), one per slice.
    """

    voxels: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    modality: str
    series_uid: str
    description: str = ""
    study_description: str = ""
    patient: PatientInfo = field(default_factory=PatientInfo)
    window: WindowPreset = WindowPreset("Default", 0.0, 1.0)
    presets: tuple[WindowPreset, ...] = ()
    warnings: tuple[str, ...] = ()
    slice_files: tuple[str, ...] = ()
    invert_display: bool = False
    is_rgb: bool = False
    orientation: Orientation = "oblique"
    #: PatientOrientation letters (row, column) for volumes without ImageOrientationPatient
    #: (``orientation == "unknown"``); see ``viewer.io.geometry.volume_edge_labels``.
    patient_orientation: tuple[str, ...] = ()
    #: MR acquisition parameters (``SeriesInfo.acquisition``), None when unknown.
    acquisition: MRAcquisition | None = None

    @property
    def n_slices(self) -> int:
        return int(self.voxels.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(z, y, x) voxel counts."""
        return tuple(int(s) for s in self.voxels.shape[:3])  # type: ignore[return-value]

    def index_to_patient(self, k: float, j: float, i: float) -> np.ndarray:
        """Patient LPS mm (x, y, z) of voxel index (k, j, i) (slice, row, column)."""
        steps = np.array([i * self.spacing[2], j * self.spacing[1], k * self.spacing[0]])
        return np.asarray(self.origin, dtype=float) + np.asarray(self.direction, float) @ steps

    def patient_to_index(self, point: np.ndarray) -> np.ndarray:
        """Voxel index (k, j, i) as floats of a patient LPS point (x, y, z) in mm."""
        rel = np.asarray(point, float) - np.asarray(self.origin, float)
        ijk = np.linalg.solve(np.asarray(self.direction, float), rel)
        i, j, k = ijk / np.array([self.spacing[2], self.spacing[1], self.spacing[0]])
        return np.array([k, j, i])

"""Slice geometry: ordering, spacing along the stack, and the checks SimpleITK does not make.

All positions are DICOM patient LPS millimetres ``(x, y, z)``. ``ImageOrientationPatient`` is the
six direction cosines ``(row x, y, z, column x, y, z)``: the row cosine points along increasing
column index ``i`` (screen right), the column cosine along increasing row index ``j`` (screen down).
The slice normal is ``row x column``; slices are ordered by their position projected on it.

Problems are returned as warning strings a reader understands; the images always stay viewable.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Two slices closer than this along the normal (mm) share one position.
SAME_POSITION_MM = 0.01
#: Tilt between the stack direction and the slice normal below this (degrees) is ignored.
TILT_TOLERANCE_DEG = 0.5
#: A component of a unit vector above this names a patient direction in orientation labels.
_LABEL_COMPONENT = 0.25
#: |normal| component above this gives an axial/coronal/sagittal label, else "oblique".
_MAJOR_AXIS_COS = 0.8


def fmt_mm(value: float) -> str:
    """A length or angle for a message: at most two decimals, at least one (``5.0``, ``0.75``)."""
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def fmt_deg(value: float) -> str:
    """An angle for a message: whole degrees when close, else one decimal (``14``, ``15.5``)."""
    rounded = round(value, 1)
    return str(int(round(rounded))) if abs(rounded - round(rounded)) < 0.05 else f"{rounded:.1f}"


def normal_from_orientation(orientation: Sequence[float]) -> np.ndarray:
    """Unit slice normal (LPS) from the six ImageOrientationPatient cosines."""
    row = np.asarray(orientation[:3], dtype=float)
    col = np.asarray(orientation[3:6], dtype=float)
    normal = np.cross(row, col)
    norm = float(np.linalg.norm(normal))
    if norm < 1e-6:
        raise ValueError("ImageOrientationPatient has parallel row and column directions")
    return normal / norm


def direction_matrix(orientation: Sequence[float]) -> np.ndarray:
    """3x3 matrix whose columns are the LPS unit vectors of index axes i (column), j (row), k."""
    row = np.asarray(orientation[:3], dtype=float)
    col = np.asarray(orientation[3:6], dtype=float)
    row = row / (np.linalg.norm(row) or 1.0)
    col = col / (np.linalg.norm(col) or 1.0)
    return np.column_stack([row, col, normal_from_orientation(orientation)])


def orientation_label(normal: Sequence[float]) -> str:
    """``"axial"``, ``"coronal"``, ``"sagittal"`` or ``"oblique"`` for a slice normal (LPS)."""
    n = np.abs(np.asarray(normal, dtype=float))
    axis = int(np.argmax(n))
    if n[axis] < _MAJOR_AXIS_COS:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def same_orientation(a: Sequence[float], b: Sequence[float], tol: float = 1e-3) -> bool:
    """Whether two ImageOrientationPatient values describe the same plane orientation."""
    if len(a) != 6 or len(b) != 6:
        return len(a) == len(b)
    if tuple(a) == tuple(b):  # the usual case, without numpy's overhead
        return True
    return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), atol=tol))


def _letters(vector: np.ndarray) -> str:
    """Patient direction letters (L/R, P/A, S/I) of a unit LPS vector, strongest first."""
    names = (("L", "R"), ("P", "A"), ("S", "I"))
    parts = []
    for axis in np.argsort(-np.abs(vector)):
        value = float(vector[axis])
        if abs(value) >= _LABEL_COMPONENT:
            parts.append(names[axis][0] if value > 0 else names[axis][1])
    return "".join(parts[:2])


def edge_labels(direction: np.ndarray) -> dict[str, str]:
    """Patient directions at the screen edges when ``voxels[k]`` is shown with y down, x right.

    ``direction`` is a Volume's 3x3 matrix (columns: LPS unit vectors of i, j, k). Returns a dict
    with keys ``"left"``, ``"right"``, ``"top"``, ``"bottom"`` and values such as ``"A"``, ``"P"``,
    ``"S"``, ``"I"``, ``"R"``, ``"L"``, or two letters (``"RA"``) for oblique planes, strongest
    component first. Only meaningful when the direction comes from ImageOrientationPatient: for
    a volume use ``volume_edge_labels``, which gives no invented letters.
    """
    d = np.asarray(direction, dtype=float)
    i_axis, j_axis = d[:, 0], d[:, 1]
    return {
        "right": _letters(i_axis),
        "left": _letters(-i_axis),
        "bottom": _letters(j_axis),
        "top": _letters(-j_axis),
    }


#: Orientation label of images without ImageOrientationPatient (projection images, ultrasound,
#: secondary captures): the plane is not known, so it is neither "oblique" nor a named plane.
UNKNOWN = "unknown"


#: Opposite of each single-letter PatientOrientation code (DICOM PS3.3 C.7.6.1.1.1).
_OPPOSITE = {"A": "P", "P": "A", "R": "L", "L": "R", "H": "F", "F": "H"}
#: Quadruped codes with an unambiguous opposite (others get no opposite letter).
_OPPOSITE_WORDS = {"LE": "RT", "RT": "LE", "CR": "CD", "CD": "CR", "PR": "DI", "DI": "PR"}


def _opposite(code: str) -> str:
    """The opposite of a PatientOrientation value (``"AL"`` -> ``"PR"``), or "" if unknown."""
    code = code.strip().upper()
    if code in _OPPOSITE_WORDS:
        return _OPPOSITE_WORDS[code]
    if code and all(c in _OPPOSITE for c in code):
        return "".join(_OPPOSITE[c] for c in code)
    return ""


def patient_orientation_labels(patient_orientation: Sequence[str]) -> dict[str, str]:
    """Edge letters from PatientOrientation (0020,0020): its first value is the direction of
    the rows (toward the right edge, increasing column index x), its second that of the columns
    (toward the bottom edge, increasing row index y). Letters are the header's own (A/P, R/L,
    H/F). All four values are "" when the attribute is absent or malformed."""
    values = [str(v).strip().upper() for v in patient_orientation]
    if len(values) != 2 or not all(values):
        return {"left": "", "right": "", "top": "", "bottom": ""}
    row, column = values
    return {"right": row, "left": _opposite(row), "bottom": column, "top": _opposite(column)}


def volume_edge_labels(volume: object) -> dict[str, str]:
    """Edge letters of a loaded ``Volume`` (keys left/right/top/bottom).

    From ImageOrientationPatient (``volume.direction``) when the volume has it; otherwise
    (``volume.orientation == "unknown"``: radiographs, ultrasound, secondary captures) from
    PatientOrientation when the header has it, else no letters at all: never invented ones.
    """
    if getattr(volume, "orientation", "") == UNKNOWN:
        return patient_orientation_labels(getattr(volume, "patient_orientation", ()))
    return edge_labels(np.asarray(volume.direction))


def series_orientation_label(orientation: Sequence[float]) -> str:
    """``"axial"``/``"coronal"``/``"sagittal"``/``"oblique"`` from six ImageOrientationPatient
    cosines, ``"unknown"`` without them (or when they are degenerate)."""
    if len(orientation) != 6:
        return UNKNOWN
    try:
        return orientation_label(normal_from_orientation(orientation))
    except ValueError:
        return UNKNOWN


@dataclass(frozen=True)
class StackGeometry:
    """What the positions of a stack of 2D images say.

    ``order``: indices into the input positions, in display order (ascending along the normal).
    ``distances``: mm along the normal of each image, in display order.
    ``step``: uniform step in mm along the normal, or ``None`` when there is none.
    ``spacing``: the value to use as ``spacing[0]``: ``step``, else the most common step of an
    uneven stack, else 1.0 (duplicate or missing positions).
    ``is_volume``: False when images share positions (browse as separate images).
    """

    order: tuple[int, ...]
    distances: tuple[float, ...]
    step: float | None
    spacing: float
    tilt_deg: float
    is_volume: bool
    warnings: tuple[str, ...]


def _step_values(steps: np.ndarray) -> list[float]:
    """Distinct step values (mm), clustered at 1 % / 0.02 mm, ascending."""
    values: list[float] = []
    for s in sorted(float(v) for v in steps):
        if values and abs(s - values[-1]) <= max(0.02, 0.01 * values[-1]):
            continue
        values.append(s)
    return values


def _most_common_step(steps: np.ndarray) -> float:
    counts = Counter(round(float(s), 2) for s in steps)
    best = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    return float(np.median([s for s in steps if round(float(s), 2) == best]))


def analyse_stack(
    positions: Sequence[Sequence[float] | None], orientation: Sequence[float]
) -> StackGeometry:
    """Order a stack of images sharing one orientation and check its geometry.

    ``positions``: ImagePositionPatient (LPS mm) per image, in a stable fallback order (instance
    number); ``None`` where a header lacks it. ``orientation``: the six shared direction cosines.
    Ties (same position) keep the input order.
    """
    n = len(positions)
    warnings: list[str] = []
    if n == 0:
        return StackGeometry((), (), None, 1.0, 0.0, False, ())
    if any(p is None for p in positions) or len(orientation) != 6:
        if n > 1:
            warnings.append(
                "Slice positions are missing from the headers: images are ordered by instance "
                "number and distances along the stack are unknown"
            )
        if 1 < n < 3:
            warnings.append(f"Only {n} slices: 3D tools are off")
        return StackGeometry(tuple(range(n)), tuple(0.0 for _ in range(n)), None, 1.0, 0.0,
                             n == 1, tuple(warnings))
    pos = np.asarray(positions, dtype=float)
    normal = normal_from_orientation(orientation)
    dist = pos @ normal
    order = np.argsort(dist, kind="stable")
    dist_sorted = dist[order]
    if n == 1:
        return StackGeometry((0,), (float(dist[0]),), None, 1.0, 0.0, True, ())
    steps = np.diff(dist_sorted)
    same = steps < SAME_POSITION_MM
    step: float | None = None
    spacing = 1.0
    tilt = 0.0
    is_volume = True
    if same.any():
        is_volume = False
        shared = int(n - (np.count_nonzero(~same) + 1))
        if same.all():
            warnings.append(f"{n} images share one position: shown as separate images, "
                            "not a volume")
        else:
            groups = int(np.count_nonzero(~same)) + 1
            warnings.append(
                f"{n} images share {groups} positions ({shared} repeated): shown as separate "
                "images, not a volume (repeated acquisitions, echoes or time points?)"
            )
    else:
        values = _step_values(steps)
        if len(values) == 1:
            step = float(np.mean(steps))
            spacing = step
        else:
            spacing = _most_common_step(steps)
            listed = " and ".join(f"{fmt_mm(v)} mm" for v in values) if len(values) <= 3 else (
                f"{fmt_mm(values[0])} mm to {fmt_mm(values[-1])} mm")
            warnings.append(
                f"Uneven slice spacing ({listed}): a slice may be missing; distances along the "
                "stack are approximate"
            )
        stack_dir = pos[order[-1]] - pos[order[0]]
        length = float(np.linalg.norm(stack_dir))
        if length > 0:
            cos = min(1.0, abs(float(stack_dir @ normal)) / length)
            tilt = math.degrees(math.acos(cos))
            if tilt > TILT_TOLERANCE_DEG:
                warnings.append(
                    f"Gantry tilt of {fmt_deg(tilt)} degrees: slices are shown as acquired; "
                    f"the step along the stack is {fmt_mm(spacing)} mm and reformatted views "
                    "are sheared"
                )
    if n < 3:
        warnings.append(f"Only {n} slices: 3D tools are off")
    return StackGeometry(
        tuple(int(i) for i in order), tuple(float(d) for d in dist_sorted), step, float(spacing),
        float(tilt), is_volume, tuple(warnings),
    )

"""Qt-free geometry of compared series: which slice of one series matches a slice of another, and
where one slice plane cuts another (reference lines).

A slice ``k`` of a :class:`~viewer.io.records.Volume` is the plane through
``index_to_patient(k, 0, 0)`` spanned by the direction columns i (x, column) and j (y, row);
patient coordinates are LPS mm ``(x, y, z)``. View coordinates of a slice are the ones
:class:`~viewer.ui.views.slice_view.SliceView` draws in: ``x = (i + 0.5) * spacing_x``,
``y = (j + 0.5) * spacing_y`` mm (pixel centres), so a reference line can be drawn directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.io.records import Volume

PARALLEL_SINE = 1e-3  # planes closer to parallel than this (|sin angle|) have no reference line


@dataclass(frozen=True)
class SliceMatch:
    """Slice of a target series matching a source position: ``k`` (clamped to the stack), the
    distance in slices from the exact position (``offset``), and ``inside`` (within half a slice
    of a real slice of the target)."""

    k: int
    offset: float
    inside: bool


def slice_centre(volume: Volume, k: int) -> np.ndarray:
    """Patient LPS mm of the centre of slice ``k``."""
    _, ny, nx = volume.shape
    return volume.index_to_patient(k, (ny - 1) / 2.0, (nx - 1) / 2.0)


def slice_normal(volume: Volume) -> np.ndarray:
    """Unit normal of the slices (the k direction column)."""
    n = np.asarray(volume.direction, float)[:, 2]
    return n / np.linalg.norm(n)


def matching_slice(target: Volume, point: np.ndarray) -> SliceMatch:
    """The slice of ``target`` nearest to patient ``point`` along the target's slice normal."""
    kf = float(target.patient_to_index(np.asarray(point, float))[0])
    k = int(np.clip(np.rint(kf), 0, target.n_slices - 1))
    return SliceMatch(k, kf - k, abs(kf - k) <= 0.5 + 1e-6)


def index_slice(source_k: int, target: Volume, offset: int) -> int:
    """Slice of ``target`` for source slice ``source_k`` when the series share no frame of
    reference: same index plus the reader's ``offset``, clamped to the stack."""
    return int(np.clip(source_k + offset, 0, target.n_slices - 1))


def _plane(volume: Volume, k: int) -> tuple[np.ndarray, np.ndarray]:
    return volume.index_to_patient(k, 0, 0), slice_normal(volume)


def _clip_to_slice(volume: Volume, p0: np.ndarray, d: np.ndarray,
                   t0: float, t1: float) -> tuple[float, float] | None:
    """Clip the line ``p0 + t d`` (t in [t0, t1]) to the in-plane extent of ``volume``'s slices
    (pixel edges: i in [-0.5, nx - 0.5], j likewise) — Liang-Barsky on two linear functions."""
    _, ny, nx = volume.shape
    a = volume.patient_to_index(p0)
    b = volume.patient_to_index(p0 + d) - a          # index change per unit t (k, j, i)
    for axis, n in ((2, nx), (1, ny)):
        lo, hi = -0.5, n - 0.5
        if abs(b[axis]) < 1e-12:
            if not lo <= a[axis] <= hi:
                return None
            continue
        ta, tb = (lo - a[axis]) / b[axis], (hi - a[axis]) / b[axis]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
        if t0 > t1:
            return None
    return t0, t1


def reference_line(target: Volume, target_k: int, other: Volume, other_k: int
                   ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where slice ``other_k`` of ``other`` cuts slice ``target_k`` of ``target``: the segment's
    two ends in ``target``'s view mm ((x, y), (x, y)), limited to both images; None when the
    planes are parallel or the line misses either image. Works for any (oblique) orientation."""
    pa, na = _plane(target, target_k)
    pb, nb = _plane(other, other_k)
    d = np.cross(na, nb)
    s = float(np.linalg.norm(d))
    if s < PARALLEL_SINE:
        return None
    d = d / s
    # the point of the line nearest the origin: solve [na; nb; d] p = [na.pa; nb.pb; 0]
    p0 = np.linalg.solve(np.vstack([na, nb, d]), np.array([na @ pa, nb @ pb, 0.0]))
    span = 1e7
    clipped = _clip_to_slice(target, p0, d, -span, span)
    if clipped is not None:
        clipped = _clip_to_slice(other, p0, d, *clipped)
    if clipped is None:
        return None
    sy, sx = float(target.spacing[1]), float(target.spacing[2])
    ends = []
    for t in clipped:
        _, j, i = target.patient_to_index(p0 + t * d)
        ends.append(((float(i) + 0.5) * sx, (float(j) + 0.5) * sy))
    return ends[0], ends[1]

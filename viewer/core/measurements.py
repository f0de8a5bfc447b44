"""Measurements without widgets: ruler, angle and ellipse ROI geometry and statistics.

Points are patient LPS millimetres ``(x, y, z)`` so a measurement means the same thing in every
view and survives a change of layout; lengths are therefore true 3D distances in mm, computed from
the pixel spacing of the series. Region statistics read the plane image the ROI was drawn on
(values in the volume's units: HU for CT); :func:`restored_stats` recomputes them for a
measurement read back from a session file.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from viewer.core.reformat import extract, plane_geometry

if TYPE_CHECKING:
    from viewer.io.records import Volume

KINDS = ("ruler", "angle", "ellipse")
#: Points per kind: ruler (start, end); angle (arm end, vertex, arm end); ellipse (centre,
#: end of the first semi-axis, end of the second semi-axis).
N_POINTS = {"ruler": 2, "angle": 3, "ellipse": 3}

Point = tuple[float, float, float]


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixels whose centres lie inside an ROI.

    ``mean``/``sd``/``minimum``/``maximum`` in the volume's units (``unit``: "HU" for CT);
    ``area_mm2``: the drawn ellipse's area (pi a b); ``n_pixels``: pixels counted.
    """

    mean: float
    sd: float
    minimum: float
    maximum: float
    area_mm2: float
    n_pixels: int
    unit: str = ""


@dataclass(frozen=True)
class Measurement:
    """One measurement: ``kind`` in :data:`KINDS`, ``points`` in patient LPS mm, the ``plane``
    it was drawn on ("native", "axial", "coronal" or "sagittal"), a user ``label`` and, for
    ellipses, the last computed ``stats``."""

    id: int
    kind: str
    points: tuple[Point, ...]
    plane: str = "native"
    label: str = ""
    stats: RoiStats | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown measurement kind {self.kind!r}")
        if len(self.points) != N_POINTS[self.kind]:
            raise ValueError(f"a {self.kind} needs {N_POINTS[self.kind]} points, "
                             f"got {len(self.points)}")

    def moved(self, points: Sequence[Sequence[float]]) -> "Measurement":
        """The same measurement with new points (stats dropped until recomputed)."""
        return replace(self, points=tuple(tuple(float(c) for c in p) for p in points),
                       stats=None)

    @property
    def value(self) -> float:
        """Length in mm (ruler), angle in degrees (angle), area in mm² (ellipse)."""
        if self.kind == "ruler":
            return ruler_length(*self.points)
        if self.kind == "angle":
            return angle_deg(*self.points)
        c, a, b = (np.asarray(p) for p in self.points)
        return float(math.pi * np.linalg.norm(a - c) * np.linalg.norm(b - c))

    def text(self) -> str:
        """Value as shown in the panel and the report: "42.3 mm", "37.5°",
        "mean 40.1 HU  SD 3.2  area 120.4 mm²"."""
        if self.kind == "ruler":
            return f"{self.value:.1f} mm"
        if self.kind == "angle":
            return f"{self.value:.1f}°"
        s = self.stats
        if s is None:
            return f"area {self.value:.1f} mm²"
        unit = f" {s.unit}" if s.unit else ""
        return f"mean {s.mean:.1f}{unit}  SD {s.sd:.1f}  area {s.area_mm2:.1f} mm²"

    def to_json(self) -> dict:
        """Plain dict for the session file and the report."""
        out = {"id": self.id, "kind": self.kind, "plane": self.plane, "label": self.label,
               "points_mm": [list(p) for p in self.points], "value": self.value,
               "value_unit": {"ruler": "mm", "angle": "deg", "ellipse": "mm2"}[self.kind]}
        if self.stats is not None:
            s = self.stats
            out["stats"] = {"mean": s.mean, "sd": s.sd, "min": s.minimum, "max": s.maximum,
                            "area_mm2": s.area_mm2, "n_pixels": s.n_pixels, "unit": s.unit}
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Measurement":
        """Inverse of :meth:`to_json` (stats are recomputed by the viewer)."""
        return cls(int(data["id"]), str(data["kind"]),
                   tuple(tuple(float(c) for c in p) for p in data["points_mm"]),
                   str(data.get("plane", "native")), str(data.get("label", "")))


def ruler_length(a: Sequence[float], b: Sequence[float]) -> float:
    """Distance in mm between two patient points."""
    return float(np.linalg.norm(np.asarray(b, float) - np.asarray(a, float)))


def angle_deg(a: Sequence[float], vertex: Sequence[float], b: Sequence[float]) -> float:
    """Angle in degrees (0-180) at ``vertex`` between the arms to ``a`` and ``b``."""
    va = np.asarray(a, float) - np.asarray(vertex, float)
    vb = np.asarray(b, float) - np.asarray(vertex, float)
    na, nb = np.linalg.norm(va), np.linalg.norm(vb)
    if na == 0 or nb == 0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(va @ vb / (na * nb), -1.0, 1.0))))


def ellipse_mask(shape: tuple[int, int], x0: float, y0: float, dx: float, dy: float,
                 centre: tuple[float, float], semi: tuple[float, float]) -> np.ndarray:
    """Boolean ``(rows, cols)`` mask of pixels whose centres lie inside an axis-aligned ellipse.

    ``x0, y0``: view mm of pixel (0, 0)'s centre; ``dx, dy``: pixel size (columns, rows) mm;
    ``centre``: (x, y) view mm; ``semi``: semi-axes (along x, along y) in mm.
    """
    rows, cols = shape
    ax, ay = abs(semi[0]), abs(semi[1])
    if ax <= 0 or ay <= 0:
        return np.zeros(shape, bool)
    x = x0 + np.arange(cols) * dx
    y = y0 + np.arange(rows) * dy
    return (((x[None, :] - centre[0]) / ax) ** 2 + ((y[:, None] - centre[1]) / ay) ** 2) <= 1.0


def ellipse_stats(image: np.ndarray, x0: float, y0: float, dx: float, dy: float,
                  centre: tuple[float, float], semi: tuple[float, float],
                  unit: str = "") -> RoiStats:
    """Mean, SD (sample, n-1), min, max, area and pixel count of an ellipse on a plane image.

    ``image``: ``(rows, cols)`` values in volume units; NaN pixels (outside a resampled plane)
    are not counted. Geometry arguments as in :func:`ellipse_mask`.
    """
    if image.ndim != 2:
        raise ValueError("region statistics need a greyscale image")
    mask = ellipse_mask(image.shape, x0, y0, dx, dy, centre, semi)
    values = np.asarray(image, np.float64)[mask]
    values = values[np.isfinite(values)]
    area = float(math.pi * abs(semi[0]) * abs(semi[1]))
    if values.size == 0:
        return RoiStats(math.nan, math.nan, math.nan, math.nan, area, 0, unit)
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return RoiStats(float(values.mean()), sd, float(values.min()), float(values.max()), area,
                    int(values.size), unit)


def window_from_region(values: np.ndarray) -> tuple[float, float]:
    """(centre, width) covering the 1-99 % range of the values in a region (auto window)."""
    v = np.asarray(values, np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("the region contains no image values")
    lo, hi = np.percentile(v, (1.0, 99.0))
    width = float(hi - lo)
    return float((lo + hi) / 2.0), width if width > 0 else 1.0


def restored_stats(m: Measurement, volume: Volume, unit: str = "") -> Measurement:
    """``m`` with its ellipse statistics recomputed on ``volume`` (values in ``unit``), as for a
    measurement read back from a session file (no view needed): on the native slice through the
    ellipse's centre, or on the reformatted plane it was drawn on. Rulers, angles, RGB volumes
    and centres outside the series come back unchanged."""
    if m.kind != "ellipse" or volume.is_rgb:
        return m
    c = np.asarray(m.points[0])
    if m.plane == "native":
        k = int(np.floor(volume.patient_to_index(c)[0] + 0.5))
        if not 0 <= k < volume.n_slices:
            return m
        sx, sy = volume.spacing[2], volume.spacing[1]
        img, x0, y0, dx, dy = volume.voxels[k], sx / 2, sy / 2, sx, sy
        to_view = lambda p: (((q := volume.patient_to_index(p))[2] + 0.5) * sx,  # noqa: E731
                             (q[1] + 0.5) * sy)
    else:
        g = plane_geometry(m.plane, volume.voxels.shape, volume.spacing, volume.origin,
                           volume.direction)
        img = extract(volume.voxels, g, g.depth_index(c), spacing=volume.spacing,
                      origin=volume.origin, direction=volume.direction, fill=np.nan)
        x0, y0, dx, dy, to_view = g.u0, g.v0, g.du, g.dv, g.to_view
    (cx, cy), (ux, uy), (vx, vy) = (to_view(p) for p in m.points)
    semi = (float(np.hypot(ux - cx, uy - cy)), float(np.hypot(vx - cx, vy - cy)))
    return replace(m, stats=ellipse_stats(np.asarray(img), x0, y0, dx, dy, (cx, cy), semi, unit))

"""Reformatting a volume into the three patient planes (numpy only, no Qt).

Patient coordinates are DICOM LPS millimetres ``(x, y, z)``. Each display plane has fixed screen
axes in patient space (radiological convention, as in 3D Slicer):

=========  ======================  ========================  ====================
plane      screen right (``u``)    screen down (``v``)       normal (``n = u x v``)
=========  ======================  ========================  ====================
axial      patient left  (+x)      posterior (+y)            superior (+z)
coronal    patient left  (+x)      inferior  (-z)            posterior (+y)
sagittal   posterior     (+y)      inferior  (-z)            right (-x)
=========  ======================  ========================  ====================

A view's 2D coordinates are millimetres along ``u`` and ``v``: a patient point ``p`` is drawn at
``(p . u, p . v)`` in every view, which is what keeps the linked crosshair exact.

Two extraction paths, chosen per volume from its direction matrix:

* **Axis-aligned** acquisitions (axial, coronal, sagittal, also flipped or permuted index axes):
  every plane is a strided numpy *view* of ``voxels`` (an integer index along one axis, a
  transpose and negative strides): no copy, no interpolation, every pixel is an acquired voxel.
* **Oblique** acquisitions: each plane is *resampled* in true patient orientation by trilinear
  interpolation of the acquired voxels (one 2D plane per call, never a copy of the volume).
  Pixels outside the acquired block get ``fill``. This is the honest choice for measurement and
  the crosshair: a point shown in one view is the same patient point in the others. The views
  say "resampled" in their corner text so the reader knows the pixels are interpolated.

Arrays are row-major: planes are ``(rows along v, columns along u)``, volumes ``(z, y, x)``
(``(z, y, x, 3)`` for RGB).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLANES = ("axial", "coronal", "sagittal")

#: (u, v) screen axes of each plane in LPS.
PLANE_AXES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
}

#: |cosine| above which an index axis counts as aligned with a patient axis.
ALIGNED_COS = 1.0 - 1e-4


@dataclass(frozen=True)
class PlaneGeometry:
    """Where a plane's pixels lie in patient space, for one volume.

    ``u``, ``v``, ``n``: LPS unit vectors (screen right, screen down, normal).
    ``du``, ``dv``, ``dn``: pixel size along u, v and step between planes, mm.
    ``shape``: ``(rows, columns)`` of the plane image; ``depths``: number of plane positions.
    ``u0``, ``v0``, ``n0``: mm along u, v, n of pixel (0, 0)'s centre and of depth 0.
    ``axes``: for aligned volumes, ``((axis, flip) for n, v, u)`` with ``axis`` the voxel array
    axis (0 = k, 1 = j, 2 = i) and ``flip`` True when the index runs against the screen axis;
    None for oblique volumes (resampled).
    """

    plane: str
    u: tuple[float, float, float]
    v: tuple[float, float, float]
    n: tuple[float, float, float]
    du: float
    dv: float
    dn: float
    shape: tuple[int, int]
    depths: int
    u0: float
    v0: float
    n0: float
    axes: tuple[tuple[int, bool], tuple[int, bool], tuple[int, bool]] | None

    @property
    def resampled(self) -> bool:
        """True when the plane is interpolated (oblique acquisition)."""
        return self.axes is None

    def to_view(self, point) -> tuple[float, float]:
        """View coordinates (mm along u, v) of a patient LPS point (x, y, z)."""
        p = np.asarray(point, float)
        return float(p @ np.asarray(self.u)), float(p @ np.asarray(self.v))

    def depth_mm(self, point) -> float:
        """Position of a patient point along the normal, mm."""
        return float(np.asarray(point, float) @ np.asarray(self.n))

    def to_patient(self, x: float, y: float, depth_mm: float) -> np.ndarray:
        """Patient LPS point of view coordinates ``(x, y)`` at ``depth_mm`` along the normal."""
        return (x * np.asarray(self.u) + y * np.asarray(self.v)
                + depth_mm * np.asarray(self.n))

    def depth_index(self, point) -> int:
        """Index of the plane position nearest to a patient point (clamped to the volume)."""
        d = (self.depth_mm(point) - self.n0) / self.dn
        return int(min(max(int(np.floor(d + 0.5)), 0), self.depths - 1))

    def depth_of(self, index: int) -> float:
        """mm along the normal of plane position ``index``."""
        return self.n0 + index * self.dn

    def pixel_to_view(self, row: float, col: float) -> tuple[float, float]:
        """View mm of pixel ``(row, col)``'s centre."""
        return self.u0 + col * self.du, self.v0 + row * self.dv

    def view_to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Fractional ``(row, col)`` of view mm ``(x, y)`` (pixel centres at integers)."""
        return (y - self.v0) / self.dv, (x - self.u0) / self.du

    def extent(self) -> tuple[float, float, float, float]:
        """``(left, top, width, height)`` of the plane image in view mm (pixel edges)."""
        rows, cols = self.shape
        return (self.u0 - self.du / 2, self.v0 - self.dv / 2, cols * self.du, rows * self.dv)


def _index_axes(direction: np.ndarray) -> np.ndarray:
    """(3, 3): row ``c`` is the LPS unit vector of array axis ``c`` (0 = k, 1 = j, 2 = i)."""
    d = np.asarray(direction, float)
    return np.stack([d[:, 2], d[:, 1], d[:, 0]])


def is_axis_aligned(direction: np.ndarray) -> bool:
    """Whether every index axis lies along a patient axis (views need no interpolation)."""
    axes = np.abs(_index_axes(direction))
    best = axes.max(axis=1)
    return bool((best > ALIGNED_COS).all() and len(set(axes.argmax(axis=1))) == 3)


def plane_geometry(plane: str, shape: tuple[int, ...], spacing, origin, direction) -> PlaneGeometry:
    """Geometry of ``plane`` ("axial", "coronal" or "sagittal") for a volume.

    ``shape``: voxel array shape ``(z, y, x[, 3])``; ``spacing``: ``(z, y, x)`` mm; ``origin``:
    LPS mm of voxel (0, 0, 0); ``direction``: the Volume's 3x3 matrix (columns i, j, k).
    """
    if plane not in PLANE_AXES:
        raise ValueError(f"unknown plane {plane!r}; choose one of {', '.join(PLANES)}")
    u = np.asarray(PLANE_AXES[plane][0])
    v = np.asarray(PLANE_AXES[plane][1])
    n = np.cross(u, v)
    dims = np.asarray(shape[:3], int)
    sp = np.asarray(spacing, float)
    axes_lps = _index_axes(direction)                      # rows: k, j, i
    origin = np.asarray(origin, float)
    corners = np.array([[a, b, c] for a in (0, dims[0] - 1) for b in (0, dims[1] - 1)
                        for c in (0, dims[2] - 1)], float)
    points = origin + (corners * sp) @ axes_lps            # voxel-centre corners, LPS
    aligned = is_axis_aligned(direction)
    out = []
    mapping = []
    for w in (n, v, u):
        cos = axes_lps @ w                                  # per array axis
        axis = int(np.argmax(np.abs(cos)))
        step = float(sp[axis])
        proj = points @ w
        lo, hi = float(proj.min()), float(proj.max())
        count = int(dims[axis]) if aligned else int(np.floor((hi - lo) / step + 0.5)) + 1
        out.append((lo, step, max(count, 1)))
        mapping.append((axis, bool(cos[axis] < 0)))
    (n0, dn, nd), (v0, dv, nv), (u0, du, nu) = out
    return PlaneGeometry(plane, tuple(u.tolist()), tuple(v.tolist()), tuple(n.tolist()),
                         du, dv, dn, (nv, nu), nd, u0, v0, n0,
                         tuple(mapping) if aligned else None)  # type: ignore[arg-type]


def volume_planes(volume) -> dict[str, PlaneGeometry]:
    """The three PlaneGeometry of a :class:`viewer.io.records.Volume`, keyed by plane name."""
    return {p: plane_geometry(p, volume.voxels.shape, volume.spacing, volume.origin,
                              volume.direction) for p in PLANES}


def extract(voxels: np.ndarray, geom: PlaneGeometry, depth: int, *, spacing=None, origin=None,
            direction=None, fill: float = 0.0) -> np.ndarray:
    """Plane ``depth`` of ``voxels`` as ``(rows, cols[, 3])`` in ``geom``'s screen orientation.

    Aligned volumes: a strided view of ``voxels`` (no copy). Oblique volumes: a new float32 array
    resampled by trilinear interpolation; ``spacing``, ``origin``, ``direction`` (the volume's)
    are then required and pixels outside the volume get ``fill``.
    """
    depth = int(min(max(depth, 0), geom.depths - 1))
    if geom.axes is not None:
        (an, fn), (av, fv), (au, fu) = geom.axes
        if voxels.shape[an] != geom.depths:
            raise ValueError(f"plane geometry of {geom.depths} positions used on a volume of "
                             f"{voxels.shape[an]}: the geometry belongs to another series")
        index: list = [slice(None)] * voxels.ndim
        index[an] = voxels.shape[an] - 1 - depth if fn else depth
        index[av] = slice(None, None, -1) if fv else slice(None)
        index[au] = slice(None, None, -1) if fu else slice(None)
        plane = voxels[tuple(index)]
        if av > au:  # remaining axes come out in array order; rows must follow v
            plane = np.swapaxes(plane, 0, 1)
        return plane
    if spacing is None or origin is None or direction is None:
        raise ValueError("an oblique plane needs the volume's spacing, origin and direction")
    return _resample(voxels, geom, depth, spacing, origin, direction, fill)


def _resample(voxels: np.ndarray, geom: PlaneGeometry, depth: int, spacing, origin, direction,
              fill: float) -> np.ndarray:
    rows, cols = geom.shape
    sp = np.asarray(spacing, float)
    inv = _index_axes(direction) / sp[:, None]              # LPS -> (k, j, i) per mm
    base = geom.to_patient(geom.u0, geom.v0, geom.depth_of(depth)) - np.asarray(origin, float)
    k0 = inv @ base
    ku = inv @ (np.asarray(geom.u) * geom.du)
    kv = inv @ (np.asarray(geom.v) * geom.dv)
    r = np.arange(rows, dtype=np.float32)[:, None]
    c = np.arange(cols, dtype=np.float32)[None, :]
    dims = voxels.shape[:3]
    coords = []
    inside = np.ones((rows, cols), bool)
    for a in range(3):
        f = (np.float32(k0[a]) + np.float32(ku[a]) * c + np.float32(kv[a]) * r)
        inside &= (f > -0.5) & (f < dims[a] - 0.5)
        coords.append(np.clip(f, 0.0, dims[a] - 1.0))
    lo = [np.minimum(np.floor(f).astype(np.intp), dims[a] - 2 if dims[a] > 1 else 0)
          for a, f in enumerate(coords)]
    w = [coords[a] - lo[a] for a in range(3)]
    hi = [np.minimum(lo[a] + 1, dims[a] - 1) for a in range(3)]
    extra = voxels.shape[3:]
    out = np.zeros((rows, cols) + extra, np.float32)
    for ck in (0, 1):
        wk = w[0] if ck else 1.0 - w[0]
        ik = hi[0] if ck else lo[0]
        for cj in (0, 1):
            wj = w[1] if cj else 1.0 - w[1]
            ij = hi[1] if cj else lo[1]
            for ci in (0, 1):
                wi = w[2] if ci else 1.0 - w[2]
                ii = hi[2] if ci else lo[2]
                weight = (wk * wj * wi).astype(np.float32)
                if extra:
                    weight = weight[..., None]
                out += weight * voxels[ik, ij, ii]
    out[~inside] = fill
    return out


def native_plane(direction: np.ndarray) -> str:
    """The display plane closest to the acquisition's slice plane (by the slice normal)."""
    k_axis = np.asarray(direction, float)[:, 2]
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(k_axis)))]

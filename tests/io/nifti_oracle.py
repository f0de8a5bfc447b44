"""Compare a SliceWise ``Volume`` with a NIfTI written by dcm2niix (the geometry oracle).

NIfTI stores data ``(i, j, k)`` with an affine to RAS mm; DICOM/SliceWise use LPS mm and
``voxels[k, j, i]``. ``as_volume_axes`` maps the NIfTI onto the volume's own axes (matching each
index axis by direction, flipping where they point opposite ways, e.g. dcm2niix's row flip), so
that voxels, spacing, origin, direction and slice order can be compared number by number.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Reoriented:
    """A NIfTI expressed on a volume's axes: ``voxels`` ``(z, y, x)``, ``spacing`` ``(z, y, x)``
    mm, ``origin`` LPS mm of voxel (0, 0, 0), ``direction`` columns i, j, k (LPS unit vectors),
    ``alignment`` the smallest |cos| between matched axes (1.0 = exactly collinear)."""

    voxels: np.ndarray
    spacing: tuple[float, float, float]
    origin: np.ndarray
    direction: np.ndarray
    alignment: float


def as_volume_axes(img, direction: np.ndarray) -> Reoriented:
    """``img`` (nibabel image, 3-D or the first volume of 4-D) on the axes of ``direction``
    (a Volume's 3x3: columns i, j, k)."""
    affine = LPS_FROM_RAS @ np.asarray(img.affine, float)
    matrix = affine[:3, :3]
    spacing_n = np.linalg.norm(matrix, axis=0)
    dirs_n = matrix / spacing_n
    data = np.asarray(img.get_fdata(dtype=np.float32))
    while data.ndim > 3:
        data = data[..., 0]
    while data.ndim < 3:
        data = data[..., np.newaxis]
    target = np.asarray(direction, float)
    perm, signs, cosines = [], [], []
    for a in range(3):
        dots = dirs_n.T @ target[:, a]
        b = int(np.argmax(np.abs(dots)))
        perm.append(b)
        signs.append(1 if dots[b] >= 0 else -1)
        cosines.append(abs(float(dots[b])))
    if sorted(perm) != [0, 1, 2]:
        raise ValueError(f"NIfTI axes do not match the volume's (matched {perm})")
    start = np.array([0 if signs[a] > 0 else data.shape[perm[a]] - 1 for a in range(3)])
    index = np.zeros(3)
    for a in range(3):
        index[perm[a]] = start[a]
    origin = affine[:3, :3] @ index + affine[:3, 3]
    xyz = np.transpose(data, perm)
    for a in range(3):
        if signs[a] < 0:
            xyz = np.flip(xyz, axis=a)
    voxels = np.ascontiguousarray(np.transpose(xyz, (2, 1, 0)))
    new_dirs = np.column_stack([dirs_n[:, perm[a]] * signs[a] for a in range(3)])
    spacing = tuple(float(spacing_n[perm[a]]) for a in (2, 1, 0))
    return Reoriented(voxels, spacing, origin, new_dirs, min(cosines))  # type: ignore[arg-type]


def geometry_differences(volume, ref: Reoriented, tol_mm: float = 0.01) -> list[str]:
    """What differs between ``volume`` and ``ref`` beyond ``tol_mm`` (shape, spacing, origin,
    direction as the displacement of the far corner, slice order); [] when they agree."""
    out = []
    if volume.shape != ref.voxels.shape[:3]:
        return [f"shape {volume.shape} vs dcm2niix {ref.voxels.shape[:3]}"]
    spacing = np.asarray(volume.spacing, float)
    if np.max(np.abs(spacing - ref.spacing)) > tol_mm:
        out.append(f"spacing {tuple(np.round(spacing, 4))} vs {tuple(np.round(ref.spacing, 4))}")
    origin = np.asarray(volume.origin, float)
    if np.linalg.norm(origin - ref.origin) > tol_mm:
        out.append(f"origin off by {np.linalg.norm(origin - ref.origin):.3f} mm")
    # Every corner of the volume, placed by each side's own geometry.
    shape = np.array(volume.shape, float) - 1
    worst = 0.0
    for corner in np.ndindex(2, 2, 2):
        k, j, i = np.array(corner) * shape
        ours = volume.index_to_patient(k, j, i)
        theirs = ref.origin + ref.direction @ (np.array([i, j, k]) * np.array(ref.spacing[::-1]))
        worst = max(worst, float(np.linalg.norm(ours - theirs)))
    if worst > tol_mm:
        out.append(f"corners off by up to {worst:.3f} mm (direction or slice order)")
    return out

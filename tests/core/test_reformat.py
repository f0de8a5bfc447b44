"""Reformatting into patient planes (no Qt): markers land where the crosshair is for axial,
coronal, sagittal and oblique acquisitions; aligned planes are views; resampling is exact for
linear fields; physical aspect comes from spacing."""
from __future__ import annotations

import numpy as np
import pytest

from viewer.core.reformat import PLANES, extract, is_axis_aligned, native_plane, plane_geometry, volume_planes
from viewer.io.records import Volume


def _rot(axis: int, deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    a, b = [x for x in range(3) if x != axis]
    m = np.eye(3)
    m[a, a], m[a, b], m[b, a], m[b, b] = c, -s, s, c
    return m


DIRECTIONS = {
    "axial": np.eye(3),
    "coronal": np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float),     # i L, j I, k P
    "sagittal": np.array([[0, 0, -1], [1, 0, 0], [0, -1, 0]], float),   # i P, j I, k R
    "axial_flipped": np.diag([-1.0, 1.0, -1.0]),                         # i R, j P, k I
    "oblique": _rot(0, 25) @ _rot(2, 15) @ np.eye(3),
}


def marker_volume(direction: np.ndarray, shape=(30, 40, 50), spacing=(3.0, 1.5, 1.2),
                  at=(11, 23, 31), radius: int = 2) -> tuple[Volume, np.ndarray]:
    """Background 0 with a bright cube (1000) around voxel ``at`` (k, j, i); returns the volume
    and the patient LPS mm of the marker centre."""
    vox = np.zeros(shape, np.float32)
    k, j, i = at
    vox[k - radius:k + radius + 1, j - radius:j + radius + 1, i - radius:i + radius + 1] = 1000.0
    vol = Volume(vox, spacing, (-40.0, 25.0, 100.0), direction, "CT", "1.2.3")
    return vol, vol.index_to_patient(*at)


@pytest.mark.parametrize("name", list(DIRECTIONS))
def test_marker_lands_under_crosshair_in_all_planes(name):
    vol, p = marker_volume(DIRECTIONS[name])
    for plane, geom in volume_planes(vol).items():
        img = extract(vol.voxels, geom, geom.depth_index(p), spacing=vol.spacing,
                      origin=vol.origin, direction=vol.direction)
        assert img.shape[:2] == geom.shape
        r, c = (int(round(v)) for v in geom.view_to_pixel(*geom.to_view(p)))
        assert img[r, c] > 900, (name, plane)
        # 6 voxels away (beyond the cube) along the screen axes the image is dark
        far = int(np.ceil(6 * max(vol.spacing) / min(geom.du, geom.dv)))
        for rr, cc in ((r, c + far), (r + far, c), (r, c - far), (r - far, c)):
            if 0 <= rr < img.shape[0] and 0 <= cc < img.shape[1]:
                assert img[rr, cc] < 100, (name, plane, rr, cc)


@pytest.mark.parametrize("name", ["axial", "coronal", "sagittal", "axial_flipped"])
def test_aligned_planes_are_views_with_physical_pixels(name):
    vol, _ = marker_volume(DIRECTIONS[name])
    assert is_axis_aligned(vol.direction)
    for geom in volume_planes(vol).values():
        img = extract(vol.voxels, geom, geom.depths // 2)
        assert np.shares_memory(img, vol.voxels)
        assert not geom.resampled
        left, top, width, height = geom.extent()
        assert width == pytest.approx(geom.shape[1] * geom.du)
        assert height == pytest.approx(geom.shape[0] * geom.dv)
    # coronal view of an axial volume: rows follow z (3 mm), columns x (1.2 mm)
    if name == "axial":
        cor = plane_geometry("coronal", vol.voxels.shape, vol.spacing, vol.origin, vol.direction)
        assert (cor.du, cor.dv, cor.dn) == (1.2, 3.0, 1.5)
        assert cor.shape == (30, 50) and cor.depths == 40
        img = extract(vol.voxels, cor, 7)
        np.testing.assert_array_equal(img, vol.voxels[::-1, 7, :])  # superior at the top


def test_native_plane_names():
    assert native_plane(DIRECTIONS["axial"]) == "axial"
    assert native_plane(DIRECTIONS["coronal"]) == "coronal"
    assert native_plane(DIRECTIONS["sagittal"]) == "sagittal"
    assert not is_axis_aligned(DIRECTIONS["oblique"])


def test_oblique_resampling_is_exact_for_a_linear_field():
    direction = DIRECTIONS["oblique"]
    shape, spacing, origin = (20, 30, 40), (2.5, 1.0, 1.3), np.array([5.0, -10.0, 30.0])
    k, j, i = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    steps = np.stack([i * spacing[2], j * spacing[1], k * spacing[0]], axis=-1)
    lps = origin + steps @ direction.T
    a = np.array([0.7, -0.3, 1.1])
    vox = (lps @ a).astype(np.float32)
    vol = Volume(vox, spacing, tuple(origin), direction, "MR", "x")
    for geom in volume_planes(vol).values():
        assert geom.resampled
        d = geom.depths // 2
        img = extract(vox, geom, d, spacing=spacing, origin=origin, direction=direction,
                      fill=np.nan)
        rows, cols = np.mgrid[:geom.shape[0], :geom.shape[1]]
        x = geom.u0 + cols * geom.du
        y = geom.v0 + rows * geom.dv
        pts = (x[..., None] * np.asarray(geom.u) + y[..., None] * np.asarray(geom.v)
               + geom.depth_of(d) * np.asarray(geom.n))
        ijk = ((pts - origin) @ direction) / np.array([spacing[2], spacing[1], spacing[0]])
        interior = np.all((ijk >= 0) & (ijk <= np.array(shape[::-1]) - 1), axis=-1)
        inside = np.isfinite(img)
        assert (inside >= interior).all() and interior.mean() > 0.2  # outside -> fill only
        inside &= interior
        np.testing.assert_allclose(img[inside], (pts @ a)[inside], atol=1e-2)


def test_rgb_and_bad_plane():
    vox = np.zeros((4, 5, 6, 3), np.float32)
    vox[2, 3, 4] = (10, 20, 30)
    g = plane_geometry("sagittal", vox.shape, (1, 1, 1), (0, 0, 0), np.eye(3))
    img = extract(vox, g, g.depth_index((4, 3, 2)))
    assert img.shape == (4, 5, 3)
    assert tuple(img[1, 3]) == (10, 20, 30)   # row: z=2 from the top (3 - 2), column: y=3
    with pytest.raises(ValueError, match="unknown plane"):
        plane_geometry("transverse", vox.shape, (1, 1, 1), (0, 0, 0), np.eye(3))
    assert set(PLANES) == {"axial", "coronal", "sagittal"}

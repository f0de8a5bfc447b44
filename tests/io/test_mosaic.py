"""Siemens mosaics cut into slices, checked against dcm2niix's reference NIfTI (Ref/N.nii)."""
from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from tests.io.nifti_oracle import as_volume_axes, geometry_differences
from viewer.io import discover, load_series
from viewer.io.mosaic import split_mosaic

nib = pytest.importorskip("nibabel")
FILES = [str(n) for n in range(1, 10)]


@pytest.mark.parametrize("name", FILES)
def test_each_transfer_syntax_is_the_35_slice_volume_dcm2niix_wrote(shared_dicom, name) -> None:
    result = discover(shared_path("transfer_syntaxes", f"{name}.dcm"))
    assert len(result.series) == 1
    series = result.series[0]
    assert (series.mosaic_tiles, series.rows, series.columns, series.n_slices) == (35, 64, 64, 35)
    volume = load_series(series)
    assert volume.shape == (35, 64, 64)
    assert volume.spacing == pytest.approx((3.6, 3.25, 3.25), abs=1e-3)
    ref = as_volume_axes(nib.load(shared_path("transfer_syntaxes", "Ref", f"{name}.nii")),
                         volume.direction)
    assert ref.alignment > 0.9999
    assert geometry_differences(volume, ref, tol_mm=0.01) == []
    np.testing.assert_array_equal(volume.voxels, ref.voxels)
    assert volume.warnings == ()


def test_mosaic_origin_is_the_first_tile_not_the_grid_corner(shared_dicom) -> None:
    path = shared_path("transfer_syntaxes", "1.dcm")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    volume = load_series(discover(path).series[0])
    corner = np.asarray(ds.ImagePositionPatient, float)
    # (384 - 64) / 2 = 160 pixels of 3.25 mm along both in-plane directions: 735 mm apart.
    assert np.linalg.norm(np.asarray(volume.origin) - corner) == pytest.approx(
        160 * 3.25 * np.sqrt(2), abs=0.01)


def test_folder_of_nine_is_4d_first_time_point_with_note(shared_dicom) -> None:
    result = discover(shared_path("transfer_syntaxes"))
    assert len(result.series) == 1
    volume = load_series(result.series[0])
    assert volume.shape == (35, 64, 64)
    assert "4-D series: time point 1 of 9 (35 slices each); Ctrl+Up / " \
        "Ctrl+Down browse the time points" in volume.warnings


def test_split_mosaic_fills_row_by_row_and_drops_empty_tiles() -> None:
    tiles = np.arange(5 * 2 * 3).reshape(5, 2, 3)
    grid = np.zeros((6, 9), dtype=tiles.dtype)  # 3x3 tiles of 2x3, the last four empty
    for t in range(5):
        r, c = divmod(t, 3)
        grid[r * 2:(r + 1) * 2, c * 3:(c + 1) * 3] = tiles[t]
    np.testing.assert_array_equal(split_mosaic(grid, 5, (2, 3)), tiles)
    np.testing.assert_array_equal(split_mosaic(grid[np.newaxis], 5, (2, 3)), tiles)
    with pytest.raises(ValueError):
        split_mosaic(grid, 5, (4, 3))

"""4-D series: each time point loads on its own (viewer.io.time_points), checked against
pydicom's decode of that time point's file (an independent oracle)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.conftest import shared_path
from tests.io.pydicom_oracle import oracle


def _same_frames(volume_voxels: np.ndarray, frames: np.ndarray) -> bool:
    """Every slice of the volume equals one frame of pydicom's decode (any order: the loader
    sorts by position), and there are as many of each."""
    if volume_voxels.shape != frames.shape:
        return False
    unused = list(range(len(frames)))
    for plane in volume_voxels:
        hit = next((f for f in unused if np.allclose(plane, frames[f], atol=1e-3)), None)
        if hit is None:
            return False
        unused.remove(hit)
    return True


def test_siemens_xa10_has_four_time_points_each_its_own_file():
    from viewer.io.discovery import discover
    from viewer.io.loader import load_series
    from viewer.io.time_points import load_time_point, time_point_count

    series = discover(shared_path("multiframe", "siemens_xa10")).series[0]
    assert time_point_count(series) == 4
    first = load_series(series)
    assert first.shape == (6, 64, 64)
    assert any("time point 1 of 4" in w for w in first.warnings)
    differs = 0
    for t in range(4):
        vol = load_time_point(series, t, first)
        frames, _ = oracle(series.files[t])
        assert _same_frames(vol.voxels, frames.astype(np.float32)), f"time point {t + 1}"
        assert vol.series_uid == first.series_uid
        assert any(f"time point {t + 1} of 4" in w for w in vol.warnings)
        assert vol.origin == pytest.approx(first.origin)
        differs += not np.array_equal(vol.voxels, first.voxels)
    assert differs == 3  # fMRI: every later time point differs from the first


def test_folder_of_nine_mosaics_opens_as_nine_time_points_of_35_slices():
    from viewer.io.discovery import discover
    from viewer.io.time_points import load_time_point, time_point_count

    folder = shared_path("transfer_syntaxes")
    series = [s for s in discover(folder).series if s.mosaic_tiles]
    assert len(series) == 1 and time_point_count(series[0]) == 9
    vol = load_time_point(series[0], 8)
    assert vol.shape == (35, 64, 64)


def test_three_d_series_has_one_time_point_and_refuses_others(ct_folder):
    from viewer.io.discovery import discover
    from viewer.io.errors import DicomLoadError
    from viewer.io.time_points import time_point_count, time_point_series

    series = discover(ct_folder).series[0]
    assert time_point_count(series) == 1
    assert time_point_count(None) == 1
    with pytest.raises(DicomLoadError, match="time point 2 does not exist"):
        time_point_series(series, 1)


def test_a_time_point_with_another_grid_is_refused():
    from viewer.io.discovery import discover
    from viewer.io.errors import DicomLoadError
    from viewer.io.loader import load_series
    from viewer.io.time_points import load_time_point

    series = discover(shared_path("multiframe", "siemens_xa10")).series[0]
    first = load_series(series)
    smaller = dataclasses.replace(first, voxels=first.voxels[:3])
    with pytest.raises(DicomLoadError, match="unlike the first time point"):
        load_time_point(series, 1, smaller)

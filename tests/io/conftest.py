"""Synthetic DICOM fixtures for the data-layer tests (written by viewer.io.write_series)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.io import PatientInfo, write_series


def ramp_volume(shape: tuple[int, int, int] = (6, 20, 24), offset: float = 0.0) -> np.ndarray:
    """A (z, y, x) volume whose every voxel differs: slice k, row j, column i."""
    z, y, x = np.indices(shape, dtype=np.float64)
    return (offset + 100.0 * z + 3.0 * y + x).astype(np.float32)


@pytest.fixture()
def ct_series(tmp_path: Path) -> tuple[Path, np.ndarray, list[Path]]:
    """A 6-slice CT series (HU) with known geometry in tmp_path/ct."""
    voxels = ramp_volume(offset=-1000.0)
    paths = write_series(tmp_path / "ct", voxels, spacing=(2.5, 0.8, 0.6),
                         origin=(-10.0, 20.0, 30.0), modality="CT",
                         series_description="Synthetic CT", study_description="Study",
                         patient=PatientInfo("Doe^Jane", "ID42", "19700101", "F"),
                         window=(40.0, 400.0))
    return tmp_path / "ct", voxels, paths

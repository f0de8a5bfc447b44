"""The built-in sample study: written once as real DICOM, read back by the data layer."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.io import discover, load_series


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SLICEWISE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_sample_study_written_once_and_readable(data_dir: Path) -> None:
    from viewer.core.sample_study import ensure_sample_study

    root = ensure_sample_study()
    assert root.is_relative_to(data_dir)
    stamp = {p: p.stat().st_mtime_ns for p in root.rglob("*.dcm")}
    assert len(stamp) == 48
    assert ensure_sample_study() == root
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.dcm")} == stamp, "must not rewrite"

    found = discover([root])
    assert not found.skipped
    by_modality = {s.modality: s for s in found.series}
    assert set(by_modality) == {"MR", "CT"}
    ct = load_series(by_modality["CT"])
    assert ct.shape == (24, 256, 256)
    assert ct.spacing == pytest.approx((5.0, 1.4, 1.4))
    assert ct.voxels.min() == pytest.approx(-1000, abs=30)   # air in HU
    assert np.percentile(ct.voxels, 99) > 100                # bone / contrast
    mr = load_series(by_modality["MR"])
    assert mr.shape == (24, 256, 256) and mr.modality == "MR"
    assert not ct.warnings and not mr.warnings

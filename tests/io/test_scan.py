"""The GDCM header scan used by discovery: same results as pydicom alone, fewer header reads."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import SHARED_DICOM
from tests.io.conftest import ramp_volume
from viewer.io import discover, write_series
from viewer.io import discovery as discovery_module
from viewer.io import scan as scan_module

pytest.importorskip("gdcm", reason="python-gdcm is not installed (discovery uses pydicom only)")


def _pydicom_only(monkeypatch: pytest.MonkeyPatch, paths):
    with monkeypatch.context() as m:
        m.setattr(discovery_module, "scan", lambda files: {})
        return discover(paths)


def _assert_same_discovery(monkeypatch: pytest.MonkeyPatch, paths) -> None:
    fast = discover(paths)
    slow = _pydicom_only(monkeypatch, paths)
    assert fast.skipped == slow.skipped
    assert [s.uid for s in fast.series] == [s.uid for s in slow.series]
    for a, b in zip(fast.series, slow.series):
        assert a == b, a.uid


def _mixed_folder(root: Path) -> Path:
    """Synthetic series with the cases the scan must get right: positions against the
    instance numbers, one UID in two orientations and two sizes, files without a
    SeriesInstanceUID, junk, a header cut short."""
    uid = pydicom.uid.generate_uid()
    write_series(root / "a", ramp_volume((5, 8, 8)), series_uid=uid, file_prefix="A",
                 positions=[(0.0, 0.0, 10.0 - 2.0 * k) for k in range(5)], modality="CT",
                 window=(40, 400))
    write_series(root / "b", ramp_volume((3, 8, 8)), series_uid=uid, file_prefix="B",
                 direction=np.array([[0, 1, 0], [0, 0, -1], [-1, 0, 0]], float).T)
    write_series(root / "c", ramp_volume((3, 6, 10)), series_uid=uid, file_prefix="C")
    for path in write_series(root / "d", ramp_volume((3, 8, 8)), file_prefix="D"):
        ds = pydicom.dcmread(path)
        del ds.SeriesInstanceUID
        ds.save_as(path)
    (root / "notes.txt").write_bytes(os.urandom(700))
    (root / "empty.dcm").write_bytes(b"")
    first = sorted((root / "a").iterdir())[0]
    (root / "cut.dcm").write_bytes(first.read_bytes()[:500])
    return root


def test_synthetic_edge_cases_match_pydicom_only(monkeypatch, tmp_path: Path) -> None:
    _assert_same_discovery(monkeypatch, _mixed_folder(tmp_path))


def test_pydicom_test_files_match_pydicom_only(monkeypatch) -> None:
    from pydicom.data import get_testdata_file
    ct = get_testdata_file("CT_small.dcm")
    if ct is None:
        pytest.skip("pydicom's test files are not installed")
    _assert_same_discovery(monkeypatch, Path(ct).parent)


def test_shared_collection_matches_pydicom_only(monkeypatch, shared_dicom) -> None:
    _assert_same_discovery(monkeypatch, SHARED_DICOM)


def test_one_pydicom_header_per_series_part(monkeypatch, tmp_path: Path) -> None:
    write_series(tmp_path, ramp_volume((12, 8, 8)), modality="CT")
    reads: list[str] = []
    real = discovery_module.read_dataset
    monkeypatch.setattr(discovery_module, "read_dataset",
                        lambda path: reads.append(path) or real(path))
    result = discover(tmp_path)
    assert result.series[0].n_slices == 12 and len(reads) == 1


def test_scan_values_and_what_it_leaves_to_pydicom(tmp_path: Path) -> None:
    paths = [str(p) for p in write_series(tmp_path / "s", ramp_volume((3, 8, 10)),
                                          spacing=(2.0, 0.5, 0.5), origin=(1.0, 2.0, 3.0))]
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(os.urandom(900))
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(Path(paths[0]).read_bytes()[:400])
    from pydicom.data import get_testdata_file
    others = [get_testdata_file(n) for n in ("test-SR.dcm", "SC_rgb_rle_2frame.dcm", "liver_1frame.dcm")]
    others = [str(p) for p in others if p is not None]
    found = scan_module.scan(paths + [str(junk), str(cut)] + others)
    assert sorted(found) == sorted(paths)  # SR, multi-frame, junk and cut files: pydicom
    ds = pydicom.dcmread(paths[1], stop_before_pixels=True)
    image = found[paths[1]]
    assert (image.rows, image.columns) == (8, 10)
    assert image.instance_number == int(ds.InstanceNumber)
    np.testing.assert_array_equal(image.position, [float(v) for v in ds.ImagePositionPatient])
    assert image.orientation == tuple(float(v) for v in ds.ImageOrientationPatient)
    assert image.series_instance_uid == ds.SeriesInstanceUID


def test_without_gdcm_discovery_reads_everything_with_pydicom(monkeypatch, tmp_path) -> None:
    write_series(tmp_path, ramp_volume((4, 8, 8)))
    monkeypatch.setattr(scan_module, "gdcm", None)
    assert scan_module.scan([str(p) for p in tmp_path.iterdir()]) == {}
    assert discover(tmp_path).series[0].n_slices == 4


def test_instance_uids_match_pydicom_and_leave_bad_files_out(tmp_path: Path) -> None:
    paths = [str(p) for p in write_series(tmp_path / "s", ramp_volume((3, 8, 10)))]
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(os.urandom(900))
    found = scan_module.instance_uids(paths + [str(junk), str(tmp_path / "missing.dcm")])
    if not scan_module.AVAILABLE:
        assert found == {}
        return
    assert found == {p: str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in paths}

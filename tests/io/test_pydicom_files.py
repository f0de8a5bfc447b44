"""pydicom's bundled test files: small images, truncated data, non-images, DICOMDIR."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from viewer.io import DicomLoadError, discover, load_series, read_tags


def _file(name: str) -> str:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    return str(path)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_small_images_load_with_rescale(name: str) -> None:
    path = _file(name)
    volume = load_series(discover(path).series[0])
    ds = pydicom.dcmread(path)
    expected = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(
        ds.get("RescaleIntercept", 0))
    np.testing.assert_array_equal(volume.voxels[0], expected)
    assert volume.spacing[1:] == pytest.approx(tuple(float(v) for v in ds.PixelSpacing))


def test_truncated_pixel_data_names_the_file() -> None:
    path = _file("MR_truncated.dcm")
    with pytest.raises(DicomLoadError) as info:
        load_series(discover(path).series[0])
    assert info.value.path == path
    assert "truncated" in info.value.reason and "8130 of 8192 bytes" in info.value.reason


@pytest.mark.parametrize("name, words", [
    ("rtstruct.dcm", "RT structure set"), ("test-SR.dcm", "Structured report")])
def test_non_images_skipped_with_reason(name: str, words: str) -> None:
    result = discover(_file(name))
    assert result.series == ()
    assert len(result.skipped) == 1 and words in result.skipped[0].reason


def test_dicomdir_lists_its_images() -> None:
    dicomdir = _file("DICOMDIR")
    result = discover(dicomdir)
    ds = pydicom.dcmread(dicomdir)
    listed = [r for r in ds.DirectoryRecordSequence if r.get("ReferencedFileID")]
    assert sum(s.n_slices for s in result.series) + len(result.skipped) >= len(listed) - 1
    assert len(result.series) >= 2
    walked = discover(Path(dicomdir).parent)
    assert any("DICOMDIR index file" in s.reason for s in walked.skipped)


def test_read_tags_flags_identifying_and_flattens_sequences() -> None:
    rows = read_tags(_file("CT_small.dcm"))
    by_keyword = {r.keyword: r for r in rows}
    assert by_keyword["PatientName"].tag == "(0010,0010)"
    assert by_keyword["PatientName"].is_identifying and by_keyword["PatientID"].is_identifying
    assert not by_keyword["Rows"].is_identifying and by_keyword["Rows"].value == "128"
    assert "PixelData" not in by_keyword
    nested = read_tags(_file("rtstruct.dcm"))
    assert max(r.depth for r in nested) >= 2
    assert all(len(r.value) <= 160 for r in nested)
    with pytest.raises(DicomLoadError):
        read_tags(__file__)

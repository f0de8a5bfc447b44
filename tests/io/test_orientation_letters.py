"""Edge letters and plane labels of images without ImageOrientationPatient (radiographs,
ultrasound, secondary captures): PatientOrientation or nothing, never invented letters."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from viewer.io import discover, load_series
from viewer.io.geometry import patient_orientation_labels, volume_edge_labels

_NO_LETTERS = {"left": "", "right": "", "top": "", "bottom": ""}


def _testdata(name: str) -> str:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    return str(path)


def _projection(tmp_path: Path, modality: str, patient_orientation: str | None) -> Path:
    """CT_small.dcm rewritten as a projection image: no IOP/IPP, another modality."""
    ds = pydicom.dcmread(_testdata("CT_small.dcm"))
    for keyword in ("ImageOrientationPatient", "ImagePositionPatient", "SliceLocation"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.Modality = modality
    if patient_orientation is not None:
        ds.PatientOrientation = patient_orientation.split("\\")
    out = tmp_path / f"{modality}.dcm"
    ds.save_as(out)
    return out


@pytest.mark.parametrize("modality", ["CR", "DX", "MG", "XA", "RF", "US", "SC"])
def test_projection_without_orientation_has_no_letters_and_is_not_oblique(
        tmp_path: Path, modality: str) -> None:
    path = _projection(tmp_path, modality, None)
    series = discover(path).series[0]
    assert series.orientation == "unknown"
    volume = load_series(series)
    assert volume.orientation == "unknown"
    assert volume_edge_labels(volume) == _NO_LETTERS


def test_patient_orientation_gives_the_edge_letters(tmp_path: Path) -> None:
    path = _projection(tmp_path, "DX", "A\\F")
    series = discover(path).series[0]
    assert series.orientation == "unknown" and series.patient_orientation == ("A", "F")
    volume = load_series(series)
    assert volume_edge_labels(volume) == {"right": "A", "left": "P", "bottom": "F", "top": "H"}


def test_ultrasound_rgb_file_is_unknown_without_letters() -> None:
    volume = load_series(discover(_testdata("examples_rgb_color.dcm")).series[0])
    assert volume.orientation == "unknown"
    assert volume_edge_labels(volume) == _NO_LETTERS


def test_real_cr_from_dicomdir_uses_its_patient_orientation() -> None:
    result = discover(_testdata("DICOMDIR"))
    crs = [s for s in result.series if s.modality == "CR"]
    assert crs and all(s.orientation == "unknown" for s in crs)
    for series in crs:
        ds = pydicom.dcmread(series.files[0], stop_before_pixels=True)
        row, column = (str(v) for v in ds.PatientOrientation)
        volume = load_series(series)
        labels = volume_edge_labels(volume)
        assert (labels["right"], labels["bottom"]) == (row, column)


def test_images_with_orientation_keep_their_letters(tmp_path: Path) -> None:
    volume = load_series(discover(_testdata("CT_small.dcm")).series[0])
    assert volume.orientation == "axial"
    assert volume_edge_labels(volume) == {"right": "L", "left": "R", "bottom": "P", "top": "A"}


@pytest.mark.parametrize("codes, expected", [
    (("L", "F"), {"right": "L", "left": "R", "bottom": "F", "top": "H"}),
    (("AL", "FP"), {"right": "AL", "left": "PR", "bottom": "FP", "top": "HA"}),
    (("LE", "CR"), {"right": "LE", "left": "RT", "bottom": "CR", "top": "CD"}),
    (("A",), _NO_LETTERS), ((), _NO_LETTERS),
])
def test_patient_orientation_labels(codes, expected) -> None:
    assert patient_orientation_labels(codes) == expected


def test_mixed_patient_orientations_give_no_shared_letters(tmp_path: Path) -> None:
    a = _projection(tmp_path / "a", "CR", "A\\F") if (tmp_path / "a").mkdir() is None else None
    b = _projection(tmp_path / "b", "CR", "L\\F") if (tmp_path / "b").mkdir() is None else None
    ds = pydicom.dcmread(b)
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.InstanceNumber = 2
    ds.save_as(b)
    series = discover([a, b]).series
    assert len(series) == 1 and series[0].n_slices == 2
    assert series[0].patient_orientation == ()
    volume = load_series(series[0])
    assert volume_edge_labels(volume) == _NO_LETTERS
    assert np.isfinite(volume.voxels).all()

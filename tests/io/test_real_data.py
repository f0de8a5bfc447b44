"""Every row of ../shared/dicom/README.md, checked against what SliceWise should do."""
from __future__ import annotations

import glob

import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from viewer.io import discover, edge_labels, load_series


def _one(*parts: str):
    result = discover(shared_path(*parts))
    assert len(result.series) == 1, [s.uid for s in result.series]
    return result.series[0], load_series(result.series[0])


def test_brain_sagittal_loads_cleanly_with_sagittal_letters(shared_dicom) -> None:
    series, volume = _one("brain_mr_t1_sagittal")
    assert volume.shape == (35, 256, 256) and volume.warnings == ()
    assert volume.spacing == pytest.approx((4.8, 1.015625, 1.015625), abs=0.01)
    assert volume.orientation == series.orientation == "sagittal"
    assert edge_labels(volume.direction) == {"left": "A", "right": "P", "top": "S",
                                             "bottom": "I"}


def test_ct_abdomen_in_hounsfield_units(shared_dicom) -> None:
    _, volume = _one("ct_abdomen")
    assert volume.shape == (12, 512, 512) and volume.warnings == ()
    assert volume.spacing == pytest.approx((3.0, 1.074, 1.074), abs=0.01)
    v = volume.voxels
    assert -1030 <= v.min() <= -950  # air
    centre = v[:, 200:312, 200:312]
    assert 0 <= float(np.median(centre)) <= 100  # soft tissue
    assert "Abdomen" in [p.name for p in volume.presets]


def test_compressed_forms_decode_identically(shared_dicom) -> None:
    volumes = [_one("compressed_series", kind)[1] for kind in ("j2k", "jpeg", "jpegls", "rle")]
    for v in volumes:
        assert v.shape == (4, 256, 256)
        assert v.spacing == pytest.approx((1.0, 1.0, 1.0), abs=0.01)
        np.testing.assert_array_equal(v.voxels, volumes[0].voxels)


def test_transfer_syntaxes_mosaic_identical_and_duplicates_warned(shared_dicom) -> None:
    # One Siemens EPI mosaic (6x6 tiles of 64x64, 35 slices 3.6 mm apart) in nine syntaxes.
    series, volume = _one("transfer_syntaxes")
    assert volume.shape == (35, 64, 64)
    assert volume.spacing == pytest.approx((3.6, 3.25, 3.25), abs=0.01)
    assert "4-D series: time point 1 of 9 (35 slices each); Ctrl+Up / " \
        "Ctrl+Down browse the time points" in volume.warnings
    grid = pydicom.dcmread(shared_path("transfer_syntaxes", "1.dcm")).pixel_array
    tiles = grid.reshape(6, 64, 6, 64).transpose(0, 2, 1, 3).reshape(36, 64, 64)[:35]
    np.testing.assert_array_equal(volume.voxels, tiles)  # tile order = slice order here
    for path in sorted(glob.glob(str(shared_path("transfer_syntaxes") / "*.dcm"))):
        single = load_series(discover(path).series[0])
        np.testing.assert_array_equal(single.voxels, volume.voxels)
        assert not any("pydicom" in w for w in single.warnings)  # SimpleITK read all nine


@pytest.mark.parametrize("folder, spacing_z, expected", [
    ("gantrytilting/001", 4.851, ["Gantry tilt of 14 degrees"]),
    ("sliceincrement/001", 5.0, ["Uneven slice spacing (5.0 mm and 10.0 mm)"]),
    ("sliceincrement/002", 0.75, ["Uneven slice spacing (0.75 mm and 1.5 mm)",
                                  "Gantry tilt of 15.5 degrees"]),
    ("notavolume/001", 1.0, ["4 images share one position: shown as separate images"]),
    ("slicecount/001", 1.0, ["Only 2 slices: 3D tools are off"]),
])
def test_geometry_edge_cases(shared_dicom, folder, spacing_z, expected) -> None:
    series, volume = _one("geometry_edge_cases", *folder.split("/"))
    assert volume.spacing[0] == pytest.approx(spacing_z, abs=0.01)
    assert len(volume.warnings) == len(expected)
    for text, warning in zip(expected, volume.warnings):
        assert warning.startswith(text)
    assert volume.n_slices == len(series.files)


def test_mixed_orientations_split_never_69_mm(shared_dicom) -> None:
    result = discover(shared_path("geometry_edge_cases", "sliceorientation", "001"))
    assert len(result.series) == 2
    assert {s.orientation for s in result.series} == {"sagittal", "axial"}
    for series in result.series:
        volume = load_series(series)
        assert volume.n_slices == 2 and volume.spacing[0] < 10
        assert any("mixed 2 image orientations" in w for w in volume.warnings)


def test_non_isotropic_rescale_exact(shared_dicom) -> None:
    _, volume = _one("geometry_edge_cases", "non_isotropic")
    assert volume.shape == (4, 28, 64)
    assert volume.spacing == pytest.approx((0.5, 4.0, 6.4), abs=0.01)
    for k, path in enumerate(volume.slice_files):
        ds = pydicom.dcmread(path)
        expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        np.testing.assert_allclose(volume.voxels[k], expected, rtol=1e-6, atol=1e-5)


def test_mr_12bit_signed_values(shared_dicom) -> None:
    # The three files are Siemens fMRI mosaics (6x6 tiles of 64x64, 35 slices) at one position.
    series, volume = _one("mr_12bit")
    assert volume.shape == (35, 64, 64)
    assert "4-D series: time point 1 of 3 (35 slices each); Ctrl+Up / " \
        "Ctrl+Down browse the time points" in volume.warnings
    for path in series.files:
        single = load_series(discover(path).series[0])
        grid = pydicom.dcmread(path).pixel_array
        tiles = grid.reshape(6, 64, 6, 64).transpose(0, 2, 1, 3).reshape(36, 64, 64)[:35]
        np.testing.assert_array_equal(single.voxels, tiles)
    assert volume.voxels.min() < 0  # the signed file really holds negative values


@pytest.mark.parametrize("name, shape, spacing", [
    ("philips_enhanced", (8, 256, 256), (1.2, 1.0, 1.0)),
    ("siemens_multiframe", (8, 256, 256), (0.9, 0.9375, 0.9375)),
    ("hyperfine", (8, 138, 112), (5.0, 1.61, 1.59)),
])
def test_multiframe_volumes(shared_dicom, name, shape, spacing) -> None:
    _, volume = _one("multiframe", name)
    assert volume.shape == shape
    assert volume.spacing == pytest.approx(spacing, abs=0.01)
    assert len(volume.slice_files) == shape[0]


def test_field_map_file_is_two_series_4_mm_apart_rescaled_per_frame(shared_dicom) -> None:
    # philips_fmap.dcm: 32 magnitude + 32 field-map frames at the same 32 positions.
    result = discover(shared_path("multiframe", "philips_fmap.dcm"))
    assert len(result.series) == 2 and len({s.uid for s in result.series}) == 2
    ds = pydicom.dcmread(result.series[0].files[0])
    groups = ds.PerFrameFunctionalGroupsSequence
    pixels = ds.pixel_array
    for series, kind in zip(result.series, ("M", "FIELD_MAP")):
        volume = load_series(series)
        assert volume.shape == (32, 64, 64)
        assert volume.spacing == pytest.approx((4.0, 4.0, 4.0), abs=0.01)
        frames = [k for k in range(64)
                  if groups[k].MRImageFrameTypeSequence[0].FrameType[3] == kind]
        assert len(frames) == 32
        frames.sort(key=lambda k: float(groups[k].PlanePositionSequence[0]
                                        .ImagePositionPatient[2]))
        for z, k in enumerate(frames):
            ipp = np.asarray(groups[k].PlanePositionSequence[0].ImagePositionPatient, float)
            assert np.linalg.norm(volume.index_to_patient(z, 0, 0) - ipp) < 0.01
            pvt = groups[k].PixelValueTransformationSequence[0]
            expected = pixels[k] * float(pvt.RescaleSlope) + float(pvt.RescaleIntercept)
            np.testing.assert_allclose(volume.voxels[z], expected, rtol=1e-5, atol=1e-3)
        voi = groups[frames[0]].FrameVOILUTSequence[0]
        assert (volume.window.center, volume.window.width) == (
            float(voi.WindowCenter), float(voi.WindowWidth))
        assert not any("share" in w for w in volume.warnings)
    _, sag = _one("multiframe", "philips_enhanced")
    first = sag.index_to_patient(0, 0, 0)
    last = sag.index_to_patient(7, 0, 0)
    assert np.linalg.norm(last - first) == pytest.approx(7 * 1.2, abs=0.01)


def test_4d_series_first_time_point_with_note(shared_dicom) -> None:
    series, volume = _one("multiframe", "siemens_xa10")
    assert len(series.files) == 4 and series.frames_per_file == 6
    assert volume.shape == (6, 64, 64)
    assert volume.spacing == pytest.approx((2.4, 3.375, 3.375), abs=0.01)
    assert "4-D series: time point 1 of 4 (6 slices each); Ctrl+Up / " \
        "Ctrl+Down browse the time points" in volume.warnings

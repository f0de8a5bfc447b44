"""Discovery and loading of series written by viewer.io.write_series (no real data needed)."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pydicom
import pytest

from viewer.io import CT_PRESETS, DicomLoadError, discover, iter_load, load_series, open_path, write_series
from viewer.io.pixels import read_file, read_with_pydicom

from .conftest import ramp_volume


def test_round_trip_voxels_and_geometry(ct_series) -> None:
    folder, voxels, _ = ct_series
    result, volume = open_path(folder)
    assert volume is not None and len(result.series) == 1
    assert volume.voxels.dtype == np.float32 and volume.voxels.flags.c_contiguous
    np.testing.assert_array_equal(volume.voxels, voxels)
    assert volume.spacing == pytest.approx((2.5, 0.8, 0.6), abs=1e-6)
    assert volume.origin == pytest.approx((-10.0, 20.0, 30.0))
    np.testing.assert_allclose(volume.direction, np.eye(3), atol=1e-9)
    assert volume.modality == "CT" and volume.description == "Synthetic CT"
    assert volume.patient.name == "Doe^Jane" and volume.patient.patient_id == "ID42"
    assert (volume.window.center, volume.window.width) == (40.0, 400.0)
    assert set(CT_PRESETS) <= set(volume.presets)
    assert volume.warnings == ()
    assert volume.index_to_patient(2, 0, 0) == pytest.approx((-10.0, 20.0, 35.0))


def test_oblique_direction_round_trip(tmp_path: Path) -> None:
    c, s = np.cos(0.3), np.sin(0.3)
    direction = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])  # columns i, j, k
    voxels = ramp_volume((4, 10, 12))
    write_series(tmp_path, voxels, spacing=(3.0, 1.0, 1.5), origin=(1, 2, 3), direction=direction)
    volume = load_series(discover(tmp_path).series[0])
    np.testing.assert_allclose(volume.direction, direction, atol=1e-6)
    assert volume.spacing[0] == pytest.approx(3.0, abs=1e-4)
    np.testing.assert_allclose(volume.voxels, voxels, atol=0.02)  # MR slope rounding


def test_shuffled_file_names_still_ordered_by_position(tmp_path: Path) -> None:
    voxels = ramp_volume((8, 6, 7))
    paths = write_series(tmp_path, voxels, modality="CT", spacing=(1.5, 1, 1))
    names = [f"{random.Random(1).random():.6f}_{i}.dcm" for i in range(len(paths))]
    random.Random(2).shuffle(names)
    for path, name in zip(paths, names):
        path.rename(tmp_path / name)
    volume = load_series(discover(tmp_path).series[0])
    np.testing.assert_array_equal(volume.voxels, voxels)


def test_junk_and_empty_files_are_skipped_with_reasons(ct_series) -> None:
    folder, voxels, _ = ct_series
    (folder / "notes.txt").write_bytes(os.urandom(600))
    (folder / "empty.dcm").write_bytes(b"")
    result = discover(folder)
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert reasons == {"notes.txt": "Not a DICOM file", "empty.dcm": "Empty file (0 bytes)"}
    assert result.series[0].n_slices == len(voxels)


def test_corrupted_file_does_not_stop_discovery_or_loading(ct_series) -> None:
    folder, voxels, paths = ct_series
    data = paths[3].read_bytes()
    paths[3].write_bytes(data[: len(data) - 300])  # pixel data cut short
    result = discover(folder)
    assert result.series[0].n_slices == len(voxels)
    volume = load_series(result.series[0])
    good = [k for k in range(len(voxels)) if k != 3]
    np.testing.assert_array_equal(volume.voxels[good], voxels[good])
    assert any(paths[3].name in w and "could not be read" in w for w in volume.warnings)


def test_broken_header_is_skipped(ct_series) -> None:
    folder, voxels, paths = ct_series
    paths[0].write_bytes(paths[0].read_bytes()[:500])  # cut inside the header
    result = discover(folder)
    assert [Path(s.path).name for s in result.skipped] == [paths[0].name]
    assert result.skipped[0].reason.startswith("Damaged or incomplete DICOM file")
    assert result.series[0].n_slices == len(voxels) - 1


def test_progressive_events(ct_series) -> None:
    folder, voxels, _ = ct_series
    events = list(iter_load(discover(folder).series[0], chunk=2))
    first, last = events[0], events[-1]
    assert first.done == 1 and first.total == 6 and not first.complete
    assert first.loaded.tolist() == [True] + [False] * 5
    np.testing.assert_array_equal(first.volume.voxels[0], voxels[0])
    assert [e.done for e in events] == [1, 3, 5, 6]
    assert last.complete and last.loaded.all()
    assert last.volume.voxels is first.volume.voxels  # filled in place
    np.testing.assert_array_equal(last.volume.voxels, voxels)


def test_cancel_stops_early(ct_series) -> None:
    folder, _, _ = ct_series
    calls = []
    events = list(iter_load(discover(folder).series[0], chunk=2,
                            cancelled=lambda: len(calls.append(1) or calls) > 1))
    assert [e.done for e in events] == [1, 3]
    assert not any(e.complete for e in events)
    volume = load_series(discover(folder).series[0], cancelled=lambda: True)
    assert "Loading was cancelled: 1 of 6 images were read" in volume.warnings[-1]


def test_discovery_progress_and_cancel(ct_series) -> None:
    folder, _, _ = ct_series
    seen: list[tuple[int, int]] = []
    discover(folder, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(k, 6) for k in range(1, 7)]
    partial = discover(folder, cancelled=lambda: True)
    assert partial.series == ()


def test_mixed_sizes_and_orientations_split(tmp_path: Path) -> None:
    uid = pydicom.uid.generate_uid()
    write_series(tmp_path / "a", ramp_volume((3, 8, 8)), series_uid=uid, file_prefix="A")
    write_series(tmp_path / "b", ramp_volume((3, 8, 8)), series_uid=uid, file_prefix="B",
                 direction=np.array([[0, 1, 0], [0, 0, -1], [-1, 0, 0]], float).T)
    write_series(tmp_path / "c", ramp_volume((3, 10, 8)), series_uid=uid, file_prefix="C")
    result = discover(tmp_path)
    assert sorted(s.uid.removeprefix(uid) for s in result.series) == [".s1.o1", ".s1.o2", ".s2"]
    assert all(s.n_slices == 3 for s in result.series)
    notes = [w for s in result.series for w in s.warnings if "split into separate" in w]
    assert len(notes) == 3
    assert {s.orientation for s in result.series} == {"axial", "sagittal"}


def test_mr_fractional_values_rgb_and_monochrome1(tmp_path: Path) -> None:
    mr = (np.random.default_rng(0).random((3, 8, 9)) * 50).astype(np.float32)
    write_series(tmp_path / "mr", mr)
    volume = load_series(discover(tmp_path / "mr").series[0])
    np.testing.assert_allclose(volume.voxels, mr, atol=50 / 4095)
    assert [p.name for p in volume.presets] == ["Auto"]
    rgb = np.random.default_rng(1).integers(0, 256, (2, 5, 6, 3)).astype(np.float32)
    write_series(tmp_path / "rgb", rgb, photometric="RGB")
    volume = load_series(discover(tmp_path / "rgb").series[0])
    assert volume.is_rgb and volume.voxels.shape == (2, 5, 6, 3)
    np.testing.assert_array_equal(volume.voxels, rgb)
    write_series(tmp_path / "m1", ramp_volume((3, 4, 4)), photometric="MONOCHROME1")
    assert load_series(discover(tmp_path / "m1").series[0]).invert_display


@pytest.mark.parametrize("syntax", ["implicit little endian", "explicit big endian", "rle"])
def test_transfer_syntaxes_written_and_read(tmp_path: Path, syntax: str) -> None:
    voxels = ramp_volume((3, 9, 11), offset=-500)
    write_series(tmp_path, voxels, modality="CT", transfer_syntax=syntax)
    np.testing.assert_array_equal(load_series(discover(tmp_path).series[0]).voxels, voxels)


def test_pydicom_fallback_matches_simpleitk(ct_series) -> None:
    _, voxels, paths = ct_series
    np.testing.assert_array_equal(read_with_pydicom(str(paths[2]))[0], voxels[2])
    np.testing.assert_array_equal(read_file(str(paths[2]))[0], voxels[2])


def test_no_pixel_data_raises_load_error(tmp_path: Path) -> None:
    path = write_series(tmp_path, ramp_volume((1, 4, 4)))[0]
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    with pytest.raises(DicomLoadError) as info:
        load_series(discover(path).series[0])
    assert info.value.path == str(path) and "no pixel data" in info.value.reason


def test_unsupported_transfer_syntax_raises_load_error(tmp_path: Path) -> None:
    path = write_series(tmp_path, ramp_volume((1, 4, 4)))[0]
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.201"  # HTJ2K
    ds.PixelData = pydicom.encaps.encapsulate([b"\xff\x4f\xff\x51" + b"\0" * 40])
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(DicomLoadError) as info:
        load_series(discover(path).series[0])
    assert "High-Throughput JPEG 2000" in info.value.reason


def test_auto_window_ignores_padding() -> None:
    from viewer.io import auto_window
    from viewer.io.presets import presets_for
    vol = np.full((4, 50, 50), -3024.0, dtype=np.float32)
    vol[:, 10:40, 10:40] = np.linspace(-100, 100, 900).reshape(30, 30)
    window = auto_window(vol)
    low, high = window.levels
    assert -100 <= low < -95 and 95 < high <= 100
    names = [p.name for p in presets_for("MR", (300.0, 600.0), window)]
    assert names == ["Header", "Auto"]
    ct = [p.name for p in presets_for("CT", None)]
    assert ct[:2] == ["Brain", "Subdural"] and "Lung" in ct and "Bone" in ct


def test_read_tags_of_synthetic_file_and_frame_limit(ct_series) -> None:
    from viewer.io import read_tags
    _, _, paths = ct_series
    rows = read_tags(str(paths[0]))
    tags = {r.keyword: r for r in rows}
    assert tags["PatientBirthDate"].is_identifying and tags["PatientBirthDate"].value == "19700101"
    assert tags["TransferSyntaxUID"].value.endswith("(Explicit VR Little Endian)")
    assert tags["ImagePositionPatient"].value == "-10\\20\\30"
    with pytest.raises(DicomLoadError):
        read_tags(str(paths[0].with_name("missing.dcm")))


def test_parametric_map_is_named_as_an_overlay_not_a_damaged_file(tmp_path):
    """A parametric map (e.g. an AI heat map written by SliceWise or another tool) is listed
    with what it is; it was reported as a damaged header."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from viewer.io import discover

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.30"   # Parametric Map
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID = "OT", generate_uid(), generate_uid()
    ds.Rows, ds.Columns, ds.NumberOfFrames = 4, 4, 1
    ds.save_as(tmp_path / "pm.dcm", enforce_file_format=True)
    assert pydicom.dcmread(tmp_path / "pm.dcm").SOPClassUID.name == "Parametric Map Storage"
    result = discover([tmp_path])
    (skipped,) = result.skipped
    assert skipped.reason.startswith("Parametric map") and "overlay" in skipped.reason


def test_reading_for_classification_only_skips_the_display_window(tmp_path: Path) -> None:
    """``display=False`` (batch reading) gives the same voxels; the window is the full range
    instead of the auto window computed from every voxel."""
    vol = ramp_volume()
    write_series(tmp_path / "s", vol, spacing=(2.0, 1.0, 1.0), modality="MR")
    info = discover(tmp_path / "s").series[0]
    shown = [e for e in iter_load(info)][-1].volume
    batch = [e for e in iter_load(info, display=False)][-1].volume
    np.testing.assert_array_equal(shown.voxels, batch.voxels)
    lo, hi = float(batch.voxels.min()), float(batch.voxels.max())
    assert batch.window.name == "Full range"
    assert batch.window.center == pytest.approx((lo + hi) / 2)
    assert batch.window.width == pytest.approx(hi - lo)
    assert shown.window.name != "Full range"

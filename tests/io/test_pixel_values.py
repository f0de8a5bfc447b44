"""Pixel values SliceWise keeps equal pydicom's decode (issue "Every image right", items 1-4, 6).

Oracle: ``tests/io/pydicom_oracle.py`` (pydicom alone). Each test failed with the SimpleITK
loader: MONOCHROME1 came back inverted, palettes were ignored, YBR JPEG turned pink, SEG masks
read 0/255 and Modality LUT Sequences were not applied; absurd headers gave MemoryError.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.io.dicom_factory import radiograph, write_image, write_jpeg_ybr, write_segmentation
from tests.io.pydicom_oracle import assert_matches, assert_matches_any, oracle
from viewer.io import DicomLoadError, discover, load_series
from viewer.io.records import Volume

TEST_FILES = Path(pydicom.data.data_manager.DATA_ROOT) / "test_files"


def _local(name: str) -> str:
    """A pydicom test file that ships with pydicom (never downloaded)."""
    path = TEST_FILES / name
    if not path.is_file():
        pytest.skip(f"pydicom test file {name} is not installed")
    return str(path)


def _load(path: str | Path) -> Volume:
    result = discover(str(path))
    assert result.series, result.skipped
    return load_series(result.series[0])


def _assert_like_oracle(path: str | Path, volume: Volume) -> None:
    assert_matches_any(str(path), volume.voxels, volume.is_rgb)


# --- 1. MONOCHROME1 ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dicomdirtests/77654033/CR1/6154",
                                  "dicomdirtests/77654033/CR2/6247",
                                  "dicomdirtests/77654033/CR3/6278"])
def test_monochrome1_cr_values_are_not_inverted(name: str) -> None:
    path = _local(name)
    volume = _load(path)
    _assert_like_oracle(path, volume)
    assert volume.invert_display  # display inverts, the values do not


def test_monochrome1_radiograph_keeps_values_and_inverts_display(tmp_path: Path) -> None:
    stored = radiograph()
    path = write_image(tmp_path / "cr.dcm", stored, "MONOCHROME1", 12, Modality="CR",
                       RescaleSlope="0.5", RescaleIntercept="-10", WindowCenter="900",
                       WindowWidth="1800")
    volume = _load(path)
    _assert_like_oracle(path, volume)
    np.testing.assert_allclose(volume.voxels[0], stored * 0.5 - 10)
    assert volume.invert_display and not volume.is_rgb
    # Background (stored high) is the high value: dark once the display inverts it.
    assert volume.voxels[0, 0, 0] > volume.voxels[0, stored.shape[0] // 2, stored.shape[1] // 2]


# --- 2. PALETTE COLOR ----------------------------------------------------------------------
def test_palette_colour_is_applied() -> None:
    path = _local("examples_palette.dcm")
    volume = _load(path)
    assert volume.is_rgb and volume.voxels.shape[-1] == 3
    _assert_like_oracle(path, volume)
    assert volume.window.center == 127.5 and volume.window.width == 255.0


def test_palette_colour_8_bit_lut(tmp_path: Path) -> None:
    stored = (np.arange(32 * 40) % 256).reshape(32, 40).astype(np.uint8)
    lut = np.arange(256, dtype=np.uint8)
    path = write_image(
        tmp_path / "pal8.dcm", stored, "PALETTE COLOR", 8,
        RedPaletteColorLookupTableDescriptor=[256, 0, 8],
        GreenPaletteColorLookupTableDescriptor=[256, 0, 8],
        BluePaletteColorLookupTableDescriptor=[256, 0, 8],
        RedPaletteColorLookupTableData=lut.tobytes(),
        GreenPaletteColorLookupTableData=(255 - lut).tobytes(),
        BluePaletteColorLookupTableData=(lut // 2).tobytes())
    volume = _load(path)
    _assert_like_oracle(path, volume)
    np.testing.assert_array_equal(volume.voxels[0, ..., 1], 255 - stored)


# --- 3. colour JPEG (YBR) ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "examples_ybr_color.dcm",
                                  "SC_ybr_full_422_uncompressed.dcm", "SC_rgb_jpeg_gdcm.dcm",
                                  "SC_rgb_rle.dcm", "examples_rgb_color.dcm"])
def test_colour_files_match_pydicom_rgb(name: str) -> None:
    path = _local(name)
    volume = _load(path)
    _assert_like_oracle(path, volume)
    assert volume.is_rgb and (volume.window.center, volume.window.width) == (127.5, 255.0)


@pytest.mark.parametrize("subsampling, photometric", [(1, "YBR_FULL_422"), (0, "YBR_FULL")])
def test_ybr_jpeg_white_stays_white(tmp_path: Path, subsampling: int, photometric: str) -> None:
    rgb = np.full((48, 64, 3), 255, np.uint8)
    rgb[10:30, 10:30] = (200, 30, 40)
    rgb[30:40, 40:60] = (20, 160, 220)
    path = write_jpeg_ybr(tmp_path / "ybr.dcm", rgb, subsampling, photometric=photometric)
    volume = _load(path)
    _assert_like_oracle(path, volume)
    assert volume.voxels[0, 2, 2].min() >= 250  # white, not pink
    assert np.abs(volume.voxels[0] - rgb).mean() < 4  # JPEG error only


# --- 4. SEG values and Modality LUT Sequence ------------------------------------------------
def test_binary_segmentation_reads_0_and_1(tmp_path: Path) -> None:
    masks = np.zeros((3, 16, 24), np.uint8)
    masks[0, 2:6, 3:9] = 1
    masks[1, 5:12, 10:20] = 1
    masks[2, 1:15, 1:4] = 1
    path = write_segmentation(tmp_path / "seg.dcm", masks)
    volume = _load(path)
    expected, _ = oracle(str(path))
    assert set(np.unique(volume.voxels)) == {0.0, 1.0}
    assert sorted(float(s.sum()) for s in volume.voxels) == sorted(
        float(f.sum()) for f in expected)
    for frame in volume.voxels:
        assert any(np.array_equal(frame, f) for f in expected)


def test_modality_lut_sequence_is_applied(tmp_path: Path) -> None:
    stored = (np.arange(16 * 20) % 256).reshape(16, 20).astype(np.uint16)
    item = pydicom.Dataset()
    item.LUTDescriptor = [256, 0, 16]
    item.ModalityLUTType = "HU"
    item.add_new(0x00283006, "US", [int(v) for v in np.arange(256) * 10 + 5])  # LUTData
    path = write_image(tmp_path / "mlut.dcm", stored, "MONOCHROME2", 16,
                       ModalityLUTSequence=[item])
    volume = _load(path)
    _assert_like_oracle(path, volume)
    np.testing.assert_array_equal(volume.voxels[0], stored * 10 + 5)


# --- 6. claimed sizes ----------------------------------------------------------------------
def _refused_at_discovery(path: Path) -> str:
    """The reason discovery gives for passing over ``path`` (it must not list a series).

    Absurd image sizes are refused from the header, before anything is listed or allocated
    (``viewer.io.headers``); ``viewer.io.decode.check_claimed_size`` refuses them again at load
    time for files discovery did not judge."""
    result = discover(str(path))
    assert result.series == () and len(result.skipped) == 1, result
    return result.skipped[0].reason


def test_absurd_frame_count_is_refused_before_allocating(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_local("MR_small.dcm"))
    ds.NumberOfFrames = 100000
    ds.Rows = ds.Columns = 4096
    path = tmp_path / "absurd.dcm"
    ds.save_as(path)
    reason = _refused_at_discovery(path)
    assert "memory" in reason and "100000" in reason


def test_frames_claimed_beyond_the_data_are_refused(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_local("CT_small.dcm"))
    ds.NumberOfFrames = 5
    path = tmp_path / "short.dcm"
    ds.save_as(path)
    with pytest.raises(DicomLoadError) as info:
        _load(path)
    assert "truncated" in info.value.reason and "5 frame(s)" in info.value.reason


def test_rows_claimed_beyond_the_data_are_refused(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_local("CT_small.dcm"))
    ds.Rows = 1000
    path = tmp_path / "rows.dcm"
    ds.save_as(path)
    with pytest.raises(DicomLoadError) as info:
        _load(path)
    assert "truncated" in info.value.reason and "128 x 1000" in info.value.reason


def test_absurd_compressed_header_is_refused(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_local("JPEG2000.dcm"))
    ds.NumberOfFrames = 10**7
    path = tmp_path / "absurd_j2k.dcm"
    ds.save_as(path)
    assert "memory" in _refused_at_discovery(path)


def test_absurd_size_is_refused_at_load_time_too(tmp_path: Path) -> None:
    """A file replaced by an absurd one after discovery listed it is refused at load time
    with the numbers, before the decoder allocates anything."""
    source = _local("JPEG2000.dcm")
    path = tmp_path / "j2k.dcm"
    path.write_bytes(Path(source).read_bytes())
    listed = discover(str(path)).series[0]
    ds = pydicom.dcmread(source)
    ds.NumberOfFrames = 10**7
    ds.save_as(path)
    with pytest.raises(DicomLoadError) as info:
        load_series(listed)
    assert "memory" in info.value.reason and "10000000" in info.value.reason


# --- GDCM only in a worker process ---------------------------------------------------------
def test_gdcm_worker_is_used_when_in_process_decoders_fail(monkeypatch) -> None:
    import viewer.io.decode as decode

    path = _local("JPEG2000.dcm")
    monkeypatch.setattr(decode, "SAFE_PLUGINS", ())
    decoded = decode.decode_file(path)
    assert decoded.decoder == "gdcm (worker process)"
    expected, _ = oracle(path)
    assert_matches(decoded.frames, expected)

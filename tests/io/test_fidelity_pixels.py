"""Fidelity suite: SliceWise's loaded pixels equal pydicom's decode, file by file.

Covers every image among ``../shared/dicom`` (skipped when absent), every image shipped inside
pydicom (``pydicom/data/test_files``, iterated on disk: ``get_testdata_files`` would try to
download more over the network) and images written here for each photometric interpretation,
bit depth, signedness and transfer syntax pydicom/GDCM/Pillow can encode. The oracle is
``tests/io/pydicom_oracle.py``. A file SliceWise refuses or cannot compare is listed in
``EXPECTED`` with the reason; anything else must match to float32 precision.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.io import dicom_factory as make
from tests.io.pydicom_oracle import matches, oracles
from viewer.io import DicomLoadError, discover, load_series

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "dicom"
PYDICOM_FILES = Path(pydicom.data.data_manager.DATA_ROOT) / "test_files"

#: Files whose pixels are not compared, and why (file name -> reason).
EXPECTED: dict[str, str] = {
    "MR_truncated.dcm": "pixel data truncated: refused with 'truncated (8130 of 8192 bytes)'",
    "JPEG2000-embedded-sequence-delimiter.dcm": "damaged on purpose; refused with a reason",
    "emri_small_jpeg_2k_lossless_too_short.dcm": "damaged on purpose (data too short)",
    "badVR.dcm": "NumberOfFrames '1A' is not a number: refused as damaged (pydicom too)",
}
#: Kinds of file skipped for a stated reason (checked on the header).
MOSAIC = "Siemens mosaic: being reworked in discovery/geometry by another engineer"
ENHANCED = ("enhanced multi-frame (functional groups): frame order/splitting is being "
            "reworked by another engineer")


def _kind_reason(ds: pydicom.Dataset) -> str | None:
    if "MOSAIC" in [str(v).upper() for v in ds.get("ImageType", [])]:
        return MOSAIC
    if "PerFrameFunctionalGroupsSequence" in ds:
        return ENHANCED
    return None


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() in (".txt", ".json", ".md", ".nii", ".gz",
                                                          ".icc", ".dump", ".py", ".bz2"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - not DICOM
            continue
        if "Rows" in ds and "Columns" in ds and "DirectoryRecordSequence" not in ds:
            out.append(path)
    return out


# --- generated files -----------------------------------------------------------------------
def _grey(bits: int, signed: bool, shape=(24, 40), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed + bits)
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
    values = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64)
    values.flat[:2] = (lo, hi)
    dtype = {8: "int8", 12: "int16", 16: "int16", 32: "int32"}[bits] if signed else \
        {8: "uint8", 12: "uint16", 16: "uint16", 32: "uint32"}[bits]
    return values.astype(dtype)


def _write_all(folder: Path) -> dict[str, Path]:
    """Every generated case, by name."""
    from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
                             ImplicitVRLittleEndian, JPEG2000Lossless, RLELossless)

    out: dict[str, Path] = {}
    for photometric in ("MONOCHROME1", "MONOCHROME2"):
        for bits in (8, 12, 16, 32):
            for signed in (False, True):
                name = f"{photometric}_{bits}bit_{'s' if signed else 'u'}"
                tags = {"RescaleSlope": "0.25", "RescaleIntercept": "-7"} if bits == 12 else {}
                out[name] = make.write_image(folder / f"{name}.dcm", _grey(bits, signed),
                                             photometric, bits, **tags)
    rgb = np.random.default_rng(3).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    out["RGB_8bit"] = make.write_image(folder / "rgb.dcm", rgb, "RGB", 8)
    ybr = pydicom.pixels.convert_color_space(rgb, "RGB", "YBR_FULL")
    out["YBR_FULL_native"] = make.write_image(folder / "ybr_full.dcm", ybr, "YBR_FULL", 8)
    out["RGB_16bit"] = make.write_image(folder / "rgb16.dcm", rgb.astype(np.uint16) * 257,
                                        "RGB", 16)
    for syntax, uid in (("implicit", ImplicitVRLittleEndian), ("bigendian", ExplicitVRBigEndian),
                        ("deflated", DeflatedExplicitVRLittleEndian)):
        for base in ("MONOCHROME2_12bit_s", "MONOCHROME1_16bit_u", "MONOCHROME2_8bit_u"):
            ds = pydicom.dcmread(out[base])
            if uid == ExplicitVRBigEndian:
                ds.PixelData = ds.pixel_array.astype(ds.pixel_array.dtype.newbyteorder(">")
                                                     ).tobytes()
            ds.file_meta.TransferSyntaxUID = uid
            path = folder / f"{base}_{syntax}.dcm"
            pydicom.dcmwrite(path, ds, little_endian=uid != ExplicitVRBigEndian,
                             implicit_vr=uid == ImplicitVRLittleEndian,
                             force_encoding=uid == ExplicitVRBigEndian)
            out[f"{base}_{syntax}"] = path
    for base in ("MONOCHROME2_12bit_s", "MONOCHROME1_16bit_u", "MONOCHROME2_8bit_u", "RGB_8bit"):
        for label, uid in (("rle", RLELossless), ("j2k", JPEG2000Lossless)):
            ds = pydicom.dcmread(out[base])
            try:
                ds.compress(uid)
            except Exception:  # noqa: BLE001 - no encoder installed for this one
                continue
            path = folder / f"{base}_{label}.dcm"
            ds.save_as(path)
            out[f"{base}_{label}"] = path
        for syntax in ("jpeg-lossless", "jpeg-ls"):
            try:
                out[f"{base}_{syntax}"] = make.transcode_gdcm(
                    out[base], folder / f"{base}_{syntax}.dcm", syntax)
            except Exception:  # noqa: BLE001 - GDCM cannot encode this one
                continue
    out["YBR_FULL_422_jpeg"] = make.write_jpeg_ybr(folder / "ybr422.dcm", rgb, 1)
    out["YBR_FULL_jpeg"] = make.write_jpeg_ybr(folder / "ybr444.dcm", rgb, 0,
                                               photometric="YBR_FULL")
    return out


def _generated_names() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sw_fidelity_") as folder:
        return sorted(_write_all(Path(folder)))


GENERATED = _generated_names()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    return _write_all(tmp_path_factory.mktemp("fidelity"))


# --- the comparison ------------------------------------------------------------------------
def _compare(path: Path) -> str:
    """'match: <plugin>' or raises AssertionError; pytest.skip with the reason for listed
    files."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    reason = EXPECTED.get(path.name) or _kind_reason(header)
    try:
        result = discover(str(path))
        if not result.series:
            pytest.skip(f"not loaded as an image: {result.skipped[0].reason}")
        volume = load_series(result.series[0])
    except DicomLoadError as exc:
        if reason:
            pytest.skip(f"{reason} (refused: {exc.reason})")
        candidates = oracles(str(path))
        assert not candidates, (f"SliceWise refused a file pydicom decodes: {exc.reason}")
        pytest.skip(f"neither SliceWise nor pydicom decodes it: {exc.reason}")
    if reason:
        pytest.skip(reason)
    candidates = oracles(str(path))
    if not candidates:
        pytest.skip("pydicom cannot decode it (no oracle); SliceWise loaded it")
    for plugin, expected, is_rgb in candidates:
        if is_rgb == volume.is_rgb and matches(volume.voxels, expected):
            return f"match: {plugin or 'pydicom'}"
    plugin, expected, is_rgb = candidates[0]
    assert is_rgb == volume.is_rgb
    assert volume.voxels.shape == expected.shape
    diff = np.abs(volume.voxels - expected)
    raise AssertionError(f"pixels differ from pydicom ({plugin}): max {diff.max()}, "
                         f"{int((diff > 1e-6 * max(1, np.abs(expected).max())).sum())} values")


@pytest.mark.parametrize("name", GENERATED)
def test_generated(generated: dict[str, Path], name: str) -> None:
    _compare(generated[name])


@pytest.mark.parametrize("path", _images(PYDICOM_FILES),
                         ids=lambda p: str(p.relative_to(PYDICOM_FILES)))
def test_pydicom_test_files(path: Path) -> None:
    _compare(path)


SHARED_IMAGES = _images(SHARED)


@pytest.mark.skipif(not SHARED_IMAGES, reason="../shared/dicom is absent")
@pytest.mark.parametrize("path", SHARED_IMAGES or [Path("absent")],
                         ids=lambda p: str(p.relative_to(SHARED)) if SHARED_IMAGES else "absent")
def test_shared_dicom(path: Path) -> None:
    _compare(path)

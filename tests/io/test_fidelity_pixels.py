"""Fidelity suite: SliceWise's loaded pixels equal pydicom's decode, file by file.

Covers every image among ``../shared/dicom`` (skipped when absent), every image shipped inside
pydicom (``pydicom/data/test_files``, iterated on disk: ``get_testdata_files`` would try to
download more over the network) and images written here for each photometric interpretation,
bit depth, signedness and transfer syntax pydicom/GDCM/Pillow can encode. The oracle is
``tests/io/pydicom_oracle.py``. A file SliceWise refuses or cannot compare is listed in
``EXPECTED`` with the reason; anything else must match to float32 precision. Siemens mosaics are
compared tile by tile with pydicom's decode of the whole image cut into tiles here (their
geometry and voxels also match dcm2niix's Ref/ in test_mosaic.py); enhanced multi-frame files
image set by image set, frame by frame, each frame with its own rescale.
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


def _is_mosaic(ds: pydicom.Dataset) -> bool:
    image_type = ds.get("ImageType", [])
    values = [image_type] if isinstance(image_type, str) else list(image_type)
    return "MOSAIC" in [str(v).strip().upper() for v in values]


def _mosaic_count(ds: pydicom.Dataset) -> int | None:
    """NumberOfImagesInMosaic as nibabel reads the Siemens CSA header, else (0019,100A)."""
    try:
        from nibabel.nicom import csareader
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            count = csareader.get_n_mosaic(csareader.get_csa_header(ds, "image"))
        if count:
            return int(count)
    except Exception:  # noqa: BLE001 - no nibabel or no CSA header: the private element
        pass
    element = ds.get((0x0019, 0x100A))
    return int(element.value) if element is not None and element.value else None


def _slice_normal(ds: pydicom.Dataset) -> np.ndarray | None:
    """The CSA SliceNormalVector (nibabel), None without one."""
    try:
        from nibabel.nicom import csareader
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            normal = csareader.get_slice_normal(csareader.get_csa_header(ds, "image"))
        return None if normal is None else np.asarray(normal, dtype=float)
    except Exception:  # noqa: BLE001
        return None


def _mosaic_oracle(path: Path, ds: pydicom.Dataset, expected: np.ndarray,
                   direction: np.ndarray) -> np.ndarray:
    """pydicom's decode of the whole mosaic image cut into its tiles, independently of
    ``viewer.io.mosaic``: ``ceil(sqrt(N))`` tiles across and down, row by row (dcm2niix's
    rule), N from the CSA header. Tiles are stored in ascending order along the CSA slice
    normal; SliceWise shows them along its stack direction (the third column of
    ``direction``), so they are reversed when the two point opposite ways."""
    count = _mosaic_count(ds)
    assert count, f"{path.name}: no NumberOfImagesInMosaic to cut the oracle with"
    grid = expected[0]
    across = int(np.ceil(np.sqrt(count)))
    rows, cols = grid.shape[0] // across, grid.shape[1] // across
    tiles = np.stack([grid[(t // across) * rows:(t // across + 1) * rows,
                           (t % across) * cols:(t % across + 1) * cols] for t in range(count)])
    normal = _slice_normal(ds)
    if normal is None:
        row, col = np.asarray(ds.ImageOrientationPatient[:3], float), \
            np.asarray(ds.ImageOrientationPatient[3:], float)
        normal = np.cross(row, col)
    return tiles if float(normal @ np.asarray(direction)[:, 2]) > 0 else tiles[::-1]


def _frame_sets_oracle(ds: pydicom.Dataset, expected: np.ndarray, frame_indices: tuple,
                       direction: np.ndarray) -> np.ndarray:
    """pydicom's frames (each with its own per-frame rescale, see the oracle) of one image set
    of an enhanced multi-frame file, in SliceWise's display order: ascending along the stack
    direction, by each frame's PlanePositionSequence position (file order when missing)."""
    indices = list(frame_indices) or list(range(expected.shape[0]))
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    positions = []
    for k in indices:
        try:
            positions.append(np.asarray(
                per_frame[k].PlanePositionSequence[0].ImagePositionPatient, float))
        except (AttributeError, IndexError, KeyError):
            positions = []
            break
    if positions:
        along = [float(p @ np.asarray(direction)[:, 2]) for p in positions]
        indices = [indices[i] for i in sorted(range(len(indices)), key=lambda i: along[i])]
    return expected[indices]


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
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        ImplicitVRLittleEndian,
        JPEG2000Lossless,
        RLELossless,
    )

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
    files. Every series discovery makes of the file is compared: a Siemens mosaic tile by
    tile, an enhanced multi-frame file image set by image set (frame by frame)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    reason = EXPECTED.get(path.name)
    try:
        result = discover(str(path))
        if not result.series:
            pytest.skip(f"not loaded as an image: {result.skipped[0].reason}")
        volumes = [(s, load_series(s)) for s in result.series]
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
    matched = []
    for series, volume in volumes:
        expected_of = []
        for plugin, expected, is_rgb in candidates:
            if series.mosaic_tiles:
                expected = _mosaic_oracle(path, header, expected, volume.direction)
            elif expected.shape[0] > 1:
                expected = _frame_sets_oracle(header, expected, series.frame_indices,
                                              volume.direction)
            expected_of.append((plugin, expected, is_rgb))
            if is_rgb == volume.is_rgb and matches(volume.voxels, expected):
                matched.append(f"{series.description or series.uid}: {plugin or 'pydicom'}")
                break
        else:
            plugin, expected, is_rgb = expected_of[0]
            assert is_rgb == volume.is_rgb
            assert volume.voxels.shape == expected.shape, (series.frame_indices,
                                                           volume.voxels.shape, expected.shape)
            diff = np.abs(volume.voxels - expected)
            raise AssertionError(
                f"pixels differ from pydicom ({plugin}) in {series.description!r} "
                f"(frames {series.frame_indices or 'all'}): max {diff.max()}, "
                f"{int((diff > 1e-6 * max(1, np.abs(expected).max())).sum())} values")
    if _is_mosaic(header) and _mosaic_count(header):
        assert all(s.mosaic_tiles == _mosaic_count(header) for s, _ in volumes)
    return "match: " + "; ".join(matched)


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


def test_philips_fmap_each_image_set_with_its_own_rescale() -> None:
    """Magnitude and field map are two series, each equal to pydicom's frames of that set with
    their own per-frame rescale (the two sets' rescales differ, so one rescale for all would
    fail the comparison)."""
    path = SHARED / "multiframe" / "philips_fmap.dcm"
    if not path.is_file():
        pytest.skip("../shared/dicom/multiframe/philips_fmap.dcm is absent")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    rescales = {(float(g.PixelValueTransformationSequence[0].RescaleSlope),
                 float(g.PixelValueTransformationSequence[0].RescaleIntercept))
                for g in ds.PerFrameFunctionalGroupsSequence}
    assert len(rescales) == 2
    outcome = _compare(path)
    assert "(M)" in outcome and "(FIELD_MAP)" in outcome, outcome

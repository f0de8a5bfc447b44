"""The data layer under the fuzzer, honest skip reasons, and library noise kept off the console.

The fuzz test runs a few hundred mutants (fixed seed) in worker processes and expects only the
three allowed outcomes (loaded, skipped with a reason, DicomLoadError). The other tests write
damaged files themselves and check the exact words a reader sees.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.fuzz.mutate import recipes
from tests.fuzz.runner import run
from tests.fuzz.seeds import seed_files
from tests.io.conftest import ramp_volume
from viewer.io import DicomLoadError, discover, load_series, read_tags, write_series

REPO = Path(__file__).resolve().parents[2]

#: Failure signatures still open, with the reason. Empty means: every failure fails the test.
KNOWN_OPEN: dict[str, str] = {}


def test_fuzz_mutants_end_in_allowed_outcomes() -> None:
    seeds = seed_files()
    if not seeds:
        pytest.skip("no seed files (neither ../shared/dicom nor pydicom's test files)")
    report = run(recipes(seeds, 300, seed=20240601), workers=2, timeout=30.0)
    unexpected = {sig: hits for sig, hits in report.signatures.items() if sig not in KNOWN_OPEN}
    assert sum(report.counts.values()) == 300
    assert not unexpected, report.text(detail=True)


# ----------------------------------------------------------------------------- skip reasons

@pytest.fixture()
def one_ct(tmp_path: Path) -> Path:
    """One 20 x 24 synthetic CT slice, explicit VR little endian, 16-bit."""
    paths = write_series(tmp_path / "ct", ramp_volume((1, 20, 24), offset=-1000.0),
                         spacing=(2.5, 0.8, 0.6), origin=(0.0, 0.0, 0.0), modality="CT")
    return Path(paths[0])


def _skip_reason(path: Path) -> str:
    result = discover(str(path))
    assert result.series == (), result.series
    assert len(result.skipped) == 1
    return result.skipped[0].reason


@contextmanager
def _lenient() -> Iterator[None]:
    """Let the tests write invalid values (nan, odd UIDs) without pydicom's warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _edit(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    with _lenient():
        ds = pydicom.dcmread(path)
        change(ds)
        ds.save_as(path, enforce_file_format=False)
    return path


def test_object_without_image_data_is_named(one_ct: Path) -> None:
    def to_bsd(ds: pydicom.Dataset) -> None:
        for kw in ("Rows", "Columns", "PixelData", "BitsAllocated", "BitsStored", "HighBit",
                   "PixelRepresentation", "SamplesPerPixel", "PhotometricInterpretation"):
            if kw in ds:
                delattr(ds, kw)
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.131"  # Basic Structured Display Storage
        ds.Modality = "OT"
    reason = _skip_reason(_edit(one_ct, to_bsd))
    assert reason == "A DICOM object without image data (Basic Structured Display)"


def test_missing_rows_is_named_not_called_cut_short(one_ct: Path) -> None:
    reason = _skip_reason(_edit(one_ct, lambda ds: delattr(ds, "Rows")))
    assert "missing Rows (0028,0010)" in reason
    assert "cut short" not in reason


def test_header_cut_before_the_image_description(one_ct: Path) -> None:
    data = one_ct.read_bytes()
    cut = data.find(b"\x28\x00\x02\x00")  # (0028,0002) SamplesPerPixel: first of group 0028
    assert cut > 0
    one_ct.write_bytes(data[:cut])
    reason = _skip_reason(one_ct)
    assert f"ends after {cut} bytes" in reason and "cut short while copying" in reason
    assert "Rows (0028,0010)" in reason


def _drop_transfer_syntax(path: Path) -> None:
    """Rewrite the file meta without (0002,0010), keeping the data set bytes as they are."""
    ds = pydicom.dcmread(path)
    meta = pydicom.dataset.FileMetaDataset(ds.file_meta)
    del meta.TransferSyntaxUID
    buf = io.BytesIO()
    pydicom.filewriter.write_file_meta_info(pydicom.filebase.DicomFileLike(buf), meta,
                                            enforce_standard=False)
    data = path.read_bytes()
    end = data.find(b"\x08\x00", 132)  # first data set element: group 0008
    path.write_bytes(data[:128] + b"DICM" + buf.getvalue() + data[end:])


def test_missing_transfer_syntax_loads_with_an_honest_note(one_ct: Path) -> None:
    original = pydicom.dcmread(one_ct)
    expected = pydicom.pixels.apply_rescale(original.pixel_array, original)  # pydicom's oracle
    _drop_transfer_syntax(one_ct)
    assert "TransferSyntaxUID" not in pydicom.dcmread(one_ct, force=True).file_meta
    result = discover(str(one_ct))
    assert result.skipped == () and len(result.series) == 1
    volume = load_series(result.series[0])
    note = f"{one_ct.name}: no transfer syntax in the file meta; read as explicit VR little endian"
    assert note in result.series[0].warnings and note in volume.warnings
    np.testing.assert_allclose(volume.voxels[0], expected)


def test_pixel_data_cut_short_says_how_much(one_ct: Path) -> None:
    data = one_ct.read_bytes()
    one_ct.write_bytes(data[:-100])
    expected_total = 20 * 24 * 2
    with pytest.raises(DicomLoadError) as info:
        load_series(discover(str(one_ct)).series[0])
    assert f"pixel data cut short (truncated): {expected_total - 100} of {expected_total} bytes" \
        in info.value.reason
    assert "no pixel data" not in info.value.reason


def test_compressed_pixel_data_cut_short(tmp_path: Path) -> None:
    source = get_testdata_file("MR_small_RLE.dcm")
    if source is None:
        pytest.skip("pydicom test file MR_small_RLE.dcm is not installed")
    data = Path(source).read_bytes()
    target = tmp_path / "rle.dcm"
    target.write_bytes(data[:len(data) // 2])
    with pytest.raises(DicomLoadError) as info:
        load_series(discover(str(target)).series[0])
    assert info.value.reason.startswith("compressed pixel data cut short")


def test_image_size_beyond_the_file_is_skipped_with_numbers(one_ct: Path) -> None:
    def claim(ds: pydicom.Dataset) -> None:
        ds.Rows = 65535
        ds.Columns = 65535
    reason = _skip_reason(_edit(one_ct, claim))
    assert "65535 x 65535" in reason


def test_unusable_geometry_values_become_notes(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "s", ramp_volume((3, 8, 8)), spacing=(2.0, 1.0, 1.0),
                         origin=(0.0, 0.0, 0.0), modality="MR")

    def spoil(ds: pydicom.Dataset) -> None:
        ds.ImageOrientationPatient = [1, 0, 0, 1, 0, 0]  # parallel row and column
        ds.PixelSpacing = ["nan", "1"]
    for p in paths:
        _edit(Path(p), spoil)
    result = discover(str(tmp_path / "s"))
    assert result.skipped == () and len(result.series) == 1
    series = result.series[0]
    assert any("ImageOrientationPatient (0020,0037) is unusable (parallel" in w
               for w in series.warnings)
    assert any("PixelSpacing (0028,0030) is unusable (nan, 1): 1 mm assumed" in w
               for w in series.warnings)
    volume = load_series(series)
    assert np.isfinite(volume.spacing).all() and np.isfinite(volume.direction).all()


def test_tag_browser_shows_a_malformed_element(one_ct: Path) -> None:
    data = one_ct.read_bytes()
    at = data.find(b"\x28\x00\x10\x00US")  # Rows, explicit VR: length 2 -> 3
    assert at > 0
    one_ct.write_bytes(data[:at + 6] + b"\x03\x00" + data[at + 8:at + 10] + b"\x00"
                       + data[at + 10:])
    rows = read_tags(str(one_ct))
    (row,) = [r for r in rows if r.tag == "(0028,0010)"]
    assert row.value.startswith("<unreadable value")


# --------------------------------------------------------------------------------- noise

_QUIET_SCRIPT = """
import json, sys
from viewer.io import discover, load_series, read_tags
out = []
for path in sys.argv[1:]:
    result = discover(path)
    for s in result.series:
        out.extend(load_series(s).warnings)
    out.extend(r.reason for r in result.skipped)
    read_tags(path)
json.dump(out, open(sys.argv[0] + ".json", "w"))
"""


def test_library_noise_never_reaches_the_console(tmp_path: Path) -> None:
    twelve_bit = get_testdata_file("JPEG-lossy.dcm")
    if twelve_bit is None:
        pytest.skip("pydicom test file JPEG-lossy.dcm is not installed")
    odd = tmp_path / "odd_uid.dcm"
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    with _lenient():
        ds.SeriesInstanceUID = "1.2.3.garbage"
        ds.save_as(odd)
    script = tmp_path / "quiet.py"
    script.write_text(_QUIET_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(twelve_bit), str(odd)],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == ""
    notes = json.loads(Path(str(script) + ".json").read_text())
    assert any("12-bit JPEG image" in w for w in notes), notes

"""Damaged compressed pixel data never takes the process down (issue "Every image right", item 5).

Corrupted copies of pydicom's compressed test files (truncated, bytes flipped, runs zeroed) are
loaded in a child process, so that a decoder abort fails this test instead of killing pytest.
Each file must either load or raise ``DicomLoadError`` naming it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import get_decoder

from viewer.io import DicomLoadError

TEST_FILES = Path(pydicom.data.data_manager.DATA_ROOT) / "test_files"
REPO = Path(__file__).resolve().parents[2]
SOURCES = ["JPEG2000.dcm", "SC_rgb_rle.dcm", "JPEG-lossy.dcm", "MR_small_RLE.dcm",
           "SC_rgb_jpeg_dcmtk.dcm", "MR_small_jpeg_ls_lossless.dcm", "examples_ybr_color.dcm",
           "MR_small_jp2klossless.dcm", "SC_rgb_rle_16bit.dcm", "JPGExtended.dcm"]

CHILD = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from viewer.io import DicomLoadError, discover, load_series
out = {}
for path in sys.argv[1:]:
    out[path] = "started"
    print(json.dumps({"started": path}), flush=True)
    try:
        result = discover(path)
        if not result.series:
            out[path] = "skipped: " + "; ".join(s.reason for s in result.skipped)
        else:
            volume = load_series(result.series[0])
            out[path] = "loaded" + (" with warnings" if volume.warnings else "")
    except DicomLoadError as exc:
        out[path] = "DicomLoadError: " + exc.reason if exc.path == path else \
            "DicomLoadError naming another file: " + exc.path
    except BaseException as exc:
        out[path] = f"UNEXPECTED {type(exc).__name__}: {exc}"
print(json.dumps(out), flush=True)
"""


def _variants(source: Path, folder: Path) -> list[Path]:
    """Damaged copies of ``source``: pixel data cut at 3 points, 5/60 random bytes changed,
    200-byte runs zeroed in 2 places, the first fragment's start zeroed."""
    data = source.read_bytes()
    pixel_len = len(pydicom.dcmread(source).PixelData)
    start = len(data) - pixel_len
    rng = np.random.default_rng(7)
    variants: dict[str, bytes] = {}
    for frac in (0.1, 0.5, 0.9):
        variants[f"cut{int(frac * 100)}"] = data[: start + int(pixel_len * frac)]
    for n in (5, 60):
        b = bytearray(data)
        for i in rng.integers(start + 16, len(b), n):
            b[int(i)] = int(rng.integers(0, 256))
        variants[f"flip{n}"] = bytes(b)
    for frac in (0.3, 0.7):
        b = bytearray(data)
        i = start + int(pixel_len * frac)
        b[i:i + 200] = bytes(min(200, len(b) - i))
        variants[f"zero{int(frac * 100)}"] = bytes(b)
    b = bytearray(data)
    b[start + 16:start + 96] = bytes(80)  # offsets table / RLE header / JPEG markers
    variants["zerohead"] = bytes(b)
    out = []
    for name, blob in variants.items():
        path = folder / f"{source.stem}.{name}.dcm"
        path.write_bytes(blob)
        out.append(path)
    return out


@pytest.mark.parametrize("name", SOURCES)
def test_damaged_compressed_files_fail_with_a_reason(tmp_path: Path, name: str) -> None:
    source = TEST_FILES / name
    if not source.is_file():
        pytest.skip(f"pydicom test file {name} is not installed")
    paths = [str(p) for p in _variants(source, tmp_path)]
    proc = subprocess.run([sys.executable, "-c", CHILD, *paths], cwd=REPO, capture_output=True,
                          text=True, timeout=240, env={**os.environ, "PYTHONPATH": str(REPO)})
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, (f"the loader process died (code {proc.returncode}) on "
                                  f"{last}\n{proc.stderr[-2000:]}")
    outcomes = json.loads(last)
    assert set(outcomes) == set(paths)
    bad = {Path(p).name: o for p, o in outcomes.items()
           if not (o.startswith("loaded") or o.startswith("DicomLoadError: ")
                   or o.startswith("skipped: "))}
    assert not bad, bad


class PanicException(BaseException):
    """Stands for pyo3_runtime.PanicException (same name, BaseException subclass)."""


def test_rust_panic_becomes_a_load_error(monkeypatch) -> None:
    import viewer.io.decode as decode

    def panicking(ds, plugin):
        raise PanicException("called `Result::unwrap()` on an `Err` value")
    monkeypatch.setattr(decode, "_decode_with", panicking)
    monkeypatch.setattr(decode, "_gdcm_available", lambda ds: False)
    with pytest.raises(DicomLoadError) as info:
        decode.decode_file(str(TEST_FILES / "MR_small_RLE.dcm"))
    assert "panic" in info.value.reason


def test_keyboard_interrupt_is_not_swallowed(monkeypatch) -> None:
    import viewer.io.decode as decode

    def interrupted(ds, plugin):
        raise KeyboardInterrupt
    monkeypatch.setattr(decode, "_decode_with", interrupted)
    with pytest.raises(KeyboardInterrupt):
        decode.decode_file(str(TEST_FILES / "MR_small_RLE.dcm"))


def test_a_dying_worker_becomes_a_load_error_naming_the_file() -> None:
    from viewer.io.decode import run_isolated

    with pytest.raises(DicomLoadError) as info:
        run_isolated("/data/broken.dcm", os.abort)
    assert info.value.path == "/data/broken.dcm" and "crashed" in info.value.reason
    assert run_isolated("/data/next.dcm", abs, -3) == 3  # a fresh worker takes over


def test_gdcm_never_decodes_in_process() -> None:
    from viewer.io.decode import SAFE_PLUGINS, decode_file

    assert "gdcm" not in SAFE_PLUGINS
    for name in ("JPEG2000.dcm", "SC_rgb_jpeg_dcmtk.dcm", "MR_small_RLE.dcm"):
        assert "gdcm" not in decode_file(str(TEST_FILES / name)).decoder


def test_no_pydicom_decoder_in_this_process_can_pick_gdcm() -> None:
    """Importing viewer.io removes pydicom's GDCM plugin everywhere in this process, so that a
    plain ``ds.pixel_array`` (anywhere: a tag browser, a test, a plugin) cannot abort it."""
    from pydicom.pixels.decoders.base import _PIXEL_DATA_DECODERS

    import viewer.io  # noqa: F401 - the import is what is tested

    for uid, (decoder, _) in _PIXEL_DATA_DECODERS.items():
        assert "gdcm" not in decoder.available_plugins, uid.name
    assert all("gdcm" not in h.__name__ for h in pydicom.config.pixel_data_handlers)
    ds = pydicom.dcmread(TEST_FILES / "MR_small_jpeg_ls_lossless.dcm")
    if not get_decoder(ds.file_meta.TransferSyntaxUID).available_plugins:
        pytest.skip("no safe JPEG-LS decoder installed")
    expected = pydicom.dcmread(TEST_FILES / "MR_small.dcm").pixel_array
    np.testing.assert_array_equal(ds.pixel_array, expected)  # decoded, by a safe plugin

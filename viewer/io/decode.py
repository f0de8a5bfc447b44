"""Decode one file's pixels safely: pydicom's decoders that raise Python exceptions, GDCM only in
a worker process that may die alone, claimed sizes checked before anything is allocated.

``decode_file(path)`` returns ``Decoded`` with float32 ``frames`` ``(frames, y, x)`` (or
``(frames, y, x, 3)`` RGB in 0..255), the values defined in ``viewer.io.colour``. Every failure
is a ``DicomLoadError`` naming the file with a reason a reader can act on; no decoder can take the
process down:

* pydicom's GDCM plugin is never used in this process (a corrupted JPEG stream makes GDCM throw a
  C++ exception that aborts the interpreter); the in-process order is pylibjpeg, Pillow and
  pydicom's own RLE decoder.
* pylibjpeg-rle's Rust code panics on damaged RLE data with ``PanicException``, a
  ``BaseException``: that one exception is caught and reported like any decoder error.
* only when every in-process decoder failed (e.g. a syntax they do not cover), GDCM is tried in
  a separate 'spawn' process; if that process dies the error names the file.
"""
from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.uid import UID

from viewer.io.colour import display_values
from viewer.io.errors import DicomLoadError

#: Decoder plugins tried in this process, in this order (GDCM is excluded: see module doc).
SAFE_PLUGINS = ("pylibjpeg", "pillow", "pydicom", "pyjpegls")
#: Seconds a worker decode may take before the file is reported as undecodable.
WORKER_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Decoded:
    """All frames of one file: float32 ``(frames, y, x)`` or ``(frames, y, x, 3)`` (RGB)."""

    frames: np.ndarray
    is_rgb: bool
    decoder: str = ""


def memory_limit_bytes() -> int:
    """The largest decoded image SliceWise allocates: the machine's physical memory (16 GiB
    when it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 16 * 2**30


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int | None:
    value = ds.get(keyword, default)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


def check_claimed_size(ds: Dataset, path: str, pixel_bytes: int | None = None) -> None:
    """Refuse headers whose image description is absurd or disagrees with the stored data.

    ``pixel_bytes`` is the length of uncompressed pixel data (None for compressed data, which
    only gets the plausibility checks). Raises ``DicomLoadError`` with the reason."""
    rows, cols = _int(ds, "Rows"), _int(ds, "Columns")
    frames = _int(ds, "NumberOfFrames", 1)
    samples = _int(ds, "SamplesPerPixel", 1)
    bits = _int(ds, "BitsAllocated")
    if "PixelData" not in ds:
        return  # float pixel data and friends: pydicom checks those itself
    if not rows or not cols or rows < 0 or cols < 0:
        raise DicomLoadError(path, f"the header gives an image of {cols} x {rows} pixels; "
                                   "the file is damaged or not a valid image")
    if frames is None or frames < 1:
        raise DicomLoadError(path, f"the header gives {ds.get('NumberOfFrames')!r} frames; "
                                   "the file is damaged")
    if samples not in (1, 3):
        raise DicomLoadError(path, f"{samples} samples per pixel is not a valid image")
    if bits not in (1, 8, 16, 32, 64):
        raise DicomLoadError(path, f"{bits} bits per pixel (BitsAllocated) is not a valid "
                                   "image; the file is damaged")
    values = rows * cols * frames * samples
    decoded = values * 4 + values * max(1, bits // 8)  # float32 volume + the decoded array
    if decoded > memory_limit_bytes():
        raise DicomLoadError(path, f"the header claims {frames} image(s) of {cols} x {rows} "
                                   f"pixels ({_gib(decoded)} once decoded), more than this "
                                   "computer's memory; the header is probably damaged")
    if pixel_bytes is not None:
        expected = math.ceil(values * bits / 8)
        if str(ds.get("PhotometricInterpretation", "")).strip() == "YBR_FULL_422":
            expected = expected * 2 // 3  # chroma stored at half the horizontal resolution
        if pixel_bytes < expected:
            raise DicomLoadError(path, f"the image data is truncated ({pixel_bytes} of "
                                       f"{expected} bytes): the header claims {frames} frame(s)"
                                       f" of {cols} x {rows} pixels at {bits} bits; the file was"
                                       " not copied or written completely")


def _is_panic(exc: BaseException) -> bool:
    """pyo3's PanicException (Rust decoders): a BaseException we turn into an error."""
    return type(exc).__name__ == "PanicException"


def _decode_with(ds: Dataset, plugin: str) -> tuple[np.ndarray, str]:
    arr, meta = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(
        ds, decoding_plugin=plugin, as_rgb=False)
    return arr, str(meta.get("photometric_interpretation",
                             ds.get("PhotometricInterpretation", "")))


def decode_dataset(ds: Dataset, path: str, plugins: tuple[str, ...] | None = None
                   ) -> Decoded:
    """Decode a fully read dataset with the first of ``plugins`` (default ``SAFE_PLUGINS``)
    that succeeds."""
    plugins = SAFE_PLUGINS if plugins is None else plugins
    ts = UID(str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or ""))
    if not ts:
        raise DicomLoadError(path, "the file does not say how its image data is stored "
                                   "(no transfer syntax)")
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise DicomLoadError(path, f"the images are stored as {ts.name or ts}, which SliceWise "
                                   "cannot decode; export the series uncompressed") from None
    errors: list[str] = []
    if decoder.is_native:
        candidates: tuple[str, ...] = ("",)
    else:
        candidates = tuple(p for p in plugins if p in decoder.available_plugins)
        if not candidates:
            raise _NeedsWorker(f"no installed decoder for {ts.name}")
    for plugin in candidates:
        try:
            arr, photometric = _decode_with(ds, plugin)
        except Exception as exc:  # noqa: BLE001 - next decoder; all reasons are reported
            errors.append(f"{plugin or 'pydicom'}: {exc}")
            continue
        except BaseException as exc:
            if not _is_panic(exc):
                raise
            errors.append(f"{plugin}: decoder panic ({exc})")
            continue
        values, is_rgb = display_values(arr, ds, photometric)
        return Decoded(values, is_rgb, plugin or "pydicom")
    if decoder.is_native:
        raise DicomLoadError(path, f"the image data could not be read ({errors[-1]})")
    raise _NeedsWorker("; ".join(errors))


class _NeedsWorker(Exception):
    """The in-process decoders could not decode the data (reason in ``args[0]``)."""


# --- the worker process ---------------------------------------------------------------------
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _worker_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1,
                                        mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _drop_pool() -> None:
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


atexit.register(_drop_pool)


def run_isolated(path: str, func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)`` in the worker process. If the process dies (abort, segfault, out of
    memory) or hangs, raises ``DicomLoadError`` naming ``path``; the next call gets a new
    worker. ``func`` must be importable (module level)."""
    try:
        return _worker_pool().submit(func, *args).result(timeout=WORKER_TIMEOUT_S)
    except BrokenProcessPool:
        _drop_pool()
        raise DicomLoadError(path, "the image data is damaged: the decoder crashed while "
                                   "reading it (SliceWise itself kept running)") from None
    except TimeoutError:
        _drop_pool()
        raise DicomLoadError(path, f"decoding the image data took longer than "
                                   f"{WORKER_TIMEOUT_S:.0f} s and was stopped") from None


def _gdcm_in_worker(path: str) -> tuple[np.ndarray | None, bool, str]:
    """Runs in the worker: decode ``path`` with pydicom's GDCM plugin (same value rule).
    Returns (frames, is_rgb, "") or (None, False, reason): errors travel as data."""
    try:
        ds = read_full(path)
        decoded = decode_dataset(ds, path, plugins=("gdcm",))
    except DicomLoadError as exc:
        return None, False, exc.reason
    except _NeedsWorker as exc:
        if str(ds.get("PhotometricInterpretation", "")).strip() != "MONOCHROME2" or \
                int(ds.get("SamplesPerPixel") or 1) != 1:
            return None, False, str(exc.args[0])
        # SimpleITK's GDCM decodes 12-bit JPEG extended, which pydicom's plugins refuse; its
        # float output is the rescaled grey value (it would invert MONOCHROME1: not used).
        import SimpleITK as sitk

        reader = sitk.ImageFileReader()
        reader.SetImageIO("GDCMImageIO")
        reader.SetFileName(path)
        reader.SetOutputPixelType(sitk.sitkFloat32)
        try:
            arr = sitk.GetArrayFromImage(reader.Execute())
        except RuntimeError as sitk_exc:
            return None, False, f"{exc.args[0]}; SimpleITK: {sitk_exc}"
        frames = arr[np.newaxis] if arr.ndim == 2 else arr
        if "ModalityLUTSequence" in ds:
            return None, False, "SimpleITK does not apply the Modality LUT Sequence"
        return np.ascontiguousarray(frames, dtype=np.float32), False, ""
    return decoded.frames, decoded.is_rgb, ""


def _gdcm_available(ds: Dataset) -> bool:
    try:
        return "gdcm" in get_decoder(ds.file_meta.TransferSyntaxUID).available_plugins
    except Exception:  # noqa: BLE001
        return False


def read_full(path: str) -> Dataset:
    """The whole dataset (pixel data included); ``DicomLoadError`` when it cannot be parsed."""
    try:
        return pydicom.dcmread(path, force=True)
    except Exception as exc:  # noqa: BLE001 - damaged file: the reason goes to the reader
        raise DicomLoadError(path, f"the file is damaged and could not be read ({exc})"
                             ) from exc


def decode_file(path: str) -> Decoded:
    """Decode every frame of ``path`` (see the module docstring). Raises ``DicomLoadError``."""
    ds = read_full(path)
    if "PixelData" not in ds and "FloatPixelData" not in ds and \
            "DoubleFloatPixelData" not in ds:
        raise DicomLoadError(path, "the file has no pixel data (no image is stored in it)")
    ts = UID(str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or ""))
    native = bool(ts) and not ts.is_compressed and "PixelData" in ds
    check_claimed_size(ds, path, len(ds.PixelData) if native else None)
    try:
        return decode_dataset(ds, path)
    except _NeedsWorker as exc:
        if not _gdcm_available(ds):
            raise DicomLoadError(path, f"the image data could not be decoded "
                                       f"({ts.name}; {exc.args[0]})") from None
        reason = exc.args[0]
    try:
        frames, is_rgb, error = run_isolated(path, _gdcm_in_worker, path)
    except DicomLoadError as exc:
        frames, is_rgb, error = None, False, exc.reason
    if frames is None:
        raise DicomLoadError(path, f"the image data could not be decoded ({ts.name}; "
                                   f"{reason}; GDCM: {error})")
    return Decoded(frames, is_rgb, "gdcm (worker process)")

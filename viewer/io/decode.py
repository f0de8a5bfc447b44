"""Decode one file's pixels safely: pydicom's decoders that raise Python exceptions, GDCM only in
a worker process that may die alone, claimed sizes checked before anything is allocated.

``decode_file(path)`` returns ``Decoded`` with float32 ``frames`` ``(frames, y, x)`` (or
``(frames, y, x, 3)`` RGB in 0..255), the values defined in ``viewer.io.colour``. Every failure
is a ``DicomLoadError`` naming the file with a reason a reader can act on; no decoder can take the
process down:

* pydicom's GDCM plugin is never used in this process (a corrupted JPEG stream makes GDCM throw a
  C++ exception that aborts the interpreter): importing this module removes it from every
  pydicom decoder and from pydicom's legacy handler list, so that no ``ds.pixel_array`` anywhere
  in SliceWise's process can pick it; the worker process puts it back (``allow_gdcm``). The
  in-process order is pylibjpeg, Pillow and pydicom's own RLE decoder.
* a file without a Transfer Syntax UID (or with one that is no transfer syntax) is decoded as
  its header was read (the encoding pydicom found; the series carries a note saying so).
* failures are diagnosed from the bytes on disk (``viewer.io.headers.pixel_data_problem``):
  pixel data cut short says how many bytes are there, a frame/size mismatch or unusable rescale
  values say so, instead of "no pixel data" or a raw ``ValueError``.
* pylibjpeg-rle's Rust code panics on damaged RLE data with ``PanicException``, a
  ``BaseException``: that one exception is caught and reported like any decoder error.
* only when every in-process decoder failed (e.g. a syntax they do not cover, 12-bit JPEG),
  GDCM is tried in a separate worker process (``viewer.io.isolated``); if that process dies or
  hangs the error names the file.
* ``decode_isolated(path, worker)`` runs all of ``decode_file`` in a pool worker process: the
  loader decodes compressed series that way, in parallel.
"""
from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pydicom
import pydicom.config
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.pixels.decoders.base import _PIXEL_DATA_DECODERS
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from viewer.io import isolated
from viewer.io.colour import display_values
from viewer.io.errors import DicomLoadError
from viewer.io.isolated import WORKER_TIMEOUT_S  # noqa: F401 - re-exported
from viewer.io.pixel_check import pixel_data_problem

#: Decoder plugins tried in this process, in this order (GDCM is excluded: see module doc).
SAFE_PLUGINS = ("pylibjpeg", "pillow", "pydicom", "pyjpegls")
#: pydicom's GDCM decoding plugin (module, function), kept out of this process.
_GDCM_PLUGIN = ("pydicom.pixels.decoders.gdcm", "_decode_frame")
_GDCM_SYNTAXES: list[UID] = []
_GDCM_HANDLER = getattr(pydicom.config, "gdcm_handler", None)


def _keep_gdcm_out() -> None:
    """Remove pydicom's GDCM plugin from every decoder (and the legacy handler list) of this
    process, remembering where it was for ``allow_gdcm``."""
    for uid, (decoder, _) in _PIXEL_DATA_DECODERS.items():
        if "gdcm" in decoder._available or "gdcm" in decoder._unavailable:
            decoder.remove_plugin("gdcm")
            _GDCM_SYNTAXES.append(uid)
    handlers = pydicom.config.pixel_data_handlers
    if _GDCM_HANDLER is not None and _GDCM_HANDLER in handlers:
        handlers.remove(_GDCM_HANDLER)


def allow_gdcm() -> None:
    """Put pydicom's GDCM plugin back: only ever called in the worker process."""
    for uid in _GDCM_SYNTAXES:
        decoder = get_decoder(uid)
        if "gdcm" not in decoder._available and "gdcm" not in decoder._unavailable:
            decoder.add_plugin("gdcm", _GDCM_PLUGIN)


_keep_gdcm_out()


@dataclass(frozen=True)
class Decoded:
    """All frames of one file: float32 ``(frames, y, x)`` or ``(frames, y, x, 3)`` (RGB)."""

    frames: np.ndarray
    is_rgb: bool
    decoder: str = ""
    #: Library messages of the worker process in a reader's words (the in-process decoders'
    #: messages are caught by the caller's ``library_messages``).
    notes: tuple[str, ...] = ()


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
            raise DicomLoadError(path, _short_data_reason(path, pixel_bytes, expected,
                                                          f"the header claims {frames} "
                                                          f"frame(s) of {cols} x {rows} pixels"
                                                          f" at {bits} bits"))


def _short_data_reason(path: str, have: int, expected: int, claim: str) -> str:
    """Why ``have`` bytes of uncompressed pixel data are fewer than the ``expected``: the file
    was cut short (judged from the bytes on disk) or the header describes a larger image."""
    problem = pixel_data_problem(path)
    if problem is not None and problem.startswith("pixel data cut short"):
        return f"{problem} ({claim})"
    return (f"the image data is truncated ({have} of {expected} bytes): {claim}; Rows, "
            "Columns, NumberOfFrames or BitsAllocated are wrong, or the file was not copied or "
            "written completely")


def _is_panic(exc: BaseException) -> bool:
    """pyo3's PanicException (Rust decoders): a BaseException we turn into an error."""
    return type(exc).__name__ == "PanicException"


_ENCODING_SYNTAX = {(True, True): ImplicitVRLittleEndian, (False, True): ExplicitVRLittleEndian,
                    (False, False): ExplicitVRBigEndian}


def transfer_syntax(ds: Dataset) -> UID:
    """The transfer syntax to decode ``ds`` with: the file meta's, or, when it has none or
    names no transfer syntax, the encoding the header was read in (empty when unknown)."""
    meta = getattr(ds, "file_meta", None)
    ts = UID(str(getattr(meta, "TransferSyntaxUID", "") or "").strip("\x00 "))
    if ts and ts.is_transfer_syntax:
        return ts
    encoding = tuple(getattr(ds, "original_encoding", (None, None)) or (None, None))
    return _ENCODING_SYNTAX.get(encoding, UID(""))  # type: ignore[call-overload]


def _decode_with(ds: Dataset, plugin: str) -> tuple[np.ndarray, str]:
    arr, meta = get_decoder(transfer_syntax(ds)).as_array(
        ds, decoding_plugin=plugin, as_rgb=False)
    return arr, str(meta.get("photometric_interpretation",
                             ds.get("PhotometricInterpretation", "")))


def _values(arr: np.ndarray, ds: Dataset, photometric: str, path: str
            ) -> tuple[np.ndarray, bool]:
    """``display_values`` with its failures (frames and size disagree, rescale values that are
    no numbers or overflow: ``viewer.io.colour``) as ``DicomLoadError``."""
    try:
        values, is_rgb = display_values(arr, ds, photometric)
    except Exception as exc:  # noqa: BLE001 - a header that contradicts the decoded data
        raise DicomLoadError(path, f"the decoded image ({' x '.join(map(str, arr.shape))}) "
                                   "does not match the header's NumberOfFrames, Rows, Columns, "
                                   f"colour or rescale values ({exc})") from exc
    return values, is_rgb


def decode_dataset(ds: Dataset, path: str, plugins: tuple[str, ...] | None = None
                   ) -> Decoded:
    """Decode a fully read dataset with the first of ``plugins`` (default ``SAFE_PLUGINS``)
    that succeeds."""
    plugins = SAFE_PLUGINS if plugins is None else plugins
    ts = transfer_syntax(ds)
    if not ts:
        raise DicomLoadError(path, "the file does not say how its image data is stored "
                                   "(no transfer syntax) and its header encoding is unknown")
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
        values, is_rgb = _values(arr, ds, photometric, path)
        return Decoded(values, is_rgb, plugin or "pydicom")
    if decoder.is_native:
        raise DicomLoadError(path, f"the image data could not be read ({errors[-1]})")
    raise _NeedsWorker("; ".join(errors))


class _NeedsWorker(Exception):
    """The in-process decoders could not decode the data (reason in ``args[0]``)."""


# --- the worker process ---------------------------------------------------------------------
def run_isolated(path: str, func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)`` in the worker process (``viewer.io.isolated``). If the process dies
    (abort, segfault, out of memory) or hangs, raises ``DicomLoadError`` naming ``path``; the
    next call gets a new worker. ``func`` must be importable (module level)."""
    return isolated.call(path, func, *args).value


def _gdcm_in_worker(path: str) -> tuple[np.ndarray | None, bool, str]:
    """Runs in the worker: decode ``path`` with pydicom's GDCM plugin (same value rule).
    Returns (frames, is_rgb, "") or (None, False, reason): errors travel as data."""
    allow_gdcm()
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


def _gdcm_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("gdcm") is not None


def _gdcm_available(ds: Dataset) -> bool:
    """GDCM (in the worker) covers this transfer syntax."""
    return transfer_syntax(ds) in _GDCM_SYNTAXES and _gdcm_installed()


def read_full(path: str) -> Dataset:
    """The whole dataset (pixel data included); ``DicomLoadError`` when it cannot be parsed."""
    try:
        ds = pydicom.dcmread(path, force=True)
        meta = ds.file_meta
        ts = transfer_syntax(ds)
        if ts and str(meta.get("TransferSyntaxUID", "") or "") != ts:
            # None or no transfer syntax in the file meta: decode as the header was read (the
            # series carries the note from viewer.io.headers).
            meta.TransferSyntaxUID = ts
    except Exception as exc:  # noqa: BLE001 - damaged file: the reason goes to the reader
        problem = pixel_data_problem(path)
        raise DicomLoadError(path, problem or f"the file is damaged and could not be read "
                                              f"({exc})") from exc
    return ds


def _undecodable(path: str, reason: str) -> DicomLoadError:
    """The error for data no decoder could read: cut short or damaged as judged from the
    bytes on disk when that can be said, else the decoders' reasons."""
    problem = pixel_data_problem(path)
    return DicomLoadError(path, problem or reason)


def decode_file(path: str, *, gdcm_here: bool = False) -> Decoded:
    """Decode every frame of ``path`` (see the module docstring). Raises ``DicomLoadError``.
    ``gdcm_here``: this already is a separate worker process, GDCM may run in it."""
    ds = read_full(path)
    if "PixelData" not in ds and "FloatPixelData" not in ds and \
            "DoubleFloatPixelData" not in ds:
        raise _undecodable(path, "the file has no pixel data (no image is stored in it)")
    ts = transfer_syntax(ds)
    native = bool(ts) and not ts.is_compressed and "PixelData" in ds
    pixel_bytes = None
    if native:
        value = ds.PixelData
        if not value:
            raise DicomLoadError(path, "the pixel data element is empty (no image is stored in "
                                       "it)")
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise DicomLoadError(path, "the pixel data element is damaged (its value is not "
                                       "image data)")
        pixel_bytes = len(value)
    check_claimed_size(ds, path, pixel_bytes)
    try:
        return decode_dataset(ds, path)
    except _NeedsWorker as exc:
        reason = exc.args[0]
    problem = pixel_data_problem(path)
    if problem is not None:  # cut short or damaged on disk: no decoder makes it whole
        raise DicomLoadError(path, problem)
    if not _gdcm_available(ds):
        raise DicomLoadError(path, f"the image data could not be decoded ({ts.name}; {reason})")
    try:
        if gdcm_here:
            (frames, is_rgb, error), notes = _gdcm_in_worker(path), ()
        else:
            reply = isolated.call(path, _gdcm_in_worker, path)
            (frames, is_rgb, error), notes = reply.value, reply.notes
    except DicomLoadError as exc:
        frames, is_rgb, error, notes = None, False, exc.reason, ()
    if frames is None:
        raise _undecodable(path, f"the image data could not be decoded ({ts.name}; "
                                 f"{reason}; GDCM: {error})")
    return Decoded(frames, is_rgb, "gdcm (worker process)", notes)


# --- parallel decoding in worker processes --------------------------------------------------
def decode_in_worker(path: str) -> Decoded | str:
    """Runs in a pool worker (``viewer.io.isolated.pool``): ``decode_file`` with GDCM allowed
    in that already separate process. Returns the ``Decoded`` or the reason it failed."""
    try:
        return decode_file(path, gdcm_here=True)
    except DicomLoadError as exc:
        return exc.reason


def decode_isolated(path: str, worker: isolated.Worker) -> Decoded:
    """``decode_file(path)`` in ``worker`` (a separate process: nothing it does can take this
    one down); its library messages come back in ``Decoded.notes``. Raises
    ``DicomLoadError``."""
    reply = worker.call(path, decode_in_worker, path)
    if isinstance(reply.value, str):
        raise DicomLoadError(path, reply.value)
    decoded: Decoded = reply.value
    return dataclasses.replace(decoded, notes=tuple(dict.fromkeys(decoded.notes + reply.notes)))

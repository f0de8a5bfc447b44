"""Load a discovered series into a ``Volume``, progressively (first slice first).

``iter_load`` preallocates ``volume.voxels`` ``(z, y, x)`` float32 and yields a ``LoadProgress``
right after slice 0 (display order) is decoded, then after each chunk. **The voxel array is filled
in place until the event with ``complete=True``**: a viewer may show ``voxels[k]`` as soon as
``loaded[k]`` is True. Cancellation raises nothing: iteration just stops.

Uncompressed grey slices are read straight into the preallocated volume
(``viewer.io.fast_read``, two reader threads); everything else is decoded by ``viewer.io.decode``
(pydicom's decoders that raise Python errors, GDCM only in a worker process). A compressed series
of ``POOL_MIN_FILES`` or more files is decoded in parallel by persistent worker processes (one per
reader thread, up to 4): pylibjpeg's decoders hold the GIL, and a decoder crash there only
blanks that slice. Slice 0 is always decoded here, so it shows without waiting for a worker to
start. Voxel values follow
``viewer.io.colour``: pydicom's decode after the modality LUT/rescale, MONOCHROME1 not inverted
(``Volume.invert_display`` flips the display), palettes applied, colour as RGB 0..255. Geometry
(order, spacing along the stack, origin, direction) comes from the headers.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from pydicom.uid import AllTransferSyntaxes

from viewer.io.colour import is_colour
from viewer.io.decode import Decoded, decode_file, decode_isolated, memory_limit_bytes
from viewer.io.discovery import discover
from viewer.io.errors import DicomLoadError
from viewer.io.fast_read import NativeLayout, read_layout, read_native_slice, scan_native
from viewer.io.geometry import analyse_stack, direction_matrix
from viewer.io.headers import FileHeader, NotAnImage, UnreadableFile, header_from_dataset, read_dataset
from viewer.io.isolated import Worker, pool
from viewer.io.mosaic import split_mosaic
from viewer.io.multiframe import header_for
from viewer.io.pixels import file_name
from viewer.io.presets import auto_window, presets_for
from viewer.io.records import DiscoveryResult, SeriesInfo, Volume, WindowPreset
from viewer.io.time_points import time_point_count, time_point_series
from viewer.io.warnings_capture import library_messages


@dataclass(frozen=True)
class LoadProgress:
    """One step of a progressive load.

    ``done`` of ``total`` slices were attempted; ``loaded`` (bool, ``(z,)``) marks the slices of
    ``volume.voxels`` already filled. Every event of one load shares the same voxel array.
    ``complete`` is True on the last event only (its volume carries the final window, presets and
    warnings, including any slice that could not be read).
    """

    done: int
    total: int
    volume: Volume
    loaded: np.ndarray
    complete: bool


def _header(path: str) -> FileHeader:
    try:
        return header_from_dataset(path, read_dataset(path))
    except (UnreadableFile, NotAnImage) as exc:
        raise DicomLoadError(path, str(exc.args[0])) from exc


#: Threads reading one series (parsing holds the GIL; file reads and conversion release it).
_THREADS = max(1, min(2, os.cpu_count() or 1))
#: Worker processes decoding a compressed series in parallel (pylibjpeg's decoders hold the
#: GIL, so threads alone would take turns), and the fewest files worth starting them for.
_DECODE_PROCESSES = max(1, min(4, os.cpu_count() or 1))
POOL_MIN_FILES = 8


#: The compressed transfer syntaxes pydicom knows (a plain set: building a ``UID`` from a damaged
#: value would make pydicom warn on the console).
_COMPRESSED = frozenset(str(uid) for uid in AllTransferSyntaxes if uid.is_compressed)


def _compressed(transfer_syntax: str) -> bool:
    return transfer_syntax.strip("\x00 ") in _COMPRESSED
#: The window of colour volumes: no per-channel window, the RGB values 0..255 as they are.
COLOUR_WINDOW = WindowPreset("Colour", 127.5, 255.0)


def _decode_one(path: str, rgb: bool, warnings: list[str] | None = None,
                worker: Worker | None = None) -> Decoded:
    """All frames of one file (``viewer.io.decode``; in ``worker``'s process when given);
    refuses a colour/grey mismatch. Decoder messages (Python warnings, C stderr) become
    ``warnings`` in words, never console noise."""
    sink = warnings if warnings is not None else []
    prefix = f"{file_name(path)}: "
    if worker is not None:
        decoded = decode_isolated(path, worker)
    else:
        with library_messages(sink, native=True, prefix=prefix):
            decoded = decode_file(path)
    sink.extend(n for n in (prefix + note for note in decoded.notes) if n not in sink)
    if decoded.is_rgb != rgb:
        raise DicomLoadError(path, "this image is " + ("colour" if decoded.is_rgb else "grey")
                             + " while the rest of the series is not")
    return decoded


def _check_volume_size(path: str, shape: tuple[int, ...]) -> None:
    """Refuse a series whose float32 volume would not fit in memory (before allocating it)."""
    size = 4 * int(np.prod(shape, dtype=np.int64))
    if size > memory_limit_bytes():
        raise DicomLoadError(path, f"the series would need {size / 2**30:.1f} GB of memory "
                                   f"({' x '.join(map(str, shape))} values), more than this "
                                   "computer has")


def _with_geometry(series: SeriesInfo, first: FileHeader) -> tuple[float, tuple[float, ...]]:
    """(spacing along the stack in mm, origin) of a single-frame series in display order."""
    origin = first.position or (0.0, 0.0, 0.0)
    if series.slice_step is not None:
        return float(series.slice_step), tuple(origin)
    if len(series.files) < 2 or len(first.orientation) != 6:
        return float(first.spacing_between_slices or 1.0), tuple(origin)
    positions = []
    for path in series.files:
        try:
            positions.append(_header(path).position)
        except DicomLoadError:
            positions.append(None)
    if any(p is None for p in positions):
        return 1.0, tuple(origin)
    return analyse_stack(positions, first.orientation).spacing, tuple(origin)


def _full_range(voxels: np.ndarray) -> WindowPreset:
    """The window spanning every value: for series read only to be classified, never shown."""
    lo, hi = float(np.min(voxels)), float(np.max(voxels))
    return WindowPreset("Full range", (lo + hi) / 2.0, max(hi - lo, 1.0))


def _final_window(voxels: np.ndarray, loaded: np.ndarray, modality: str,
                  header: tuple[float, float] | None, rgb: bool = False, display: bool = True
                  ) -> tuple[WindowPreset, tuple]:
    if rgb:
        return COLOUR_WINDOW, (COLOUR_WINDOW,)
    if not display:   # never shown (batch reading): no percentiles of every voxel
        auto = _full_range(voxels)
    else:
        # Boolean indexing would copy the whole volume: only do it when some slices are missing.
        auto = auto_window(voxels if loaded.all() or not loaded.any() else voxels[loaded])
    header_preset = WindowPreset("Header", *header) if header else None
    presets = presets_for(modality, header_preset, auto)
    return (header_preset or auto), presets


def _series_frames(series: SeriesInfo, frames: np.ndarray) -> np.ndarray:
    """The slices of ``series`` among one file's decoded frames: a Siemens mosaic's image cut
    into tiles (viewer.io.mosaic), the frames of one image set of a multi-frame file holding
    several (viewer.io.multiframe), else the frames unchanged."""
    if series.frame_indices:
        return frames[list(series.frame_indices)]
    if not series.mosaic_tiles or frames.shape[0] != 1:
        return frames
    try:
        return split_mosaic(frames, series.mosaic_tiles, (series.rows, series.columns))
    except ValueError as exc:
        raise DicomLoadError(series.files[0], f"the mosaic cannot be cut into slices ({exc})"
                             ) from exc


def _iter_multiframe(series: SeriesInfo, first: FileHeader, display: bool = True
                     ) -> Iterator[LoadProgress]:
    """A multi-frame series: the first file (a 4-D series: ``viewer.io.time_points``), in one step
    (SimpleITK decodes a file's frames together)."""
    path = series.files[0]
    first = header_for(first, series.frame_indices)  # one image set's geometry and window
    header = read_dataset(path)
    rgb = is_colour(header)
    warnings = list(series.warnings)
    frames = _series_frames(series, _decode_one(path, rgb, warnings).frames)
    if 0 in frames.shape:
        raise DicomLoadError(path, "no frame could be decoded (the decoder returned "
                                   f"{' x '.join(map(str, frames.shape))} values; the header's "
                                   "NumberOfFrames, Rows or Columns do not match the data)")
    positions = first.frame_positions
    orientation = first.orientation or (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    if positions and all(p is not None for p in positions) and len(positions) == len(frames):
        geo = analyse_stack(list(positions), orientation)
        order = list(geo.order) if geo.is_volume else list(range(len(frames)))
        spacing_z = geo.spacing
        origin = tuple(positions[order[0]])  # type: ignore[arg-type]
    else:
        order = list(range(len(frames)))
        spacing_z = float(first.spacing_between_slices or 1.0)
        origin = tuple(first.position or (0.0, 0.0, 0.0))
    voxels = np.ascontiguousarray(frames[order], dtype=np.float32)
    loaded = np.ones(len(order), dtype=bool)
    window, presets = _final_window(voxels, loaded, series.modality, first.window, rgb, display)
    volume = Volume(
        voxels=voxels, spacing=(float(spacing_z), *map(float, series.pixel_spacing)),
        origin=origin, direction=direction_matrix(orientation), modality=series.modality,
        series_uid=series.uid, description=series.description,
        study_description=series.study_description, patient=series.patient, window=window,
        presets=presets, warnings=tuple(dict.fromkeys(warnings)),
        slice_files=tuple(path for _ in order), invert_display=first.photometric == "MONOCHROME1",
        is_rgb=rgb, orientation=series.orientation,
        patient_orientation=series.patient_orientation, acquisition=series.acquisition,
    )
    yield LoadProgress(len(order), len(order), volume, loaded, True)


def iter_load(
    series: SeriesInfo, *, chunk: int = 16, cancelled: Callable[[], bool] | None = None,
    display: bool = True,
) -> Iterator[LoadProgress]:
    """Load ``series`` progressively; see the module docstring for the in-place contract.

    Yields first after slice 0, then after every ``chunk`` slices, the last event with
    ``complete=True``. A file that cannot be read leaves its slice blank (lowest value) with a
    warning; ``DicomLoadError`` is raised only when no slice at all can be read.
    ``cancelled()`` is polled between chunks; when it returns True the generator just stops.
    ``display=False`` (a series read for classification only, never shown) skips the automatic
    display window: the volume's window is the header's or the full value range.
    """
    if not series.files:
        raise DicomLoadError(series.uid, "the series has no image files")
    if time_point_count(series) > 1:  # a 4-D series: its first time point (viewer.io.time_points)
        series = time_point_series(series, 0)
    first = _header(series.files[0])
    if series.frames_per_file > 1 or first.frames > 1:
        yield from _iter_multiframe(series, first, display)
        return
    files = list(series.files)
    total = len(files)
    rgb = first.samples_per_pixel == 3 or first.photometric.upper() == "PALETTE COLOR"
    warnings = list(series.warnings)
    failures: list[DicomLoadError] = []
    spacing_z, origin = _with_geometry(series, first)
    shape = (total, first.rows, first.columns) + ((3,) if rgb else ())
    _check_volume_size(files[0], shape)
    voxels = np.zeros(shape, dtype=np.float32)
    loaded = np.zeros(total, dtype=bool)
    orientation = first.orientation or (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    base = Volume(
        voxels=voxels, spacing=(float(spacing_z), *map(float, series.pixel_spacing)),
        origin=origin, direction=direction_matrix(orientation), modality=series.modality,
        series_uid=series.uid, description=series.description,
        study_description=series.study_description, patient=series.patient,
        warnings=tuple(warnings), slice_files=tuple(files),
        invert_display=first.photometric == "MONOCHROME1", is_rgb=rgb,
        orientation=series.orientation, patient_orientation=series.patient_orientation,
        acquisition=series.acquisition,
    )

    layouts: dict[str, NativeLayout] = {}
    # Compressed series: each reader thread hands its files to its own worker process.
    parallel = (_compressed(first.transfer_syntax) and total >= POOL_MIN_FILES
                and _DECODE_PROCESSES > 1)
    workers = pool(_DECODE_PROCESSES) if parallel else []
    threads = len(workers) or _THREADS
    mine, numbering = threading.local(), itertools.count()

    def my_worker() -> Worker | None:
        if not workers:
            return None
        if not hasattr(mine, "worker"):
            mine.worker = workers[next(numbering) % len(workers)]
        return mine.worker

    def decode_slice(k: int, in_process: bool = False) -> DicomLoadError | None:
        try:
            layout = layouts.get(files[k])
            if layout is not None and read_layout(layout, voxels[k]):
                return None
            if parallel and not in_process:
                arr = _decode_one(files[k], rgb, warnings, my_worker()).frames
            elif rgb or not read_native_slice(files[k], voxels[k]):
                arr = _decode_one(files[k], rgb, warnings).frames
            else:
                return None  # read straight into voxels[k]
            if arr.shape[1:] != voxels.shape[1:]:
                raise DicomLoadError(files[k], f"image size {arr.shape[2]}x{arr.shape[1]} "
                                               "differs from the rest of the series")
            voxels[k] = arr[0]
        except DicomLoadError as exc:
            return exc
        return None

    def read_single(k: int, error: DicomLoadError | None = None) -> None:
        error = decode_slice(k, in_process=True) if error is None else error
        if error is None:
            loaded[k] = True
            return
        failures.append(error)
        warnings.append(f"Image {k + 1} of {total} ({file_name(error.path)}) could not be "
                        f"read: {error.reason}; it is left blank")

    read_single(0)
    if total == 1 and failures:
        raise failures[0]
    header_window = first.window
    if rgb:
        window = COLOUR_WINDOW
    else:
        window = (WindowPreset("Header", *header_window) if header_window
                  else auto_window(voxels[0]) if display else _full_range(voxels[0]))
    volume = dataclasses.replace(base, window=window, warnings=tuple(warnings))
    yield LoadProgress(1, total, volume, loaded.copy(), total == 1)
    if total == 1:
        return
    with ThreadPoolExecutor(max_workers=threads) as executor:
        start = 1
        while start < total:
            if cancelled is not None and cancelled():
                return
            stop = min(total, start + max(1, chunk))
            if rgb:
                layouts = {}
            else:  # GDCM's scanner may print to fd 2: into the log, not the console
                with library_messages(native=True):
                    layouts = scan_native(files[start:stop])
            # Parsing holds the GIL, reading and converting release it: two threads overlap them.
            for k, error in zip(range(start, stop), executor.map(decode_slice, range(start, stop))):
                if error is None:
                    loaded[k] = True
                else:
                    read_single(k, error)
            start = stop
            if start < total:
                yield LoadProgress(start, total, dataclasses.replace(base, window=window,
                                   warnings=tuple(warnings)), loaded.copy(), False)
    if not loaded.any():
        raise failures[0]
    if not loaded.all():
        voxels[~loaded] = float(voxels[loaded].min())
    final_window, presets = _final_window(voxels, loaded, series.modality, header_window, rgb,
                                          display)
    volume = dataclasses.replace(base, window=final_window, presets=presets,
                                 warnings=tuple(dict.fromkeys(warnings)))
    yield LoadProgress(total, total, volume, loaded.copy(), True)


def load_series(
    series: SeriesInfo,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Volume:
    """Load a whole series (runs ``iter_load`` to the end). ``progress(done, total)`` after each
    step. When cancelled, returns the partly filled volume with a warning saying so."""
    last: LoadProgress | None = None
    for event in iter_load(series, cancelled=cancelled):
        last = event
        if progress is not None:
            progress(event.done, event.total)
    if last is None:
        raise DicomLoadError(series.uid, "loading was cancelled before the first image was read")
    if not last.complete:
        note = (f"Loading was cancelled: {int(last.loaded.sum())} of {last.total} images were "
                "read; the others are blank")
        return dataclasses.replace(last.volume, warnings=last.volume.warnings + (note,))
    return last.volume


def open_path(
    path_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> tuple[DiscoveryResult, Volume | None]:
    """Discover ``path_or_paths`` and load the first series (None when there is no image)."""
    result = discover(path_or_paths)
    if not result.series:
        return result, None
    return result, load_series(result.series[0])

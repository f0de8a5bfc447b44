"""Time points of a 4-D series: how many there are, and loading one of them as a ``Volume``.

Discovery groups a 4-D multi-frame series (several files, each holding the same stack of
frames at the same positions: Siemens XA enhanced fMRI, a folder of EPI mosaics) into one
``SeriesInfo`` whose ``files`` are in time order and marks it with the note
``"4-D series: N time points of M slices; ..."``; the loader's ``iter_load`` loads the first
file only. Here each of those files is one time point: :func:`load_time_point` loads file ``t``
(0-based) through the same loader, so voxels, geometry and window follow the same rules.

Axis order of each time point's voxels is ``(z, y, x)``; time is not an array axis: one
``Volume`` per time point. No Qt, no torch.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from viewer.io.errors import DicomLoadError
from viewer.io.records import SeriesInfo, Volume

#: The start of discovery's note on a 4-D multi-frame series (viewer.io.discovery).
FOUR_D_NOTE = "4-D series:"
#: Distance (mm) beyond which a time point's first slice is not where the first time point's is.
POSITION_TOLERANCE_MM = 0.05


def time_point_count(series: SeriesInfo | None) -> int:
    """Number of time points of ``series``: its file count when discovery found a 4-D
    multi-frame series (several files of the same frames at the same positions), else 1."""
    if series is None or len(series.files) < 2 or series.frames_per_file < 2:
        return 1
    if not any(w.startswith(FOUR_D_NOTE) for w in series.warnings):
        return 1
    return len(series.files)


def time_point_series(series: SeriesInfo, t: int) -> SeriesInfo:
    """The part of ``series`` holding time point ``t`` (0-based): its one file, with the 4-D
    note replaced by the time point's place in the series."""
    n = time_point_count(series)
    if not 0 <= t < n:
        raise DicomLoadError(series.uid, f"time point {t + 1} does not exist (the series has "
                                         f"{n} time point{'s' if n != 1 else ''})")
    warnings = tuple(w for w in series.warnings if not w.startswith(FOUR_D_NOTE))
    note = time_point_note(t, n, series.frames_per_file)
    return dataclasses.replace(series, files=(series.files[t],), warnings=(note,) + warnings)


def time_point_note(t: int, n: int, slices: int) -> str:
    """The note a time point's volume carries, e.g. "4-D series: time point 2 of 4 (6 slices
    each); Ctrl+Up / Ctrl+Down browse the time points"."""
    return (f"{FOUR_D_NOTE} time point {t + 1} of {n} ({slices} slices each); "
            "Ctrl+Up / Ctrl+Down browse the time points")


def load_time_point(series: SeriesInfo, t: int, reference: Volume | None = None,
                    cancelled: Callable[[], bool] | None = None) -> Volume:
    """Time point ``t`` (0-based) of a 4-D ``series`` as a ``Volume`` ``(z, y, x)``.

    With ``reference`` (another time point of the same series, e.g. the first one on screen),
    the result keeps the reference's series UID and is checked against its grid: a different
    shape raises ``DicomLoadError``; a first slice elsewhere than the reference's adds a
    warning (the reader compares the same place over time only when the stacks coincide).
    """
    from viewer.io.loader import load_series

    volume = load_series(time_point_series(series, t), cancelled=cancelled)
    if reference is None:
        return volume
    if volume.voxels.shape != reference.voxels.shape:
        raise DicomLoadError(series.files[t], f"time point {t + 1} has "
                                              f"{' x '.join(map(str, volume.voxels.shape))} "
                                              "values, unlike the first time point "
                                              f"({' x '.join(map(str, reference.voxels.shape))})")
    shift = float(np.linalg.norm(np.subtract(volume.origin, reference.origin)))
    warnings = volume.warnings
    if shift > POSITION_TOLERANCE_MM:
        warnings += (f"Time point {t + 1} starts {shift:.2f} mm away from the first time "
                     "point: the slices do not lie at the same positions",)
    return dataclasses.replace(volume, series_uid=reference.series_uid, warnings=warnings)

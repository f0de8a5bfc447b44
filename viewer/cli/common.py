"""Shared steps of the headless commands: pick a series, load it, parse slice ranges."""
from __future__ import annotations

from collections.abc import Sequence

from viewer.cli.errors import CommandError
from viewer.io import DicomLoadError, discover, load_series
from viewer.io.records import DiscoveryResult, SeriesInfo, Volume


def find_series(paths: Sequence[str], uid: str | None) -> tuple[DiscoveryResult, list[SeriesInfo]]:
    """Discovers ``paths`` and returns the series to use (all, or the one named by ``uid``)."""
    result = discover(paths)
    if not result.series:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in result.skipped[:3])
        raise CommandError("no DICOM image series found" + (f" ({reasons})" if reasons else ""))
    if uid is None:
        return result, list(result.series)
    chosen = [s for s in result.series if uid in (s.uid, s.series_instance_uid)]
    if not chosen:
        known = ", ".join(s.uid for s in result.series)
        raise CommandError(f"series {uid} not found; the series here are: {known}")
    return result, chosen


def load(info: SeriesInfo) -> Volume:
    try:
        return load_series(info)
    except DicomLoadError as exc:
        raise CommandError(f"could not load series {info.uid}: {exc.reason} ({exc.path})") from exc


def slice_range(text: str | None, n_slices: int) -> range:
    """1-based inclusive 'A-B' or 'A' -> 0-based range, checked against the slice count."""
    if not text:
        return range(n_slices)
    try:
        parts = [int(p) for p in text.split("-", 1)]
    except ValueError:
        raise CommandError(f"slice range {text!r} is not of the form A-B (1-based)") from None
    lo, hi = parts[0], parts[-1]
    if not 1 <= lo <= hi <= n_slices:
        raise CommandError(f"slice range {text} is outside 1-{n_slices}")
    return range(lo - 1, hi)

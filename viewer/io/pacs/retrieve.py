"""Retrieve a study or some of its series into the local cache, resumably.

:func:`retrieve` is a generator (the viewer's job runner drains it; the CLI iterates it): it
asks the server which SOP instances each series holds, skips those already in the cache, fetches
the rest by the server's route (WADO-RS, C-GET or C-MOVE) and yields a
:class:`RetrieveProgress` per instance written. ``cancelled()`` is checked between instances.
If the server fails midway, :class:`PartialRetrieveError` says how many arrived (they stay
usable) and how many are missing; running it again fetches only those.
"""
from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from viewer.io.pacs.cache import RetrieveCache
from viewer.io.pacs.client import PacsClient
from viewer.io.pacs.errors import PacsError, PartialRetrieveError


@dataclass(frozen=True)
class RetrieveProgress:
    """``done`` of ``total`` instances of the retrieve are in the cache (``fetched`` of them by
    this run); ``path`` was just written, in series ``series_uid`` (``series_index`` of
    ``n_series``), whose folder is ``series_folder``."""

    study_uid: str
    series_uid: str
    series_index: int
    n_series: int
    done: int
    total: int
    fetched: int
    path: str
    series_folder: str
    series_complete: bool


@dataclass(frozen=True)
class RetrieveResult:
    """What a retrieve left in the cache: ``folder`` (the study), one folder per series."""

    study_uid: str
    folder: Path
    series_folders: tuple[Path, ...]
    total: int
    fetched: int
    already: int
    missing: int
    cancelled: bool = False


def retrieve(client: PacsClient, cache: RetrieveCache, study_uid: str,
             series_uids: Sequence[str] | None = None, *,
             cancelled: Callable[[], bool] = lambda: False
             ) -> Generator[RetrieveProgress, None, RetrieveResult]:
    """Fetch the study ``study_uid`` (or only ``series_uids`` of it) into ``cache``; see the
    module docstring. Returns a :class:`RetrieveResult`."""
    listed = {s.series_uid: s for s in client.find_series(study_uid)}
    if series_uids is None:
        series_uids = list(listed)
    # Per series: the instances expected (listed only when some are already here, or when the
    # server gave no count) and those present. A first retrieve of a series needs no listing:
    # its count from the series search says whether everything arrived.
    plan: list[_Series] = []
    for series_uid in series_uids:
        cache.clean_partials(study_uid, series_uid)
        present = cache.present(study_uid, series_uid)
        count = listed[series_uid].n_instances if series_uid in listed else None
        expected = None
        if present or count is None:
            expected = client.find_instances(study_uid, series_uid)
            count = len(expected)
        plan.append(_Series(series_uid, expected, present, count))
        if cancelled():
            break
    total = sum(p.count for p in plan)
    already = sum(p.have() for p in plan)
    done, fetched = already, 0
    folder = cache.study_dir(study_uid)
    folders = tuple(cache.series_dir(study_uid, p.uid) for p in plan)
    n_series = len(plan)
    for index, p in enumerate(plan):
        if cancelled() or p.have() >= p.count:
            continue
        series_folder = str(cache.series_dir(study_uid, p.uid))
        sop_uids = None if p.expected is None or not p.present else \
            [uid for uid in p.expected if uid not in p.present]
        got = p.have()
        try:
            for path in client.fetch(study_uid, p.uid, sop_uids, cache, cancelled):
                done, fetched, got = done + 1, fetched + 1, got + 1
                yield RetrieveProgress(study_uid, p.uid, index, n_series, done, total,
                                       fetched, str(path), series_folder, got >= p.count)
        except PacsError as exc:
            received = _count(cache, study_uid, plan)
            if not received:
                raise
            raise PartialRetrieveError(
                f"{exc} {received} of {total} images are in the cache ({folder}) and stay "
                f"usable; retrieve again to fetch the {total - received} missing.",
                folder=str(folder), received=received, missing=total - received) from None
    received = _count(cache, study_uid, plan)
    result = RetrieveResult(study_uid, folder, folders, total, fetched, already,
                            max(0, total - received), cancelled=cancelled())
    if result.missing and not result.cancelled:
        raise PartialRetrieveError(
            f"{client.server.address} sent {fetched} images but {result.missing} of {total} did "
            f"not arrive. The {received} in the cache ({folder}) stay usable; retrieve again to "
            f"fetch the {result.missing} missing.",
            folder=str(folder), received=received, missing=result.missing)
    return result


@dataclass
class _Series:
    """One series of a retrieve: ``expected`` SOP instance UIDs (None: not listed, ``count``
    from the series search) and those ``present`` in the cache before it started."""

    uid: str
    expected: list[str] | None
    present: set[str]
    count: int

    def have(self) -> int:
        if self.expected is None:
            return len(self.present)
        return len(set(self.expected) & self.present)


def _count(cache: RetrieveCache, study_uid: str, plan: list[_Series]) -> int:
    """Instances of the plan now in the cache (all of a series' files when it was not listed)."""
    n = 0
    for p in plan:
        here = cache.present(study_uid, p.uid)
        n += len(here) if p.expected is None else len(set(p.expected) & here)
    return n


def run_retrieve(gen: Generator[RetrieveProgress, None, RetrieveResult],
                 on_progress: Callable[[RetrieveProgress], None] | None = None) -> RetrieveResult:
    """Drain a :func:`retrieve` generator, calling ``on_progress`` per event; its result."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(event)

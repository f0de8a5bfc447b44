"""``--engine local``: read and preprocess in worker processes, results streamed back in
completion order with a bounded number of series in flight.

Workers come from a ``forkserver`` (``spawn`` where there is none) that has already imported the
reading stack, so a replacement worker starts fast and never inherits the model process's torch
threads. When a worker dies (segfault in a decoder, out of memory) the pool is rebuilt and the
series that were in flight are read again one at a time: the one that kills a worker alone is
recorded as failed, the others go on.
"""
from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from viewer.io.records import SeriesInfo
from viewer.modules.batch.work import DIED, SeriesFailure, SeriesMeta, SeriesWork, init_worker, read_series

_PRELOAD = ["viewer.modules.batch.work", "viewer.io", "inference.classifier"]


@dataclass(frozen=True)
class ReadJob:
    """The picklable read-and-preprocess call: ``job(info, attempt)``."""

    spec: Any
    keep_voxels: bool = False

    def __call__(self, info: SeriesInfo, attempt: int = 1) -> SeriesWork | SeriesFailure:
        return read_series(info, self.spec, self.keep_voxels, attempt)


def _context() -> Any:
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return mp.get_context("spawn")


def start_readers() -> None:
    """Start the fork server now (it imports the reading stack and torch, about 1 s), so that
    it does so while the model process imports torch and loads the model, not after."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def run_local(series: Iterable[SeriesInfo], job: Callable[[SeriesInfo, int], Any],
              workers: int = 2, in_flight: int | None = None) -> Iterator[SeriesWork | SeriesFailure]:
    """Read every series of ``series`` with ``job`` in ``workers`` processes; yields each result
    as it completes. At most ``in_flight`` (default 2 x workers) series are read or waiting, so
    memory stays bounded whatever the archive size. Closing the generator cancels what is queued."""
    ctx = _context()
    limit = max(1, in_flight or 2 * workers)

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker)

    pool = new_pool()
    pending: dict[Future, tuple[SeriesInfo, int]] = {}
    suspects: deque[tuple[SeriesInfo, int]] = deque()
    source = iter(series)
    exhausted = False
    try:
        while True:
            if suspects:  # after a crash: one series at a time, to find the one that kills
                if not pending:
                    info, attempt = suspects.popleft()
                    pending[pool.submit(job, info, attempt)] = (info, attempt)
            else:
                while not exhausted and len(pending) < limit:
                    info = next(source, None)
                    if info is None:
                        exhausted = True
                        break
                    pending[pool.submit(job, info, 1)] = (info, 1)
            if not pending:
                if suspects:
                    continue
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken: list[tuple[SeriesInfo, int]] = []
            for fut in done:
                info, attempt = pending.pop(fut)
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    broken.append((info, attempt))
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be unpickled
                    yield SeriesFailure(SeriesMeta.of(info), f"worker error: {type(exc).__name__}: {exc}",
                                        attempt)
            if broken:
                broken += list(pending.values())
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                alone = len(broken) == 1 and broken[0][1] > 1
                for info, attempt in broken:
                    if alone or attempt >= 3:
                        yield SeriesFailure(SeriesMeta.of(info), DIED, attempt)
                    else:
                        suspects.append((info, attempt + 1))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

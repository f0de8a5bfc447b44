"""Background jobs on a QThreadPool: progress, cooperative cancel, latest request wins.

A job is a callable ``fn(ctx: JobContext)``. If it returns a generator, every yielded value is a
progress event and the generator's return value is the result; the cancel flag is checked
between yields. A plain function returns its result directly and may call ``ctx.report(value)``
for progress and ``ctx.cancelled()`` as a cancellation point (e.g. pass it as ``cancelled=`` to
``viewer.io.discover``).

Every job runs under a *key* ("discover", "load", "tags", later "inference"...). Submitting a new
job under a key cancels the previous one and drops anything the older job still delivers: only the
latest request id per key reaches the callbacks and the runner's signals. Exceptions become a
:class:`JobError` (type name + message, no traceback); the traceback goes to ``logging``.

Signals cross threads through a QObject emitter living in the GUI thread, connected with
``Qt.QueuedConnection``.

Worker threads run at a lower scheduling priority than the GUI thread (Linux: nice
:data:`WORKER_NICE` per thread; elsewhere ``QThread.LowPriority``), so that on a busy machine the
operating system prefers the event loop over the classifiers' number crunching.
"""
from __future__ import annotations

import inspect
import itertools
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

WORKER_NICE = 10  # Linux nice increment of worker threads (0 = same priority as the GUI)
_lowered = threading.local()


def lower_thread_priority(nice: int | None = None) -> None:
    """Lower the calling worker thread's scheduling priority once by ``nice`` (default
    :data:`WORKER_NICE`); a failure (e.g. a sandbox forbidding it) only gets logged."""
    nice = WORKER_NICE if nice is None else int(nice)
    if getattr(_lowered, "done", False) or nice <= 0:
        return
    _lowered.done = True
    try:
        if sys.platform.startswith("linux"):
            tid = threading.get_native_id()
            now = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, now + nice))
        else:
            QThread.currentThread().setPriority(QThread.Priority.LowPriority)
    except (OSError, AttributeError) as exc:  # e.g. a sandbox forbidding it: run at normal priority
        log.debug("worker priority unchanged: %s", exc)

JobFn = Callable[["JobContext"], Any]
_runners: "weakref.WeakSet[JobRunner]" = weakref.WeakSet()   # every live runner, for wait_for_workers


def wait_for_workers(timeout_ms: int) -> bool:
    """Cancel every live runner's jobs and wait up to ``timeout_ms`` in all for their workers;
    True when none is left running. For a process that ends by returning from Python (tests,
    scripts): a worker still running when the interpreter finalises is killed mid-job, which
    Qt reports on the terminal ("Qt Concurrent has caught an exception...")."""
    deadline = time.monotonic() + max(0, timeout_ms) / 1000.0
    done = True
    for runner in list(_runners):
        try:
            left = max(0, int((deadline - time.monotonic()) * 1000))
            done = runner.shutdown(left) and done
        except RuntimeError:   # its Qt object is already deleted, and so are its threads
            continue
    return done


@dataclass(frozen=True)
class JobError:
    """A job's failure as shown to users: exception type name and its message."""

    type_name: str
    message: str

    def __str__(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


class JobCancelled(Exception):
    """Raised inside a job (by ``ctx.check()``) to stop at a cancellation point."""


class JobContext:
    """Handed to a running job: cancellation flag and progress reporting (thread-safe)."""

    def __init__(self, key: str, request_id: int, emitter: "_Emitter") -> None:
        self.key = key
        self.request_id = request_id
        self._flag = threading.Event()
        self._emitter = emitter

    def cancel(self) -> None:
        """Ask the job to stop at its next cancellation point."""
        self._flag.set()

    def cancelled(self) -> bool:
        """True once cancel was requested (usable as a ``cancelled=`` callback)."""
        return self._flag.is_set()

    def check(self) -> None:
        """Raise :class:`JobCancelled` when cancel was requested."""
        if self._flag.is_set():
            raise JobCancelled()

    def report(self, value: Any) -> None:
        """Send a progress event to the GUI thread."""
        if not self._flag.is_set():
            self._emitter.progressed.emit(self.key, self.request_id, value)


class _Emitter(QObject):
    """Signals emitted from worker threads; lives in the GUI thread."""

    progressed = Signal(str, int, object)
    succeeded = Signal(str, int, object)
    errored = Signal(str, int, object)
    stopped = Signal(str, int)
    ended = Signal(str, int)


class _Runnable(QRunnable):
    def __init__(self, fn: JobFn, ctx: JobContext, emitter: _Emitter) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn, self._ctx, self._emitter = fn, ctx, emitter

    def run(self) -> None:  # worker thread
        ctx, em = self._ctx, self._emitter
        lower_thread_priority()
        try:
            result = self._fn(ctx)
            if inspect.isgenerator(result):
                result = self._drain(result)
            if ctx.cancelled():
                em.stopped.emit(ctx.key, ctx.request_id)
            else:
                em.succeeded.emit(ctx.key, ctx.request_id, result)
        except JobCancelled:
            em.stopped.emit(ctx.key, ctx.request_id)
        except Exception as exc:  # every failure becomes a message; nothing is swallowed
            log.exception("job %s #%d failed", ctx.key, ctx.request_id)
            em.errored.emit(ctx.key, ctx.request_id, JobError(type(exc).__name__, str(exc)))
        finally:
            em.ended.emit(ctx.key, ctx.request_id)

    def _drain(self, gen: Any) -> Any:
        ctx = self._ctx
        try:
            while True:
                if ctx.cancelled():
                    gen.close()
                    raise JobCancelled()
                try:
                    value = next(gen)
                except StopIteration as stop:
                    return stop.value
                if not ctx.cancelled():
                    self._emitter.progressed.emit(ctx.key, ctx.request_id, value)
        finally:
            gen.close()


@dataclass
class _Job:
    ctx: JobContext
    label: str
    started: float
    on_progress: Callable[[Any], None] | None
    on_result: Callable[[Any], None] | None
    on_error: Callable[[JobError], None] | None


class JobRunner(QObject):
    """Runs generator jobs off the GUI thread; see the module docstring.

    Signals (GUI thread, latest request per key only):
      ``started(key, request_id, label)``; ``progressed(key, request_id, value)``;
      ``finished(key, request_id, result)``; ``failed(key, request_id, JobError)``;
      ``cancelled(key, request_id)``; ``busy_changed(bool)`` any job running or not.
    """

    started = Signal(str, int, str)
    progressed = Signal(str, int, object)
    finished = Signal(str, int, object)
    failed = Signal(str, int, object)
    cancelled = Signal(str, int)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 3) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._emitter = _Emitter()  # no parent: deleted with the runner's Python reference
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._jobs: dict[int, _Job] = {}
        q = Qt.ConnectionType.QueuedConnection
        self._emitter.progressed.connect(self._on_worker_progressed, q)
        self._emitter.succeeded.connect(self._on_worker_succeeded, q)
        self._emitter.errored.connect(self._on_worker_errored, q)
        self._emitter.stopped.connect(self._on_worker_stopped, q)
        self._emitter.ended.connect(self._on_worker_ended, q)
        _runners.add(self)

    # -- API -------------------------------------------------------------------------------
    def submit(self, key: str, fn: JobFn, *, label: str = "",
               on_progress: Callable[[Any], None] | None = None,
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[JobError], None] | None = None) -> int:
        """Start ``fn(ctx)`` in the pool under ``key`` and return its request id.

        A running job with the same key is cancelled and its later events are dropped. The
        callbacks run in the GUI thread, only for this request, only while it is the latest.
        """
        self.cancel(key)
        rid = next(self._ids)
        ctx = JobContext(key, rid, self._emitter)
        was_busy = self.is_busy()
        self._latest[key] = rid
        self._jobs[rid] = _Job(ctx, label or key, time.monotonic(), on_progress, on_result,
                               on_error)
        self._pool.start(_Runnable(fn, ctx, self._emitter))
        self.started.emit(key, rid, label or key)
        if not was_busy:
            self.busy_changed.emit(True)
        return rid

    def cancel(self, key: str) -> None:
        """Cancel the latest job under ``key`` (its results will be dropped)."""
        was_busy = self.is_busy()
        rid = self._latest.pop(key, None)
        if rid is not None and rid in self._jobs:
            self._jobs[rid].ctx.cancel()
            self.cancelled.emit(key, rid)
        if was_busy and not self.is_busy():
            self.busy_changed.emit(False)

    def cancel_all(self) -> None:
        """Cancel every running job."""
        for key in list(self._latest):
            self.cancel(key)

    def shutdown(self, timeout_ms: int = 800) -> bool:
        """Cancel everything and wait up to ``timeout_ms`` for workers; True when all stopped."""
        self.cancel_all()
        for job in self._jobs.values():
            job.ctx.cancel()
        self._pool.clear()
        return self._pool.waitForDone(timeout_ms)

    def latest_id(self, key: str) -> int | None:
        """Request id of the current job under ``key``, or None."""
        return self._latest.get(key)

    def is_running(self, key: str) -> bool:
        """True while the latest job under ``key`` has not ended."""
        rid = self._latest.get(key)
        return rid is not None and rid in self._jobs

    def active_threads(self) -> int:
        """Worker threads still running a job (0 once every job ended or was abandoned)."""
        return int(self._pool.activeThreadCount())

    def is_busy(self) -> bool:
        """True while any job that is still the latest for its key runs."""
        return any(rid in self._jobs for rid in self._latest.values())

    def running_jobs(self) -> list[tuple[str, str, float]]:
        """(key, label, seconds running) of the current jobs, oldest first."""
        now = time.monotonic()
        return [(k, self._jobs[r].label, now - self._jobs[r].started)
                for k, r in self._latest.items() if r in self._jobs]

    # -- worker events (GUI thread) --------------------------------------------------------
    def _current(self, key: str, rid: int) -> _Job | None:
        return self._jobs.get(rid) if self._latest.get(key) == rid else None

    @Slot(str, int, object)
    def _on_worker_progressed(self, key: str, rid: int, value: Any) -> None:
        job = self._current(key, rid)
        if job is None:
            return
        if job.on_progress is not None:
            job.on_progress(value)
        if self._current(key, rid) is not None:  # a callback may have superseded the job
            self.progressed.emit(key, rid, value)

    @Slot(str, int, object)
    def _on_worker_succeeded(self, key: str, rid: int, result: Any) -> None:
        job = self._current(key, rid)
        if job is None:
            return
        self._retire(key, rid)
        if job.on_result is not None:
            job.on_result(result)
        self.finished.emit(key, rid, result)

    @Slot(str, int, object)
    def _on_worker_errored(self, key: str, rid: int, error: JobError) -> None:
        job = self._current(key, rid)
        if job is None:
            return
        self._retire(key, rid)
        if job.on_error is not None:
            job.on_error(error)
        self.failed.emit(key, rid, error)

    @Slot(str, int)
    def _on_worker_stopped(self, key: str, rid: int) -> None:
        if self._current(key, rid) is not None:
            self._retire(key, rid)
            self.cancelled.emit(key, rid)

    @Slot(str, int)
    def _on_worker_ended(self, key: str, rid: int) -> None:
        was_busy = self.is_busy()
        self._jobs.pop(rid, None)
        if self._latest.get(key) == rid:
            del self._latest[key]
        if was_busy and not self.is_busy():
            self.busy_changed.emit(False)

    def _retire(self, key: str, rid: int) -> None:
        """The latest job under key delivered its outcome: stop tracking it as latest."""
        was_busy = self.is_busy()
        if self._latest.get(key) == rid:
            del self._latest[key]
        if was_busy and not self.is_busy():
            self.busy_changed.emit(False)

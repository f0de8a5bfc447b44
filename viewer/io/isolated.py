"""Run a decoder in a separate Python process that may die alone.

GDCM (python-gdcm, SimpleITK) lets C++ exceptions escape on damaged data, which aborts the
interpreter; it only ever runs here, never in SliceWise's own process. ``call(path, func, *args)``
sends ``func(*args)`` to one persistent worker (a plain ``subprocess`` running
``python -c 'from viewer.io.isolated import serve; serve()'``) and returns its result:

* a plain child process, not ``multiprocessing``: it works from daemonic processes (the fuzzer's
  workers) and from scripts without a ``__main__`` guard (spawn would re-run them);
* requests and replies are pickles framed by an 8-byte length on the child's stdin/stdout; the
  child moves its fd 1 to fd 2 first, so a library that prints cannot corrupt the channel, and
  its fd 2 goes to /dev/null: the worker's library messages (Python warnings, C stderr lines)
  are collected there and returned in words with the result (``Reply.notes``);
* if the worker dies (abort, segfault, out of memory) or takes longer than ``timeout`` seconds,
  ``DicomLoadError`` names the file and the next call starts a fresh worker.

``call`` uses one worker, the last resort after the in-process decoders; ``pool(n)`` gives
``n`` more for decoding a compressed series in parallel (``viewer.io.loader``).
"""
from __future__ import annotations

import atexit
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from viewer.io.errors import DicomLoadError

#: Seconds one request may take before the worker is stopped and the file reported.
WORKER_TIMEOUT_S = 120.0
_FRAME = struct.Struct("<Q")
_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True)
class Reply:
    """What the worker returned: ``value`` and its library messages in a reader's words."""

    value: Any
    notes: tuple[str, ...] = ()


class _WorkerError(Exception):
    """``func`` raised in the worker (``args[0]``: type and message)."""


def _write(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_FRAME.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read(stream: BinaryIO) -> Any:
    (size,) = _FRAME.unpack(_read_exact(stream, _FRAME.size))
    return pickle.loads(_read_exact(stream, size))


# --- the child ------------------------------------------------------------------------------
def serve() -> None:
    """The worker's loop: ``(func, args)`` in, ``("ok", value, notes)`` or ``("error", text,
    notes)`` out, until stdin closes."""
    from viewer.io.warnings_capture import library_messages

    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints go where stderr goes, never into the channel
    requests = sys.stdin.buffer
    while True:
        try:
            func, args = _read(requests)
        except EOFError:
            return
        notes: list[str] = []
        try:
            with library_messages(notes, native=True):
                reply: tuple[str, Any, list[str]] = ("ok", func(*args), notes)
        except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
            reply = ("error", f"{type(exc).__name__}: {exc}", notes)
        try:
            _write(channel, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            _write(channel, ("error", f"the result could not be returned ({exc})", notes))


# --- the parent -----------------------------------------------------------------------------
def _start() -> subprocess.Popen:
    paths = [_SOURCE_ROOT] + [p for p in sys.path if p]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
    return subprocess.Popen(
        [sys.executable, "-c", "from viewer.io.isolated import serve; serve()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=env, close_fds=True)


def _exchange(process: subprocess.Popen, func: Callable[..., Any], args: tuple,
              timeout: float) -> Any:
    """Send one request and wait for the reply; raises EOFError (died), TimeoutError."""
    _write(process.stdin, (func, args))  # type: ignore[arg-type]
    box: list[Any] = []

    def receive() -> None:
        try:
            box.append(_read(process.stdout))  # type: ignore[arg-type]
        except (EOFError, OSError, pickle.UnpicklingError, struct.error):
            box.append(None)

    reader = threading.Thread(target=receive, name="slicewise-isolated-reply", daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise TimeoutError
    if box[0] is None:
        raise EOFError
    return box[0]


class Worker:
    """One persistent worker process, started on first use and again after it died; one
    request at a time (a lock)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def stop(self) -> None:
        """End the process (the next call starts a fresh one)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - kill always ends it
            pass
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass

    def call(self, path: str, func: Callable[..., Any], *args: Any,
             timeout: float = WORKER_TIMEOUT_S) -> Reply:
        """``func(*args)`` in this worker (``func`` importable by name: a module level
        function). Raises ``DicomLoadError`` naming ``path`` when the worker dies, hangs or
        ``func`` raises."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self.stop()
                try:
                    self._process = _start()
                except OSError as exc:
                    raise DicomLoadError(path, f"the separate decoding process could not be "
                                               f"started ({exc})") from None
            try:
                status, value, notes = _exchange(self._process, func, args, timeout)
            except TimeoutError:  # before OSError, of which it is a subclass
                self.stop()
                raise DicomLoadError(path, f"decoding the image data took longer than "
                                           f"{timeout:.0f} s and was stopped") from None
            except (EOFError, OSError):  # the worker died (or its pipe broke)
                self.stop()
                raise DicomLoadError(path, "the image data is damaged: the decoder crashed "
                                           "while reading it (SliceWise itself kept running)"
                                     ) from None
        if status != "ok":
            raise DicomLoadError(path, f"the decoder failed ({value})")
        return Reply(value, tuple(notes))


#: The worker for GDCM, the last resort after the in-process decoders.
_LAST_RESORT = Worker()
#: Workers decoding compressed series in parallel (``pool``), kept warm between series.
_POOL: list[Worker] = []
_POOL_LOCK = threading.Lock()


def pool(size: int) -> list[Worker]:
    """``size`` persistent workers for parallel decoding (created on first use, reused)."""
    with _POOL_LOCK:
        while len(_POOL) < size:
            _POOL.append(Worker())
        return _POOL[:size]


def _stop_all() -> None:
    for worker in [_LAST_RESORT, *_POOL]:
        worker.stop()


atexit.register(_stop_all)


def call(path: str, func: Callable[..., Any], *args: Any,
         timeout: float = WORKER_TIMEOUT_S) -> Reply:
    """``func(*args)`` in the last-resort worker process (see ``Worker.call``)."""
    return _LAST_RESORT.call(path, func, *args, timeout=timeout)

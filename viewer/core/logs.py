"""Logging for a person at a terminal: one line per problem in words on stderr, the full
tracebacks in a log file of the per-user data folder (``<data dir>/logs/slicewise.log``) for
whoever investigates. No traceback reaches the terminal."""
from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_BYTES = 1_000_000
LOG_FILES = 3


class OneLineFormatter(logging.Formatter):
    """``LEVEL name: message`` and, for an exception, its type and message: no traceback."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        line = f"{record.levelname} {record.name}: {text}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f" ({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"
        return line


def log_file() -> Path:
    """Where the full log goes: ``<data dir>/logs/slicewise.log``."""
    from viewer.core.sample_study import data_dir

    return data_dir() / "logs" / "slicewise.log"


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the message, so a console that was
    swapped (a test's capture, a GUI redirect) never leaves a handler on a closed stream."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(console_level: int = logging.WARNING) -> Path | None:
    """One-line console messages at ``console_level`` and above; everything from INFO, with
    tracebacks, to the log file (None when it cannot be written: then the console only)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "slicewise", False):
            root.removeHandler(handler)
    root.setLevel(logging.INFO)
    console = _CurrentStderrHandler()
    console.setLevel(console_level)
    console.setFormatter(OneLineFormatter())
    console.slicewise = True  # type: ignore[attr-defined]
    root.addHandler(console)
    path: Path | None = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES,
                                                       backupCount=LOG_FILES, encoding="utf-8")
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.slicewise = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return path

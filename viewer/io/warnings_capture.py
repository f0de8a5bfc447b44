"""Library noise as data: Python warnings and C-level stderr lines of the DICOM libraries.

pydicom reports odd header values with ``warnings.warn`` (and its logger); GDCM and libjpeg inside
SimpleITK print to the process's C ``stderr`` (fd 2), e.g. ``Unsupported JPEG data precision 12``
when GDCM's 8-bit JPEG codec declines a 12-bit image before the 12-bit one decodes it.
``library_messages`` collects both around a library call, turns each recognised message into
words a reader understands, appends them to a warnings list (records carry them) and logs every
raw message to the ``viewer.io`` logger. Nothing reaches stdout or stderr.

Thread safety: ``warnings.catch_warnings`` and the fd 2 redirection change process-wide state,
so every capture holds one re-entrant lock; keep the captured calls short (one file, one chunk).
While fd 2 is redirected, a line another thread writes to stderr lands in the log, not the
console.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("viewer.io")
logger.addHandler(logging.NullHandler())  # a library never prints; the app configures logging

_LOCK = threading.RLock()
#: Longest raw text kept in a note.
_MAX_NOTE = 160

#: (pattern, reader's words); ``{0}`` is the first group of the match.
_KNOWN: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.I), w) for p, w in (
    (r"Unsupported JPEG data precision (\d+)",
     "{0}-bit JPEG image: the standard 8-bit JPEG decoder declined it and the {0}-bit decoder "
     "was used"),
    (r"Invalid SOS parameters for sequential JPEG",
     "the JPEG stream has unusual scan parameters; the decoder read it anyway"),
    (r"Premature end of JPEG file|Corrupt JPEG data",
     "the JPEG stream is damaged or incomplete; parts of the image may be wrong"),
    (r"Expected (explicit|implicit) VR, but found",
     "the header is encoded differently from what its transfer syntax says ({0} VR "
     "expected); it was read anyway"),
    (r"Invalid value for VR (\w+)",
     "a header value is not valid for its type ({0}); it was read as written"),
    (r"value length \(\d+\) exceeds the maximum length of \d+ allowed for VR (\w+)",
     "a header value is longer than its type ({0}) allows; it was read as written"),
    (r"VR lookup failed for the raw element with tag (\(\w{4},\w{4}\))",
     "header element {0} has an unknown type; shown as raw bytes"),
    (r"End of file reached before delimiter",
     "the file ends inside a sequence or the compressed image data: it may have been cut "
     "short while copying"),
    (r"number of bytes of (?:compressed )?pixel data .* (?:matches|doesn't match|does not "
     r"match|exceeds|is less)",
     "the size of the image data differs from what the header says; the image may be wrong"),
    (r"doesn't match the expected length|does not match the expected length",
     "the size of the image data differs from what the header says; the image may be wrong"),
    (r"overflow encountered|invalid value encountered",
     "numbers in the header are out of range; values derived from them may be wrong"),
    (r"Unknown encoding|Incorrect value for Specific Character Set|character set",
     "the header's character set is unknown or wrong; some text may show odd characters"),
))


def readable(message: str) -> str:
    """A reader's words for one raw library message (known ones rephrased, others trimmed)."""
    text = " ".join(message.split())
    for pattern, words in _KNOWN:
        match = pattern.search(text)
        if match:
            return words.format(*(match.groups() or ("",)))
    if len(text) > _MAX_NOTE:
        text = text[:_MAX_NOTE - 1] + "…"
    return f"note from the DICOM library: {text}"


@contextmanager
def _native_stderr(lines: list[str]) -> Iterator[None]:
    """Send fd 2 to a temporary file while the block runs; its lines are added to ``lines``."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError, OSError):
        pass
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (AttributeError, ValueError, OSError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            raw = sink.read(64_000).decode("utf-8", "replace")
            lines.extend(line for line in raw.splitlines() if line.strip())


_NOT_ABOUT_THE_FILE = (ResourceWarning, DeprecationWarning, PendingDeprecationWarning)


@contextmanager
def library_messages(sink: list[str] | None = None, *, native: bool = False,
                     prefix: str = "") -> Iterator[list[str]]:
    """Collect the library warnings raised inside the block (and, with ``native``, what C code
    writes to fd 2). Each distinct message is logged to ``viewer.io`` and its reader's words
    (``prefix`` first, e.g. a file name) are appended to ``sink`` (without repeats) and to the
    yielded list, also when the block raises."""
    notes: list[str] = []
    with _LOCK:
        native_lines: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if native:
                    with _native_stderr(native_lines):
                        yield notes
                else:
                    yield notes
            finally:
                # ResourceWarning / DeprecationWarning are interpreter housekeeping (e.g. a
                # temporary folder collected elsewhere), never something about this file.
                raw = [str(w.message) for w in caught
                       if not issubclass(w.category, _NOT_ABOUT_THE_FILE)] + native_lines
                for message in dict.fromkeys(raw):
                    logger.warning("library message: %s", message)
                    note = prefix + readable(message)
                    if note not in notes:
                        notes.append(note)
                if sink is not None:
                    sink.extend(n for n in notes if n not in sink)

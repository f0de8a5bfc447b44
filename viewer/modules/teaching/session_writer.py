"""Writing a quiz session's files off the GUI thread: the session CSV, summary CSV, HTML report
and answers JSON (:func:`viewer.modules.teaching.report.write_session`), from a snapshot of the
session taken when the write is asked for, in a JobRunner job under the key "teach-save" (one
lock lets only one write touch the files at a time).

:func:`default_session_path` names where a session goes when the reader named no file.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.modules.teaching.caselist import CaseList
from viewer.modules.teaching.session import QuizSession
from viewer.state.jobs import JobError, JobRunner

if TYPE_CHECKING:
    from viewer.modules.teaching.ai import CaseAI

_SAVE_LOCK = threading.Lock()


class SessionWriter:
    """Writes sessions with ``runner``; ``on_written(paths)`` gets the written files (a dict
    of :func:`~viewer.modules.teaching.report.session_paths`), ``on_failed(JobError)`` a
    failure."""

    def __init__(self, runner: JobRunner, on_written: Callable[[dict[str, Path]], None],
                 on_failed: Callable[[JobError], None]) -> None:
        self.runner = runner
        self.on_written, self.on_failed = on_written, on_failed
        self._asked = 0      # snapshots taken (the newest has this number)
        self._written = 0    # the newest snapshot on disk; older ones never overwrite it

    def write(self, session: QuizSession, ai: Mapping[str, CaseAI], out: Path,
              wait: bool = False) -> dict[str, Path] | None:
        """Write ``session`` (with the AI results ``ai`` by case id) to ``out`` and the files
        beside it: in a background job (``on_written`` follows), or at once with ``wait=True``
        (returns the paths; None after a failure)."""
        s = session
        records, answers = s.records(), s.answers_json()
        reader, options = s.reader, [c.options for c in s.cases.cases]
        title = s.cases.title
        demo = any(a.demo for a in ai.values()) or not ai
        self._asked += 1
        number = self._asked

        def job(ctx=None) -> dict[str, Path] | None:
            from viewer.modules.teaching.report import write_session
            from viewer.modules.teaching.summary import summarise

            with _SAVE_LOCK:
                if number < self._written:  # a newer snapshot is on disk already
                    return None
                paths = write_session(records, summarise(records, reader, options), out,
                                      answers=answers, title=title, demo=demo)
                self._written = number
                return paths

        if not wait:
            self.runner.submit("teach-save", job, label="Saving session",
                               on_result=lambda paths: paths and self.on_written(paths),
                               on_error=self.on_failed)
            return None
        self.runner.cancel("teach-save")
        try:
            paths = job()
        except OSError as exc:
            self.on_failed(JobError(type(exc).__name__, f"{out}: {exc.strerror or exc}"))
            return None
        if paths:
            self.on_written(paths)
        return paths


def default_session_path(cases: CaseList) -> Path:
    """``<data dir>/teaching-sessions/<list>-<date-time>.csv``."""
    import datetime as dt

    from viewer.core.sample_study import data_dir

    stem = (cases.source.stem if cases.source else "session").replace(" ", "_")
    when = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return data_dir() / "teaching-sessions" / f"{stem}-{when}.csv"

"""Session files are written in background jobs from snapshots; an older snapshot that reaches
the disk late never overwrites a newer one (the reader's last answer is never lost)."""
from __future__ import annotations

import csv

from viewer.modules.teaching.session import QuizSession
from viewer.modules.teaching.session_writer import SessionWriter


class HeldJobs:
    """A stand-in JobRunner that keeps the submitted jobs so the test decides their order."""

    def __init__(self) -> None:
        self.jobs: list = []

    def submit(self, key, fn, label="", on_result=None, on_error=None):
        self.jobs.append((fn, on_result))
        return len(self.jobs)

    def cancel(self, key) -> None:
        pass


def test_older_snapshot_written_last_does_not_overwrite(demo_cases, tmp_path):
    runner, written = HeldJobs(), []
    writer = SessionWriter(runner, written.append, lambda e: None)
    session = QuizSession(demo_cases, reader="r")
    session.start()
    out = tmp_path / "s.csv"
    first = demo_cases.cases[0]
    writer.write(session, {}, out)                       # snapshot 1: nothing answered
    session.record_answer(first.options[0], 4)
    writer.write(session, {}, out)                       # snapshot 2: case 1 answered
    (new_job, new_done), (old_job, old_done) = runner.jobs[1], runner.jobs[0]
    new_done(new_job(None))
    old_done(old_job(None))                              # the stale write arrives last
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["answer_before"] == first.options[0]
    assert len(written) == 1                             # only the newest write is announced

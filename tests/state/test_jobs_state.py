"""JobRunner (latest wins, cancel, errors as messages) and ViewerState signals."""
from __future__ import annotations

import threading
import time

import pytest

from tests.gui_support import make_volume
from viewer.state.jobs import JobError, JobRunner, wait_for_workers
from viewer.state.viewer_state import Message, ViewerState


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.shutdown(2000)


def test_generator_job_reports_progress_and_result(qtbot, runner):
    seen = []

    def job(ctx):
        yield from range(5)
        return "done"

    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        rid = runner.submit("k", job, on_progress=seen.append)
    assert blocker.args == ["k", rid, "done"]
    assert seen == [0, 1, 2, 3, 4]
    assert not runner.is_busy()


def test_latest_request_wins(qtbot, runner):
    gate = threading.Event()
    results, progress = [], []

    def slow(ctx):
        gate.wait(5)
        yield "old progress"
        return "old"

    def fast(ctx):
        yield "new progress"
        return "new"

    first = runner.submit("same", slow, on_result=results.append, on_progress=progress.append)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        second = runner.submit("same", fast, on_result=results.append, on_progress=progress.append)
    gate.set()
    assert second > first and blocker.args[1] == second
    qtbot.waitUntil(lambda: runner.active_threads() == 0, timeout=5000)
    qtbot.wait(50)
    assert results == ["new"] and progress == ["new progress"]


def test_cancel_stops_generator_between_yields(qtbot, runner):
    steps = []

    def endless(ctx):
        while True:
            steps.append(1)
            time.sleep(0.005)
            yield len(steps)

    with qtbot.waitSignal(runner.progressed, timeout=5000):
        runner.submit("loop", endless)
    runner.cancel("loop")
    qtbot.waitUntil(lambda: runner.active_threads() == 0, timeout=3000)
    count = len(steps)
    time.sleep(0.05)
    assert len(steps) == count
    assert not runner.is_running("loop")


def test_error_becomes_message_without_traceback(qtbot, runner, caplog):
    errors = []

    def broken(ctx):
        yield 1
        raise ValueError("slice 3 has no pixel data")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit("bad", broken, on_error=errors.append)
    error = blocker.args[2]
    assert isinstance(error, JobError) and errors == [error]
    assert str(error) == "ValueError: slice 3 has no pixel data"
    assert "Traceback" not in str(error)
    assert any("Traceback" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_plain_function_job_and_report(qtbot, runner):
    seen = []

    def job(ctx):
        ctx.report((1, 2))
        return 42

    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.submit("plain", job, on_progress=seen.append)
    assert blocker.args[2] == 42
    assert seen == [(1, 2)]


def test_shutdown_returns_quickly_with_running_job(qtbot, runner):
    def endless(ctx):
        while True:
            time.sleep(0.01)
            yield None

    runner.submit("loop", endless)
    start = time.monotonic()
    assert runner.shutdown(1000)
    assert time.monotonic() - start < 1.0


def test_wait_for_workers_outlasts_a_job_that_ignores_cancel(qtbot, runner):
    """A job with no cancellation point (one long computation) outlives a window's short
    shutdown; wait_for_workers cancels every live runner and waits it out, so that no worker is
    left for interpreter exit to kill."""
    release = threading.Event()
    runner.submit("long", lambda ctx: release.wait(5.0))
    other = JobRunner()
    other.submit("loop", lambda ctx: [time.sleep(0.01) for _ in iter(ctx.cancelled, True)])
    assert not runner.shutdown(50)                  # the window's brief wait gives up
    threading.Timer(0.3, release.set).start()
    assert wait_for_workers(5000)
    assert runner.active_threads() == 0 and other.active_threads() == 0


def test_state_clamps_slice_and_window(qtbot):
    state = ViewerState()
    state.open_volume(make_volume(z=12))
    assert state.slice_index == 6
    with qtbot.waitSignal(state.slice_changed) as blocker:
        state.set_slice(99)
    assert blocker.args == [11]
    with qtbot.assertNotEmitted(state.slice_changed):
        state.set_slice(11)
    state.set_window(10, -5)
    assert state.window[1] > 0


def test_state_messages_by_source(qtbot):
    state = ViewerState()
    state.add_messages(Message("warning", "a", source="discovery"), Message("error", "b", source="load"))
    state.clear_messages("discovery")
    assert [m.title for m in state.messages] == ["b"]


def test_twenty_thousand_signals(qtbot):
    """Guards the PySide6 pin: 6.12.0 aborted Python 3.11 after a few thousand emits."""
    state = ViewerState()
    state.open_volume(make_volume(z=50, y=8, x=8))
    received = []
    state.slice_changed.connect(received.append)
    for n in range(20_000):
        state.set_slice(n % 50)  # every call is a change: 25 -> 0, 1, ..., 49, 0, ...
    assert len(received) == 20_000
    assert received[:3] == [0, 1, 2] and received[-1] == 19_999 % 50

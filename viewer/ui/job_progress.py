"""JobProgress: the status bar's job indicator - the running job's name and a progress bar,
shown only when a job has run longer than PROGRESS_DELAY_MS, hidden when the runner is idle.

Part of :class:`viewer.ui.main_window.MainWindow`.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar

from viewer.state.jobs import JobRunner

PROGRESS_DELAY_MS = 300


class JobProgress:
    """The job label and progress bar for ``runner``'s jobs.

    Attributes: ``label`` (QLabel, the first running job's name), ``bar`` (QProgressBar, done of
    total when the job reports them, busy otherwise), ``timer`` (the single-shot show delay).
    """

    def __init__(self, runner: JobRunner, parent: QObject) -> None:
        self.runner = runner
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.timer = QTimer(parent)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PROGRESS_DELAY_MS)

    def hide(self) -> None:
        """Hide the label and bar (before any job has run)."""
        self.label.hide()
        self.bar.hide()

    def connect(self) -> None:
        """Follow the runner's jobs."""
        self.runner.started.connect(self._on_runner_started)
        self.runner.progressed.connect(self._on_runner_progressed)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self.timer.timeout.connect(self._on_timer_timeout)

    def _on_runner_started(self, key: str, rid: int, label: str) -> None:
        if not self.timer.isActive() and not self.bar.isVisible():
            self.timer.start()

    def _on_timer_timeout(self) -> None:
        jobs = self.runner.running_jobs()
        if jobs:
            self.label.setText(jobs[0][1] + "…")
            self.label.show()
            self.bar.show()

    def _on_runner_progressed(self, key: str, rid: int, value: Any) -> None:
        done_total = None
        if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
            done_total = value
        elif hasattr(value, "done") and hasattr(value, "total"):
            done_total = (int(value.done), int(value.total))
        if done_total and done_total[1] > 0:
            self.bar.setRange(0, done_total[1])
            self.bar.setValue(done_total[0])

    def _on_runner_busy_changed(self, busy: bool) -> None:
        if not busy:
            self.timer.stop()
            self.label.hide()
            self.bar.hide()
            self.bar.setRange(0, 0)

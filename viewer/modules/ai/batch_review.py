"""AI > Open batch results…: a ``slicewise batch`` output folder reviewed in the viewer. Each
series of the opened study that the batch classified gets its call in the series list (flagged
ones marked: out of domain, disagreeing with the header, failed), and opening such a series
shows its per-slice probabilities as the profile, so a reader reviews flagged series first.

Part of :class:`viewer.modules.ai.controller.AiController`; the table is read in a job."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from viewer.io.records import Volume
from viewer.modules.ai.records import SweepResult
from viewer.modules.batch.review import BatchReview, read_batch_folder

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController


class BatchResultsReview:
    """Loads a batch table and shows it on ``ctl``'s window (see the module docstring)."""

    def __init__(self, ctl: AiController) -> None:
        self.ctl = ctl
        self.review: BatchReview | None = None
        self.action = QAction("Open &batch results…", ctl.window)
        self.action.triggered.connect(lambda _=False: self.open())
        ctl.ai_menu.addAction(self.action)
        ctl.state.series_found.connect(lambda *_: self.annotate())
        ctl.state.volume_opened.connect(self._on_state_volume_opened)

    def open(self, folder: str | None = None) -> int | None:
        """Read the batch results in ``folder`` (asked when None) in the background."""
        folder = folder or QFileDialog.getExistingDirectory(self.ctl.window,
                                                            "Open batch results")
        if not folder:
            return None

        def job(ctx: Any) -> BatchReview:
            return read_batch_folder(folder)

        return self.ctl.runner.submit("batch-review", job, label="Reading batch results",
                                      on_result=self._on_read,
                                      on_error=lambda e: self.ctl.ai.set_status(
                                          f"Batch results unavailable: {e.message or e}"))

    def _on_read(self, review: BatchReview) -> None:
        self.review = review
        flagged = sum(s.flagged for s in review.series.values())
        self.ctl.ai.set_status(f"Batch results: {len(review.series)} series, {flagged} flagged "
                               f"({review.table.name})")
        self.annotate()
        vol = self.ctl.state.volume
        if vol is not None:
            self._on_state_volume_opened(vol)

    def annotate(self) -> None:
        """Put each reviewed series' call in the series list (flagged ones marked)."""
        if self.review is None:
            return
        browser = self.ctl.window.series_browser
        for info in browser.series_list():
            s = self.review.series.get(info.series_instance_uid)
            if s is not None:
                browser.set_note(info.uid, s.note(), s.flagged, "\n".join(s.flags), source="batch")

    def _on_state_volume_opened(self, volume: Volume) -> None:
        info = self.ctl.state.series
        s = self.review.series.get(info.series_instance_uid) if self.review and info else None
        if s is None or s.probs.shape[0] != volume.n_slices:
            return
        done = int(np.isfinite(s.probs).all(axis=1).sum())
        self.ctl.ai.set_sweep(SweepResult(volume.series_uid, s.model, s.classes, s.probs.copy(),
                                          done, volume.n_slices))
        self.ctl.series_sweep.show()

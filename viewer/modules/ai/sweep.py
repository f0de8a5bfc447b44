"""SeriesSweep: the AI module's series sweep (per-slice probabilities of the whole series) and the
probability-profile dock that draws it, with flagged-slice marks on the slice slider.

Slices outside the model's domain are never flagged and their probabilities are not drawn as a
curve: the profile shows them as grey hatched bands and the slider as grey marks, with the
reasons in their tooltips.

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code): it submits
:func:`viewer.modules.ai.service.sweep_job`, keeps only the latest sweep of the series and model on screen,
and redraws the growing profile at most every ``PROFILE_INTERVAL_MS``.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget

from viewer.modules.ai import service as svc
from viewer.modules.ai.state import SweepResult
from viewer.ui.views.profile_plot import ProfilePlot

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController

PROFILE_INTERVAL_MS = 100  # a growing sweep redraws the profile at most this often


class SeriesSweep:
    """Runs the sweep of ``ctl`` (an AiController) and draws it in the profile dock.

    Attributes: ``profile`` (ProfilePlot: one curve, P per slice index), ``dock`` (its
    QDockWidget, bottom area, hidden until the first sweep), ``timer`` (single-shot QTimer that
    coalesces redraws), ``clock`` (seconds, monotonic; replaceable in tests).
    """

    def __init__(self, ctl: AiController) -> None:
        self.ctl = ctl
        w = ctl.window
        self.profile = ProfilePlot()
        self.dock = QDockWidget("Probability profile", w)
        self.dock.setObjectName("profile")
        self.dock.setWidget(self.profile)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self._sized = False
        self.timer = QTimer(ctl)
        self.timer.setSingleShot(True)
        self._drawn = -1e9  # self.clock() of the last profile redraw, seconds
        self.clock = time.monotonic
        ctl.ai.sweep_changed.connect(self._on_ai_sweep_changed)
        ctl.ai.flag_threshold_changed.connect(self.refresh)
        self.profile.slice_clicked.connect(ctl.state.set_slice)
        self.timer.timeout.connect(self.refresh)

    def run(self) -> int | None:
        """Per-slice probabilities of the whole series in the background (profile plot);
        the request id, or None when no slice model or no complete series is there."""
        ctl = self.ctl
        ai, vol, card = ctl.ai, ctl.state.volume, ctl.ai.card
        if vol is None or card is None:
            return None
        if card.level != "slice":
            ai.set_status(f"The {card.name} model reads whole exams: use Run on exam.")
            return None
        if ctl.state.is_loading:
            ai.set_status("The series is still loading; run the sweep when it has loaded.")
            return None
        ctl.show_panel()
        self.show()
        ai.set_sweep(SweepResult(vol.series_uid, card.name, card.classes,
                                 np.full((vol.n_slices, len(card.classes)), np.nan, np.float32),
                                 0, vol.n_slices))
        rid = ctl.runner.submit("sweep", svc.sweep_job(ctl.pool, vol, card.name),
                                label=f"{card.name}: series sweep",
                                on_progress=self._on_sweep_result, on_result=self._on_sweep_result,
                                on_error=lambda e: ctl.report_failure("Series sweep failed", e))
        ai.latest["sweep"] = rid
        ctl.panel.set_busy(True, 0, vol.n_slices)
        ai.set_status(f"Sweeping {vol.n_slices} slices with {card.name} (the model loads "
                      "first)…")
        return rid

    def show(self) -> None:
        """Show the probability profile under the view (about 170 px high the first time)."""
        self.dock.show()
        if not self._sized:
            self._sized = True
            self.ctl.window.resizeDocks([self.dock], [170], Qt.Orientation.Vertical)

    def jump_flagged(self, direction: int) -> None:
        """Go to the next (+1) / previous (-1) slice the sweep flagged."""
        state, ai = self.ctl.state, self.ctl.ai
        k = ai.next_flagged(state.slice_index, direction)
        if k is None:
            ai.set_status("No flagged slices (run the model on the series first).")
            return
        state.set_slice(k)
        flagged = ai.flagged_slices().tolist()
        name, sweep = ai.profile_class(), ai.sweep
        p = (f", P({name}) {float(sweep.probs[k, sweep.classes.index(name)]):.2f}"
             if sweep is not None and name is not None else "")
        # the status line names the slice on screen (found under X: it kept "Series sweep done")
        ai.set_status(f"Slice {k + 1}: flagged{p} ({flagged.index(k) + 1} of {len(flagged)}); "
                      "N / Shift+N for the next")

    def _on_sweep_result(self, sweep: SweepResult) -> None:
        ai, vol = self.ctl.ai, self.ctl.state.volume
        if (sweep.request_id != ai.latest.get("sweep") or vol is None
                or sweep.series_uid != vol.series_uid or sweep.model != ai.model):
            return
        ai.set_sweep(sweep)
        if sweep.complete:
            n = len(ai.flagged_slices())
            ood = sweep.out_of_domain().size
            out = (f" {ood} of {sweep.total} slices outside this model's domain (grey, not "
                   f"flagged): {'; '.join(sweep.series_reasons())}." if ood else "")
            ai.set_status(f"Series sweep done: {n} slice{'s' if n != 1 else ''} flagged "
                          f"(P ≥ {ai.flag_threshold:.2f}); N / Shift+N jump to them.{out}")
            self.ctl.device.describe()

    def _on_ai_sweep_changed(self, sweep: SweepResult | None) -> None:
        """Redraw the profile: at once when the sweep starts, ends or is dropped, otherwise at
        most every PROFILE_INTERVAL_MS while it grows (coalescing the chunks in between)."""
        wait_ms = PROFILE_INTERVAL_MS - (self.clock() - self._drawn) * 1000.0
        if sweep is None or sweep.complete or sweep.done == 0 or wait_ms <= 0:
            self.refresh()
        elif not self.timer.isActive():
            self.timer.start(max(1, int(wait_ms)))

    def refresh(self, *_args) -> None:
        """Redraw the profile, its threshold and flags, and the slider's flag marks now."""
        self.timer.stop()
        self._drawn = self.clock()
        ctl = self.ctl
        ai = ctl.ai
        sweep = ai.sweep
        slider = ctl.window.slice_view.slider
        if sweep is None:
            vol = ctl.state.volume
            self.profile.set_profile(None, n_slices=vol.n_slices if vol is not None else 0)
            slider.set_marks(())
            slider.set_muted(())
            ctl.slice_marks_changed.emit((), (), "")
            return
        show = ai.profile_class()
        ood = sweep.out_of_domain()
        probs = sweep.probs
        if ood.size:
            probs = probs.copy()
            probs[ood] = np.nan            # no curve through calls the model is not fit to make
        self.profile.set_profile(probs, sweep.classes, show)
        why = "; ".join(sweep.series_reasons())
        self.profile.set_excluded(ood, f"Outside this model's domain on {ood.size} slice"
                                       f"{'s' if ood.size != 1 else ''}: {why}" if ood.size else "")
        slider.set_muted(ood, "outside the model's domain")
        self.profile.set_threshold(ai.flag_threshold)
        self.profile.set_current(ctl.state.slice_index)
        flagged = ai.flagged_slices()
        values = (sweep.probs[flagged, sweep.classes.index(show)] if show is not None
                  else np.zeros(0))
        self.profile.set_flags(flagged, values)
        slider.set_marks(flagged.tolist())
        ctl.slice_marks_changed.emit(tuple(flagged.tolist()), tuple(ood.tolist()),
                                     "outside the model's domain")

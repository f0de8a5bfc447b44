"""TeachingController: the quiz (reader mode) and presenter mode in a MainWindow.

App-level glue (beside ``viewer.app``): it opens case lists, loads each case's series and runs
its AI (:mod:`viewer.modules.teaching.ai`) in JobRunner jobs, keeps the AI result out of sight until the
reader has recorded an answer, drives the :class:`~viewer.modules.teaching.session.QuizSession`, and
writes the session CSV, summary and report after every change (so a crash loses nothing;
:class:`~viewer.modules.teaching.session_writer.SessionWriter`).
Quiz mode (:class:`~viewer.modules.teaching.quiz_mode.QuizMode`) turns the anonymised display
on, hides the study panels and the free-running AI module, and takes the answer keys from the
window presets and other actions while it runs.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget

from viewer.core.overlay import OverlayStyle
from viewer.modules.ai.controller import AiController
from viewer.modules.ai.service import ModelPool
from viewer.modules.teaching.ai import CaseAI, key_slice
from viewer.modules.teaching.ai_view import ai_view
from viewer.modules.teaching.caselist import Case, CaseList
from viewer.modules.teaching.quiz_mode import QuizMode
from viewer.modules.teaching.quiz_panel import QuizPanel
from viewer.modules.teaching.session import DEFAULT_CONFIDENCE, Phase, QuizError, QuizSession
from viewer.modules.teaching.session_writer import SessionWriter, default_session_path
from viewer.state.jobs import JobError
from viewer.ui.dialogs import show_error
from viewer.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class TeachingController(QObject):
    """Quiz and presenter modes of ``window``. Signals: ``case_shown(int)`` after a case's series
    is on screen; ``ai_ready(str)`` when a case's AI result arrived (still hidden until
    revealed); ``session_written(dict)`` with the paths after each save; ``quiz_ended()``."""

    case_shown = Signal(int)
    ai_ready = Signal(str)
    session_written = Signal(object)
    quiz_ended = Signal()

    def __init__(self, window: MainWindow, ai_module: AiController | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.ai_module = ai_module
        self._own_pool: ModelPool | None = None
        self.state = window.state
        self.runner = window.runner
        self.session: QuizSession | None = None
        self.panel: QuizPanel | None = None
        self.dock: QDockWidget | None = None
        self.presenter: Any = None
        self.out_csv: Path | None = None
        self.methods: tuple[str, ...] = ("gradcam",)
        self.device: str | None = None
        self.ai: dict[str, CaseAI] = {}
        self.current_map = "gradcam"
        self._volume_case: str | None = None
        self.mode = QuizMode(window, ai_module)
        self.writer = SessionWriter(self.runner, self.session_written.emit, self._on_save_failed)
        self.last_error = None
        self._selection = -1
        self._announce_next_save = False
        self.session_written.connect(self._on_session_written)
        self.state.slice_changed.connect(self._on_state_slice_changed)

    # -- quiz lifecycle -----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.session is not None

    def start_quiz(self, cases: CaseList, out_csv: str | Path | None = None,
                   methods: tuple[str, ...] = ("gradcam",), reader: str = "",
                   device: str | None = None) -> QuizSession:
        """Enter reader mode on ``cases``; results go to ``out_csv`` (default:
        :func:`~viewer.modules.teaching.session_writer.default_session_path`)."""
        if self.active:
            self.end_quiz(write=True)
        self.session = QuizSession(cases, reader=reader)
        self.methods = tuple(methods) or ("gradcam",)
        self.device = device
        self.ai = {}
        self.out_csv = Path(out_csv) if out_csv else default_session_path(cases)
        self._enter_mode()
        self._load_case(0)
        return self.session

    def quiz_blocks(self, what: str) -> bool:
        """True (and the status bar says why) while a quiz runs: it ends only when the reader
        ends it, never as a side effect of ``what`` (presenter mode, ...)."""
        if self.active:
            self.window.statusBar().showMessage(
                f"A quiz is running: end it first (Teaching ▸ End quiz and write report) to "
                f"use {what}", 8000)
        return self.active

    def end_quiz(self, write: bool = True) -> None:
        """Leave reader mode. With ``write`` the session files are written in a background job
        from a snapshot taken now; ``session_written`` (and the status bar) say where."""
        if self.session is None:
            return
        self.session.pause()
        if write:
            self._announce_next_save = True
            self.write_session()
        for key in ("teach-load", "teach-ai"):
            self.runner.cancel(key)
        self._leave_mode()
        self.session = None
        self.quiz_ended.emit()

    def _enter_mode(self) -> None:
        if self.panel is None:
            self.panel = QuizPanel()
            self.dock = self.mode.dock(self.panel)
            self._connect_panel(self.panel)
        self.mode.enter(self.dock, self.panel)

    def _leave_mode(self) -> None:
        self.mode.leave(self.dock, self.panel)
        self.dock = self.panel = None

    def model_pool(self) -> ModelPool:
        """The AI module's model pool (one copy of each model in memory); a pool of this
        controller's own only when the window has no AI module (headless use)."""
        if self.ai_module is not None:
            return self.ai_module.pool
        if self._own_pool is None:
            self._own_pool = ModelPool(self.device or "auto")
        return self._own_pool

    def overlay_style(self) -> OverlayStyle:
        """The reader's heat-map style from the AI module (defaults without one)."""
        return self.ai_module.ai.style() if self.ai_module is not None else OverlayStyle()

    def _connect_panel(self, p: QuizPanel) -> None:
        p.option_chosen.connect(self._on_panel_option_chosen)
        p.record_requested.connect(self._on_panel_record_requested)
        p.reveal_requested.connect(self.reveal)
        p.helpfulness_chosen.connect(self._on_panel_helpfulness_chosen)
        p.map_chosen.connect(self._on_panel_map_chosen)
        p.next_requested.connect(self.next_case)
        p.previous_requested.connect(self.previous_case)
        p.end_requested.connect(self._on_panel_end_requested)

    # -- cases ------------------------------------------------------------------------------
    def _load_case(self, i: int) -> None:
        s, p = self.session, self.panel
        assert s is not None and p is not None
        case = s.go_to(i)
        self._volume_case = None
        self.window.slice_view.set_overlay(None)
        p.set_case(i + 1, len(s), s.cases.title, case.question, case.options)
        self._show_record()
        p.set_progress(*s.progress())

        def job(ctx):
            from viewer.modules.teaching.ai import load_case_volume

            return load_case_volume(case, cancelled=ctx.cancelled)

        self.runner.cancel("teach-ai")
        self.runner.submit("teach-load", job, label=f"Loading case {i + 1}",
                           on_result=lambda vol, i=i: self._on_case_loaded(i, vol),
                           on_error=lambda e, c=case: self._on_case_failed(c, e))

    def _on_case_loaded(self, i: int, volume) -> None:
        s = self.session
        if s is None or s.index != i:
            return
        case = s.current
        try:
            k = key_slice(case, volume.n_slices)
        except ValueError as exc:
            self._on_case_failed(case, JobError("ValueError", str(exc)))
            return
        self._volume_case = case.case_id
        self.window.show_volume(volume)
        self.state.set_slice(k)
        s.start()
        self.case_shown.emit(i)
        if case.case_id in self.ai:
            self._refresh_ai()
            return
        methods, pool = self.methods, self.model_pool()

        def job(ctx):
            from viewer.modules.teaching.ai import run_case_ai

            return run_case_ai(case, volume, k, methods, pool, cancelled=ctx.cancelled)

        self.runner.submit("teach-ai", job, label=f"AI for case {i + 1} (hidden)",
                           on_result=lambda res, i=i: self._on_ai_finished(i, res),
                           on_error=lambda e, i=i, c=case: self._on_ai_finished(
                               i, CaseAI(c.case_id, k, model=c.model, error=str(e))))

    def _on_case_failed(self, case: Case, error: JobError) -> None:
        self.last_error = show_error(self.window, f"Case {case.case_id} could not be opened",
                                     error.message or str(error),
                                     "Use Next to go on; the case stays unanswered.")

    def _on_ai_finished(self, i: int, result: CaseAI) -> None:
        s = self.session
        if s is None:
            return
        self.ai[result.case_id] = result
        # an out-of-domain output is no answer: recorded as "" with the notice as the reason
        s.set_ai(result.call, result.call_probability, result.model, result.note, i=i)
        self.ai_ready.emit(result.case_id)
        if s.index == i:
            self._refresh_ai()
        self.write_session()

    # -- reader actions ------------------------------------------------------------------------
    def _on_panel_option_chosen(self, n: int) -> None:
        if self.session is None or self.session.phase == Phase.CLOSED:
            return
        self._selection = n
        self.panel.set_selection(n)
        self._show_phase()

    def _on_panel_record_requested(self) -> None:
        s, p = self.session, self.panel
        if s is None or p is None:
            return
        n = p.selection()
        if s.phase == Phase.REVEALED and (n < 0 or s.current.options[n] == s.record.answer_after):
            self.finish_case()
            return
        if n < 0:
            self.window.statusBar().showMessage("Choose an answer first (keys 1–9)", 4000)
            return
        self.record_answer(n, p.confidence.value())

    def record_answer(self, n: int, confidence: int) -> None:
        """Record option ``n`` (0-based) with ``confidence`` 1-5 (a revision after the reveal)."""
        s = self.session
        try:
            s.record_answer(n, confidence)
        except QuizError as exc:
            self.window.statusBar().showMessage(str(exc), 5000)
            return
        self._show_record()
        self.write_session()

    def reveal(self) -> None:
        """Show the AI result and heat map (only once an answer is recorded)."""
        s = self.session
        if s is None:
            return
        try:
            s.reveal()
        except QuizError as exc:
            self.window.statusBar().showMessage(str(exc), 5000)
            return
        self._show_record()
        self._refresh_ai()
        self.write_session()

    def _on_panel_helpfulness_chosen(self, level: str) -> None:
        try:
            self.session.rate(level)
        except QuizError as exc:
            self.window.statusBar().showMessage(str(exc), 5000)
            return
        self.panel.set_helpfulness(level)
        self.write_session()

    def finish_case(self) -> None:
        s = self.session
        try:
            s.close()
        except QuizError as exc:
            self.window.statusBar().showMessage(str(exc), 5000)
            return
        self._show_record()
        self.write_session()

    def next_case(self) -> None:
        s = self.session
        if s is None:
            return
        if s.phase == Phase.REVEALED:
            s.close()
            self.write_session()
        if s.index + 1 < len(s):
            self._load_case(s.index + 1)
        else:
            self._show_record()
            self.panel.set_progress(*s.progress(), note="last case: End session writes the report")

    def previous_case(self) -> None:
        s = self.session
        if s is not None and s.index > 0:
            self._load_case(s.index - 1)

    def _on_panel_map_chosen(self, method: str) -> None:
        self.current_map = method
        self.panel.set_current_map(method)
        self._apply_overlay()

    def _on_panel_end_requested(self) -> None:
        self.end_quiz(write=True)

    def _on_session_written(self, paths: dict[str, Path]) -> None:
        if self._announce_next_save:
            self._announce_next_save = False
            self.window.statusBar().showMessage(f"Session written to {paths['session']} and "
                                                f"{paths['report'].name}", 10000)

    # -- display -----------------------------------------------------------------------------
    def _show_record(self) -> None:
        s, p = self.session, self.panel
        rec, case = s.record, s.current
        answer = rec.answer_after if rec.revealed else rec.answer_before
        self._selection = case.option_index(answer) if answer else -1
        p.set_selection(self._selection)
        conf = rec.confidence_after if rec.revealed else rec.confidence_before
        p.set_confidence(conf or DEFAULT_CONFIDENCE)  # never the previous case's confidence
        self._show_phase()
        p.set_helpfulness(rec.helpfulness)
        if rec.phase == Phase.CLOSED:
            p.show_truth(case.truth, rec.correct_after, case.notes)
        p.set_progress(*s.progress())
        if not rec.revealed:
            p.hide_ai()
            self.window.slice_view.set_overlay(None)

    def _show_phase(self) -> None:
        s, p = self.session, self.panel
        rec = s.record
        differs = (s.phase == Phase.REVEALED and p.selection() >= 0
                   and s.current.options[p.selection()] != rec.answer_after)
        p.set_phase(s.phase, differs)

    def _refresh_ai(self) -> None:
        s = self.session
        if s is None or not s.record.revealed:
            return  # never shown before the reader has answered
        ai = self.ai.get(s.current.case_id)
        if ai is not None and ai.maps and self.current_map not in ai.maps:
            self.current_map = next(iter(ai.maps))
        self.panel.show_ai(ai_view(ai), self.current_map)
        self._apply_overlay()

    def _current_explanation(self):
        """The revealed explanation of the current case on its key slice, None when hidden."""
        s = self.session
        if s is None or not s.record.revealed or self._volume_case != s.current.case_id:
            return None
        ai = self.ai.get(s.current.case_id)
        if ai is None or not ai.maps or not ai.applicable or self.state.slice_index != ai.slice_index:
            return None   # never a map of an out-of-domain call
        return ai.explanations.get(self.current_map)

    def current_heat(self) -> np.ndarray | None:
        """The revealed map of the current case on its key slice, None when hidden."""
        exp = self._current_explanation()
        return None if exp is None else exp.map

    def current_reference(self) -> float | None:
        """The reference of that map (``Explanation.reference``: faint maps stay faint)."""
        exp = self._current_explanation()
        return None if exp is None else exp.reference

    def _apply_overlay(self) -> None:
        heat = self.current_heat()
        vol = self.state.volume
        if heat is None or vol is None or heat.shape != vol.voxels.shape[1:3]:
            self.window.slice_view.set_overlay(None)
            return
        self.window.slice_view.set_overlay(heat, self.overlay_style(), self.current_reference())

    def _on_state_slice_changed(self, k: int) -> None:
        s = self.session
        if s is None or self._volume_case != s.current.case_id:
            return
        rng = s.current.slice_range
        if rng is not None and not rng[0] - 1 <= k <= rng[1] - 1:
            self.state.set_slice(min(max(k, rng[0] - 1), rng[1] - 1))
            return
        if s.record.revealed:
            self._apply_overlay()

    # -- files -----------------------------------------------------------------------------
    def write_session(self, wait: bool = False) -> dict[str, Path] | None:
        """Write the session CSV, summary CSV, HTML report and answers JSON: in a background
        job (``session_written`` follows), or at once with ``wait=True`` (returns the paths)."""
        if self.session is None or self.out_csv is None:
            return None
        return self.writer.write(self.session, self.ai, self.out_csv, wait)

    def _on_save_failed(self, error: JobError) -> None:
        self.last_error = show_error(self.window, "Session results could not be saved",
                                     error.message or str(error))

    # -- presenter ---------------------------------------------------------------------------
    def start_presenter(self, cases: CaseList, methods: tuple[str, ...] = ("gradcam",),
                        full_screen: bool = True) -> Any:
        """Presenter mode on ``cases`` (Space shows/hides the AI, Esc leaves)."""
        from viewer.modules.teaching.presenting import PresenterSession

        if self.quiz_blocks("presenter mode"):
            return None
        if self.presenter is not None and self.presenter.mode.active:
            self.presenter.stop()
        self.presenter = PresenterSession(self.window, cases, methods, self.device,
                                          ai_module=self.ai_module, pool=self.model_pool())
        self.presenter.start(full_screen)
        return self.presenter


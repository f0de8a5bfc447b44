"""TeachingController: the quiz (reader mode) and presenter mode in a MainWindow.

App-level glue (beside ``viewer.app``): it opens case lists, loads each case's series and runs
its AI (:mod:`viewer.modules.teaching.ai`) in JobRunner jobs, keeps the AI result out of sight until the
reader has recorded an answer, drives the :class:`~viewer.modules.teaching.session.QuizSession`, and
writes the session CSV, summary and report after every change (so a crash loses nothing).
Quiz mode turns the anonymised display on, hides the study panels and the free-running AI
module, and takes the answer keys from the window presets and other actions while it runs.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog

from viewer.state.jobs import JobError
from viewer.core.overlay import OverlayStyle
from viewer.modules.ai.controller import AiController
from viewer.modules.ai.service import ModelPool
from viewer.modules.teaching.ai import CaseAI, key_slice
from viewer.modules.teaching.caselist import Case, CaseList
from viewer.modules.teaching.session import Phase, QuizError, QuizSession
from viewer.ui.dialogs import show_error
from viewer.modules.teaching.quiz_keys import KEYS, KeySuspension, QuizKeyFilter
from viewer.modules.teaching.quiz_panel import AiView, QuizPanel
from viewer.ui.main_window import MainWindow

if TYPE_CHECKING:  # teaching widgets never load inference (tests/modules/teaching/test_imports.py)
    from inference.results import Pointing

log = logging.getLogger(__name__)
_SAVE_LOCK = threading.Lock()


def pointing_text(p: Pointing) -> str:
    return (f"{'hit' if p.hit else 'miss'} within {p.tolerance_px:.0f} px; "
            f"{'inside' if p.inside else 'outside'} the lesion mask exactly")


def ai_view(ai: CaseAI | None) -> AiView:
    """Plain panel data of a case's AI result (None = still computing)."""
    if ai is None:
        return AiView(pending=True)
    if ai.error:
        return AiView(model=ai.model, error=ai.error)
    return AiView(ai.model, ai.predicted, dict(ai.probabilities), tuple(ai.maps),
                  {m: pointing_text(p) for m, p in ai.pointing.items()}, ai.demo_statement)


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
        self._keys = KeySuspension()
        self._saved_docks: list[QDockWidget] = []
        self._saved_anonymise = False
        self._filter: QuizKeyFilter | None = None
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
        """Enter reader mode on ``cases``; results go to ``out_csv`` (default: beside the list)."""
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
        w = self.window
        if self.panel is None:
            self.panel = QuizPanel()
            self.dock = QDockWidget("Teaching quiz", w)
            self.dock.setObjectName("teaching-quiz")
            self.dock.setWidget(self.panel)
            self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
            w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
            self._connect_panel(self.panel)
        self._saved_docks = [d for d in w.findChildren(QDockWidget)
                             if d is not self.dock and d.isVisible()]
        for d in self._saved_docks:
            d.hide()
        self.dock.show()
        w.resizeDocks([self.dock], [380], Qt.Orientation.Horizontal)
        self._saved_anonymise = self.state.anonymise
        self.state.set_anonymise(True)
        self._quiet_free_ai(True)
        keys = [k for ks in KEYS.values() for k in ks]
        self._keys.suspend(w, keys, self.panel.quiz_actions)
        for a in self.panel.quiz_actions:
            a.setVisible(True)
        self._filter = QuizKeyFilter(w, self.panel)
        QApplication.instance().installEventFilter(self._filter)
        w.register_actions(self.panel.quiz_actions)
        w.slice_view.set_overlay(None)

    def _leave_mode(self) -> None:
        w = self.window
        if self._filter is not None:
            QApplication.instance().removeEventFilter(self._filter)
            self._filter.deleteLater()
            self._filter = None
        self._keys.restore()
        if self.panel is not None:
            w.unregister_actions(self.panel.quiz_actions)
        if self.dock is not None:  # its key actions go with it (no clash outside quiz mode)
            w.removeDockWidget(self.dock)
            self.dock.deleteLater()
        self.dock = self.panel = None
        for d in self._saved_docks:
            d.show()
        self._saved_docks = []
        self._quiet_free_ai(False)
        self.state.set_anonymise(self._saved_anonymise)
        w.slice_view.set_overlay(None)

    def _quiet_free_ai(self, quiet: bool) -> None:
        """Keep the free-running AI module from showing results in quiz mode (its public
        suspend / resume: jobs cancelled, results cleared, actions disabled)."""
        if self.ai_module is None:
            return
        if quiet:
            self.ai_module.suspend()
        else:
            self.ai_module.resume()

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
        s.set_ai(result.predicted, result.probability, result.model, result.error, i=i)
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
        if conf:
            p.set_confidence(conf)
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

    def current_heat(self) -> np.ndarray | None:
        """The revealed map of the current case on its key slice, None when hidden."""
        s = self.session
        if s is None or not s.record.revealed or self._volume_case != s.current.case_id:
            return None
        ai = self.ai.get(s.current.case_id)
        if ai is None or not ai.maps or self.state.slice_index != ai.slice_index:
            return None
        return ai.maps.get(self.current_map)

    def _apply_overlay(self) -> None:
        heat = self.current_heat()
        vol = self.state.volume
        if heat is None or vol is None or heat.shape != vol.voxels.shape[1:3]:
            self.window.slice_view.set_overlay(None)
            return
        self.window.slice_view.set_overlay(heat, self.overlay_style())

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
        s = self.session
        if s is None or self.out_csv is None:
            return None
        records, answers = s.records(), s.answers_json()
        reader, options = s.reader, [c.options for c in s.cases.cases]
        title, out = s.cases.title, self.out_csv
        demo = any(a.demo for a in self.ai.values()) or not self.ai

        def job(ctx=None) -> dict[str, Path]:
            from viewer.modules.teaching.report import write_session
            from viewer.modules.teaching.summary import summarise

            with _SAVE_LOCK:
                return write_session(records, summarise(records, reader, options), out,
                                     answers=answers, title=title, demo=demo)

        if not wait:
            self.runner.submit("teach-save", job, label="Saving session",
                               on_result=self.session_written.emit,
                               on_error=self._on_save_failed)
            return None
        self.runner.cancel("teach-save")
        try:
            paths = job()
        except OSError as exc:
            self._on_save_failed(JobError(type(exc).__name__, f"{out}: {exc.strerror or exc}"))
            return None
        self.session_written.emit(paths)
        return paths

    def _on_save_failed(self, error: JobError) -> None:
        self.last_error = show_error(self.window, "Session results could not be saved",
                                     error.message or str(error))

    # -- presenter ---------------------------------------------------------------------------
    def start_presenter(self, cases: CaseList, methods: tuple[str, ...] = ("gradcam",),
                        full_screen: bool = True) -> Any:
        """Presenter mode on ``cases`` (Space shows/hides the AI, Esc leaves)."""
        from viewer.modules.teaching.presenting import PresenterSession

        if self.active:
            self.end_quiz(write=True)
        if self.presenter is not None and self.presenter.mode.active:
            self.presenter.stop()
        self.presenter = PresenterSession(self.window, cases, methods, self.device,
                                          ai_module=self.ai_module, pool=self.model_pool())
        self.presenter.start(full_screen)
        return self.presenter


def default_session_path(cases: CaseList) -> Path:
    """``<data dir>/teaching-sessions/<list>-<date-time>.csv``."""
    import datetime as dt

    from viewer.core.sample_study import data_dir

    stem = (cases.source.stem if cases.source else "session").replace(" ", "_")
    when = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return data_dir() / "teaching-sessions" / f"{stem}-{when}.csv"


def choose_case_list(parent: Any) -> str:
    """A file dialog for a case list (JSON or CSV); "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open case list", "",
                                          "Case lists (*.json *.csv);;All files (*)")
    return path

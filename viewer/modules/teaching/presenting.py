"""PresenterSession: walks a case list in presenter mode (a teacher in front of a class).

App-level glue: each case's series loads and its AI runs in JobRunner jobs; the AI result and
heat map stay hidden until the presenter presses Space, and the answer and notes until T. No
answers are recorded. Patient data stay anonymised throughout.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from viewer.core.overlay import OverlayStyle
from viewer.modules.ai.controller import AiController
from viewer.modules.ai.service import ModelPool
from viewer.modules.teaching.ai import METHOD_NAMES, CaseAI, key_slice
from viewer.modules.teaching.ai_view import percent
from viewer.modules.teaching.caselist import CaseList
from viewer.modules.teaching.presenter import PresenterMode
from viewer.modules.teaching.quiz_keys import QuizKeyFilter
from viewer.ui.main_window import MainWindow


class PresenterSession(QObject):
    """See the module docstring. ``index`` is the current case (0-based); ``ai`` the results so
    far by case id. Signals: ``case_shown(int)``, ``ai_ready(str)``, ``ended()``."""

    case_shown = Signal(int)
    ai_ready = Signal(str)
    ended = Signal()

    def __init__(self, window: MainWindow, cases: CaseList, methods: tuple[str, ...] = ("gradcam",),
                 device: str | None = None, ai_module: AiController | None = None,
                 pool: ModelPool | None = None) -> None:
        super().__init__(window)
        self.ai_module = ai_module
        self.pool = pool if pool is not None else ModelPool(device or "auto")
        self.window, self.cases = window, cases
        self.methods, self.device = tuple(methods) or ("gradcam",), device
        self.mode = PresenterMode(window)
        self.index = 0
        self.ai: dict[str, CaseAI] = {}
        self._volume_case: str | None = None
        self._filter: QuizKeyFilter | None = None
        self._anonymise = window.state.anonymise
        self.mode.ai_toggled.connect(self._on_mode_ai_toggled)
        self.mode.next_requested.connect(lambda: self.go_to(self.index + 1))
        self.mode.previous_requested.connect(lambda: self.go_to(self.index - 1))
        self.mode.left.connect(self._on_mode_left)
        window.state.slice_changed.connect(self._on_state_slice_changed)

    def start(self, full_screen: bool = True) -> None:
        w = self.window
        w.state.set_anonymise(True)
        if self.ai_module is not None:
            self.ai_module.suspend()
        self.mode.enter(full_screen)
        self._filter = QuizKeyFilter(w, self.mode)
        QApplication.instance().installEventFilter(self._filter)
        self.go_to(0)

    def stop(self) -> None:
        self.mode.leave()

    def go_to(self, i: int) -> None:
        if not 0 <= i < len(self.cases.cases):
            return
        self.index = i
        case = self.cases.cases[i]
        self._volume_case = None
        self.window.slice_view.set_overlay(None)
        self.mode.set_case(i + 1, len(self.cases), case.question, self.cases.title)
        self.mode.set_truth(f"Answer: {case.truth}" + (f" — {case.notes}" if case.notes else ""),
                            visible=False)
        self.mode.set_ai_text("AI: computing…")

        def load(ctx):
            from viewer.modules.teaching.ai import load_case_volume

            return load_case_volume(case, cancelled=ctx.cancelled)

        self.window.runner.cancel("teach-ai")
        self.window.runner.submit("teach-load", load, label=f"Loading case {i + 1}",
                                  on_result=lambda vol, i=i: self._on_case_loaded(i, vol),
                                  on_error=lambda e: self.mode.set_ai_text(f"Case unavailable: "
                                                                           f"{e.message}"))

    def _on_case_loaded(self, i: int, volume: Any) -> None:
        if i != self.index or not self.mode.active:
            return
        case = self.cases.cases[i]
        k = key_slice(case, volume.n_slices)
        self._volume_case = case.case_id
        self.window.show_volume(volume)
        self.window.state.set_slice(k)
        self.case_shown.emit(i)
        if case.case_id in self.ai:
            self._show_ai()
            return
        methods, pool = self.methods, self.pool

        def job(ctx):
            from viewer.modules.teaching.ai import run_case_ai

            return run_case_ai(case, volume, k, methods, pool, cancelled=ctx.cancelled)

        self.window.runner.submit("teach-ai", job, label=f"AI for case {i + 1}",
                                  on_result=self._on_ai_finished,
                                  on_error=lambda e: self.mode.set_ai_text(f"AI failed: {e}"))

    def _on_ai_finished(self, result: CaseAI) -> None:
        self.ai[result.case_id] = result
        self.ai_ready.emit(result.case_id)
        if result.case_id == self.cases.cases[self.index].case_id:
            self._show_ai()

    def ai_text(self, ai: CaseAI) -> str:
        if ai.error:
            return f"No AI result: {ai.error}"
        if not ai.applicable:
            return f"No AI answer. {ai.domain_notice}"
        p = ai.probability or 0.0
        method = METHOD_NAMES.get(next(iter(ai.maps), ""), "")
        demo = "  (demo weights, not for clinical use)" if ai.demo else ""
        return f"AI: {ai.predicted}  {percent(p)}  ·  {method}{demo}"

    def _show_ai(self) -> None:
        case = self.cases.cases[self.index]
        ai = self.ai.get(case.case_id)
        if ai is None:
            return
        self.mode.set_ai_text(self.ai_text(ai), self.style().colormap)
        self._apply_overlay()

    def _apply_overlay(self) -> None:
        case = self.cases.cases[self.index]
        ai = self.ai.get(case.case_id)
        st = self.window.state
        exp = None
        if (self.mode.ai_visible and ai is not None and ai.maps and ai.applicable
                and self._volume_case == case.case_id and st.slice_index == ai.slice_index):
            exp = next(iter(ai.explanations.values()))
        heat = None if exp is None else exp.map
        if heat is None or st.volume is None or heat.shape != st.volume.voxels.shape[1:3]:
            self.window.slice_view.set_overlay(None)
            return
        self.window.slice_view.set_overlay(heat, self.style(), exp.reference)

    def style(self) -> OverlayStyle:
        """The reader's heat-map style from the AI module (defaults without one)."""
        return self.ai_module.ai.style() if self.ai_module is not None else OverlayStyle()

    def _on_mode_ai_toggled(self, on: bool) -> None:
        self._apply_overlay()

    def _on_state_slice_changed(self, k: int) -> None:
        if self.mode.active and self.mode.ai_visible:
            self._apply_overlay()

    def _on_mode_left(self) -> None:
        if self._filter is not None:
            QApplication.instance().removeEventFilter(self._filter)
            self._filter.deleteLater()
            self._filter = None
        for key in ("teach-load", "teach-ai"):
            self.window.runner.cancel(key)
        self.window.slice_view.set_overlay(None)
        self.window.state.set_anonymise(self._anonymise)
        if self.ai_module is not None:
            self.ai_module.resume()
        try:
            self.window.state.slice_changed.disconnect(self._on_state_slice_changed)
        except (RuntimeError, TypeError):
            pass
        self.ended.emit()

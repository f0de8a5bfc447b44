"""The Teaching menu of the main window: quiz and presenter mode on the built-in teaching set or
a case list, "Add current slice to case list…", and ending the quiz.

:class:`TeachingModule` is the feature module the composition root adds to the window: the
controller, its menu and its shortcuts. Case lists and the teaching set are read in JobRunner
jobs.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from viewer.modules.ai.controller import AiController
from viewer.modules.teaching.caselist import CaseList
from viewer.modules.teaching.controller import TeachingController
from viewer.state.jobs import JobError
from viewer.ui.dialogs import show_error
from viewer.ui.main_window import MainWindow


def _read_list(path: str | None) -> Callable[[Any], CaseList]:
    def job(ctx: Any) -> CaseList:
        from viewer.modules.teaching.caselist import load_case_list
        from viewer.modules.teaching.demo_set import load_demo_set

        return load_demo_set() if path is None else load_case_list(path)
    return job


def choose_case_list(parent: Any) -> str:
    """A file dialog for a case list (JSON or CSV); "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open case list", "",
                                          "Case lists (*.json *.csv);;All files (*)")
    return path


class TeachingMenu:
    """Actions of the Teaching menu bound to ``controller``."""

    def __init__(self, window: MainWindow, controller: TeachingController) -> None:
        self.window, self.teaching = window, controller
        menu = QMenu("T&eaching", window)
        menu.setObjectName("menu-teaching")
        self.menu = menu

        def act(text: str, slot, key: str = "") -> QAction:
            a = QAction(text, window)
            if key:
                a.setShortcut(QKeySequence(key))
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        self.act_quiz_demo = act("Quiz on the &teaching set", lambda: self.open_quiz(None))
        self.act_quiz_list = act("&Quiz on a case list…", self._on_quiz_list_triggered)
        menu.addSeparator()
        self.act_present_demo = act("&Presenter mode: teaching set",
                                    lambda: self.open_presenter(None), "F5")
        self.act_present_list = act("Presenter mode: case &list…", self._on_present_list_triggered)
        menu.addSeparator()
        self.act_add = act("&Add current slice to case list…", self.add_current_slice, "Ctrl+K")
        self.act_end = act("&End quiz and write report", self._on_end_triggered)
        self.actions = [self.act_quiz_demo, self.act_quiz_list, self.act_present_demo,
                        self.act_present_list, self.act_add, self.act_end]
        self.shortcut_actions = [self.act_present_demo, self.act_add]

    def _fail(self, title: str) -> Callable[[JobError], None]:
        return lambda e: setattr(self.teaching, "last_error",
                                 show_error(self.window, title, e.message or str(e)))

    def open_quiz(self, path: str | None, **options: Any) -> int:
        """Read the list (None = the teaching set) and start the quiz on it."""
        return self.window.runner.submit(
            "teach-list", _read_list(path), label="Reading the case list",
            on_result=lambda cases: self.teaching.start_quiz(cases, **options),
            on_error=self._fail("The case list cannot be used"))

    def open_presenter(self, path: str | None) -> int:
        if self.teaching.presenter is not None and self.teaching.presenter.mode.active:
            return 0
        if self.teaching.quiz_blocks("presenter mode"):
            return 0
        return self.window.runner.submit(
            "teach-list", _read_list(path), label="Reading the case list",
            on_result=lambda cases: self.teaching.start_presenter(cases),
            on_error=self._fail("The case list cannot be used"))

    def _on_quiz_list_triggered(self) -> None:
        path = choose_case_list(self.window)
        if path:
            self.open_quiz(path)

    def _on_present_list_triggered(self) -> None:
        path = choose_case_list(self.window)
        if path:
            self.open_presenter(path)

    def _on_end_triggered(self) -> None:
        self.teaching.end_quiz(write=True)  # the status bar names the files once written

    def add_current_slice(self) -> Any:
        """Open the "add current slice" dialog for the series on screen; returns the dialog."""
        from viewer.modules.teaching.caselist_editor import AddCaseDialog

        st = self.window.state
        vol, info = st.volume, st.series
        if vol is None or info is None or not info.files:
            self.window.statusBar().showMessage("Open a study first: the case is the slice on "
                                                "screen", 5000)
            return None
        folders = {os.path.dirname(f) for f in info.files}
        study = os.path.commonpath(sorted(folders)) if folders else ""
        settings = self.window.settings.q
        last = str(settings.value("teaching/last_list", ""))
        n = int(settings.value("teaching/next_case", 1) or 1)
        dialog = AddCaseDialog(study, info.series_instance_uid, st.slice_index + 1, vol.n_slices,
                               list_path=last, case_id=f"case{n:02d}", models=self._model_names(),
                               parent=self.window)
        dialog.accepted.connect(lambda: self._on_add_accepted(dialog))
        dialog.open()
        return dialog

    def _model_names(self) -> list[str]:
        """Names of the installed models as the AI module listed them (free text without it)."""
        ai_module = self.teaching.ai_module
        return list(ai_module.ai.models) if ai_module is not None else []

    def _on_add_accepted(self, dialog: Any) -> None:
        case, path = dialog.case(), dialog.list_path()
        settings = self.window.settings.q
        settings.setValue("teaching/last_list", str(path))
        digits = "".join(ch for ch in case.case_id if ch.isdigit())
        if digits:
            settings.setValue("teaching/next_case", int(digits) + 1)

        def job(ctx: Any) -> CaseList:
            from viewer.modules.teaching.caselist import append_case

            return append_case(path, case)

        self.window.runner.submit(
            "teach-add", job, label="Adding the case",
            on_result=lambda cl: self.window.statusBar().showMessage(
                f"Case {case.case_id} added to {Path(path).name} ({len(cl)} cases)", 6000),
            on_error=self._fail("The case could not be added"))


class TeachingModule:
    """The teaching feature module (:class:`viewer.ui.module.Module`): quiz, presenter mode and
    case lists, using the AI module's public API (suspend, resume, style) when one is given."""

    name = "teaching"
    title = "Teaching"

    def __init__(self, window: MainWindow, ai_module: AiController | None = None) -> None:
        self.controller = TeachingController(window, ai_module)
        self.teaching_menu = TeachingMenu(window, self.controller)

    def actions(self) -> list[QAction]:
        return list(self.teaching_menu.shortcut_actions)

    def menu(self) -> QMenu:
        return self.teaching_menu.menu

    def shutdown(self) -> None:
        """Write a running quiz's session at once (nothing answered is lost on quit)."""
        c = self.controller
        if c.session is not None:
            c.session.pause()
            c.write_session(wait=True)

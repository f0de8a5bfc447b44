"""QuizMode: what reader mode changes in the main window, and how it is undone.

Entering docks the quiz panel on the right, hides the other visible docks (the study panels),
turns the anonymised display on, quiets the free-running AI module (its public suspend /
resume), takes the quiz keys from the window presets and other actions, routes keys the
shortcut system missed to the panel, and clears the overlay. Leaving undoes each step.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from viewer.modules.ai.controller import AiController
from viewer.modules.teaching.quiz_keys import KEYS, KeySuspension, QuizKeyFilter
from viewer.modules.teaching.quiz_panel import QuizPanel
from viewer.ui.main_window import MainWindow

DOCK_WIDTH = 380  # px, the quiz panel's dock when reader mode starts


class QuizMode:
    """Reader mode of ``window`` (see the module docstring); ``ai_module`` is the free-running
    AI module to quiet, None when the window has none."""

    def __init__(self, window: MainWindow, ai_module: AiController | None = None) -> None:
        self.window = window
        self.ai_module = ai_module
        self._keys = KeySuspension()
        self._saved_docks: list[QDockWidget] = []
        self._saved_anonymise = False
        self._filter: QuizKeyFilter | None = None

    def dock(self, panel: QuizPanel) -> QDockWidget:
        """A new "Teaching quiz" dock holding ``panel``, added to the window's right side."""
        w = self.window
        dock = QDockWidget("Teaching quiz", w)
        dock.setObjectName("teaching-quiz")
        dock.setWidget(panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def enter(self, dock: QDockWidget, panel: QuizPanel) -> None:
        """Show ``dock`` alone, anonymise, quiet the AI module and give the keys to ``panel``."""
        w = self.window
        self._saved_docks = [d for d in w.findChildren(QDockWidget)
                             if d is not dock and d.isVisible()]
        for d in self._saved_docks:
            d.hide()
        dock.show()
        w.resizeDocks([dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        self._saved_anonymise = w.state.anonymise
        w.state.set_anonymise(True)
        self._quiet_free_ai(True)
        keys = [k for ks in KEYS.values() for k in ks]
        self._keys.suspend(w, keys, panel.quiz_actions)
        for a in panel.quiz_actions:
            a.setVisible(True)
        self._filter = QuizKeyFilter(w, panel)
        QApplication.instance().installEventFilter(self._filter)
        w.register_actions(panel.quiz_actions)
        w.slice_view.set_overlay(None)

    def leave(self, dock: QDockWidget | None, panel: QuizPanel | None) -> None:
        """Undo :meth:`enter`: the keys go back, ``dock`` (with ``panel``) is removed and
        deleted, the other docks, the AI module and the anonymise setting return."""
        w = self.window
        if self._filter is not None:
            QApplication.instance().removeEventFilter(self._filter)
            self._filter.deleteLater()
            self._filter = None
        self._keys.restore()
        if panel is not None:
            w.unregister_actions(panel.quiz_actions)
        if dock is not None:  # its key actions go with it (no clash outside quiz mode)
            w.removeDockWidget(dock)
            dock.deleteLater()
        for d in self._saved_docks:
            d.show()
        self._saved_docks = []
        self._quiet_free_ai(False)
        w.state.set_anonymise(self._saved_anonymise)
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

"""AiActions: the AI module's actions with their shortcuts, and the AI menu.

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code). The actions live on
the main window: ``MainWindow.add_module`` registers them as window-wide shortcuts (listed in
the keyboard-shortcut list) and inserts the AI menu.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from viewer.ui.panels import panel_action

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController


class AiActions:
    """The actions of ``ctl`` (an AiController), built on its window with the AI menu.

    Attributes: one QAction per command (``run_slice``, ``run_series``, ``cancel``,
    ``toggle``, ``show_anyway``, ``more``, ``less``, ``next_flag``, ``prev_flag``, ``panel``, ``profile``) and
    ``shortcuts`` (the ones with keys, in menu order; ``profile`` has none).
    """

    def __init__(self, ctl: AiController, panel_dock: Any, profile_dock: Any) -> None:
        self.window = w = ctl.window
        ai = ctl.ai
        self.run_slice = self._act("Run model on this slice", ["Ctrl+Return"], ctl.run_slice)
        self.run_series = self._act("Run model on series", ["Ctrl+Shift+Return"], ctl.run_series)
        self.cancel = self._act("Cancel classifier jobs", ["Ctrl+."], ctl.cancel)
        self.toggle = self._act("Toggle overlay", ["O"], ai.toggle_overlay)
        # maps of a result outside the model's domain stay hidden until the reader asks
        self.show_anyway = self._act("Show map anyway (outside the model's domain)", ["Shift+O"],
                                     ai.toggle_shown_anyway)
        # [ and ] belong to cine speed; their shifted keys step the overlay opacity. One
        # sequence each: "}" and "Shift+]" are the same keystroke, and Qt fires neither of two.
        self.more = self._act("Overlay opacity +10 %", ["}"], lambda: ai.step_opacity(0.1))
        self.less = self._act("Overlay opacity −10 %", ["{"], lambda: ai.step_opacity(-0.1))
        self.next_flag = self._act("Next flagged slice", ["N"], lambda: ctl.jump_flagged(1))
        self.prev_flag = self._act("Previous flagged slice", ["Shift+N"],
                                   lambda: ctl.jump_flagged(-1))
        self.panel = panel_action(panel_dock, "&AI panel", "Ctrl+4", w)
        self.profile = profile_dock.toggleViewAction()
        self.profile.setText("Probability &profile")
        self.shortcuts = [self.run_slice, self.run_series, self.cancel, self.toggle,
                          self.show_anyway, self.more, self.less, self.next_flag, self.prev_flag,
                          self.panel]
        self.menu = menu = QMenu("&AI", w)
        menu.setObjectName("menu-ai")
        menu.addActions(self.shortcuts[:3])
        menu.addSeparator()
        menu.addActions(self.shortcuts[3:9])
        menu.addSeparator()
        menu.addActions([self.panel, self.profile])

    def _act(self, text: str, keys: list[str], slot: Callable[..., Any]) -> QAction:
        act = QAction(text, self.window)
        act.setShortcuts([QKeySequence(k) for k in keys])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        return act

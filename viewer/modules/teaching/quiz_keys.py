"""Keys of the teaching modes: the quiz's key map, taking keys from the window's other actions
while a mode runs (:class:`KeySuspension`), and routing key presses the shortcut system missed
to the mode's actions (:class:`QuizKeyFilter`). Used by the quiz (reader mode) and presenter mode.
"""
from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

#: Helpfulness rating -> its key in the quiz.
HELP_KEYS = {"not": "Z", "somewhat": "X", "yes": "C"}
#: Quiz action -> its keys (QKeySequence strings); quiz mode takes them from other actions.
KEYS = {"answer": [str(n) for n in range(1, 10)], "record": ["Return", "Enter"],
        "reveal": ["Space"], "confidence_down": [","], "confidence_up": ["."],
        "next": ["Ctrl+Right"], "previous": ["Ctrl+Left"], "map": ["M"],
        **{f"help_{k}": [v] for k, v in HELP_KEYS.items()}}


class KeyHandler(Protocol):
    """What :class:`QuizKeyFilter` hands keys to (the quiz panel, the presenter mode)."""

    def handle_key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool: ...


class KeySuspension:
    """Takes ``keys`` from the window's other actions while a mode runs, and gives them back."""

    def __init__(self) -> None:
        self._saved: list[tuple[QAction, list[QKeySequence]]] = []

    def suspend(self, window: QWidget, keys: list[str], own: list[QAction]) -> None:
        wanted = {QKeySequence(k).toString() for k in keys}
        mine = {id(a) for a in own}
        for act in window.findChildren(QAction):
            seqs = act.shortcuts()
            if id(act) in mine or not any(s.toString() in wanted for s in seqs):
                continue
            self._saved.append((act, seqs))
            act.setShortcuts([s for s in seqs if s.toString() not in wanted])

    def restore(self) -> None:
        for act, seqs in self._saved:
            try:
                act.setShortcuts(seqs)
            except RuntimeError:  # deleted meanwhile
                pass
        self._saved = []


class QuizKeyFilter(QObject):
    """Routes key presses in ``window`` to the panel's actions when no shortcut took them
    (the window is inactive, or the key reached a focused widget first). Text fields keep
    their keys."""

    def __init__(self, window: QWidget, panel: KeyHandler) -> None:
        super().__init__(window)
        self._window, self._panel = window, panel

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        if ev.type() != QEvent.Type.KeyPress or not isinstance(obj, QWidget):
            return False
        if obj.window() is not self._window or obj.inherits("QLineEdit") or \
                obj.inherits("QAbstractSpinBox") or obj.inherits("QTextEdit"):
            return False
        return self._panel.handle_key(ev.key(), ev.modifiers())

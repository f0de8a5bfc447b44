"""Panel shortcuts: a key brings its panel to the front and gives it the keyboard (Ctrl+1 series,
Ctrl+2 messages, Ctrl+3 measurements, Ctrl+4 AI, Ctrl+T tags). A second press never hides
the panel, as toggling did (Ctrl+4 hid the AI panel the reader wanted to see); the dock's close
button and View > Panels hide it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget


def show_panel(dock: QDockWidget, focus: QWidget | None = None) -> None:
    """Show ``dock``, raise it above the docks tabbed with it and focus ``focus`` (or the
    dock's widget)."""
    dock.show()
    dock.raise_()
    target = focus if focus is not None else dock.widget()
    if target is not None:
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)


def panel_action(dock: QDockWidget, text: str, key: str, parent: QWidget,
                 focus: QWidget | None = None) -> QAction:
    """An action (with ``key``) that shows, raises and focuses ``dock``."""
    act = QAction(text, parent)
    act.setShortcut(QKeySequence(key))
    act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    act.triggered.connect(lambda _=False: show_panel(dock, focus))
    return act

"""Esc in any side panel gives the keyboard back to the image.

A reader who clicked a combo box or a button in a dock (AI method, window preset, ...) expects
Up/Down to scroll slices again after Esc, as after Esc in the series list. This application
event filter watches Esc reaching a widget inside one of the window's dock panels (before a
window-wide Esc shortcut takes it, and as a plain key press) and asks the window to focus the
image view. It never consumes the key: the panel and any Esc shortcut still see it. An open
combo-box popup is its own window, so its Esc closes the popup first, as usual.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget


def _in_dock(widget: QWidget, window: QMainWindow) -> bool:
    w: QWidget | None = widget
    while w is not None and w is not window:
        if isinstance(w, QDockWidget):
            return True
        w = w.parentWidget()
    return False


class EscapeToImage(QObject):
    """Install with ``QApplication.instance().installEventFilter(EscapeToImage(window))``;
    ``window.focus_image()`` is called after Esc in one of ``window``'s dock panels."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 (Qt name)
        if (ev.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
                and ev.key() == Qt.Key.Key_Escape):           # type: ignore[attr-defined]
            focus = QApplication.focusWidget()
            if (focus is not None and focus is obj and focus.window() is self.window
                    and _in_dock(focus, self.window)):
                self.window.focus_image()   # type: ignore[attr-defined]
        return False

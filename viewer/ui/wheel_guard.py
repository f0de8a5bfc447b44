"""The mouse wheel over a side panel scrolls the panel, not the setting under the pointer.

Found under X: scrolling the AI panel with the wheel passed over the Target box and changed it
from "Predicted class" to "tumour" without a word. Inside a scroll area, a combo box, spin box or
slider takes the wheel only once the reader has given it the focus (clicked or tabbed into it),
as KDE and most settings dialogs do; otherwise the wheel goes on to the scroll area. These
controls get ``Qt.StrongFocus`` (not wheel focus) so that the wheel itself never focuses them.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollArea, QScrollBar, QWidget

GUARDED = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def in_scroll_area(widget: QWidget) -> bool:
    """Whether ``widget`` lies inside a QScrollArea (a panel that the wheel scrolls)."""
    w = widget.parentWidget()
    while w is not None:
        if isinstance(w, QScrollArea):
            return True
        w = w.parentWidget()
    return False


class WheelGuard(QObject):
    """Install with ``QApplication.instance().installEventFilter(WheelGuard(parent))``."""

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 (Qt name)
        kind = ev.type()
        if isinstance(obj, QScrollBar):      # scroll bars are the scrolling itself
            return False
        if kind == QEvent.Type.Polish and isinstance(obj, GUARDED):
            if obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif (kind == QEvent.Type.Wheel and isinstance(obj, GUARDED) and not obj.hasFocus()
              and in_scroll_area(obj)):
            # Ignored and filtered: Qt then offers the wheel to the parents (the scroll area).
            ev.ignore()
            return True
        return False

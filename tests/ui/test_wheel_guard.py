"""The wheel over a side panel scrolls the panel, not the setting under the pointer (found under
X: scrolling the AI panel changed its Target box from "Predicted class" to "tumour")."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.modules.ai.support import ai_window


def _wheel(widget, clicks: int = -1) -> None:
    centre = QPointF(widget.rect().center())
    ev = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                     QPoint(0, 120 * clicks), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_wheel_over_an_unfocused_panel_setting_leaves_it_alone(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.show_panel()
    box = ctl.panel.controls.target_box
    qtbot.waitUntil(lambda: box.count() > 1, timeout=5000)
    box.setCurrentIndex(0)
    win.slice_view.setFocus()
    assert not box.hasFocus() and box.focusPolicy() != Qt.FocusPolicy.WheelFocus
    _wheel(box)
    assert box.currentIndex() == 0                    # the panel scrolls instead
    box.setFocus()                                    # clicked or tabbed into: the wheel is its
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    _wheel(box)
    assert box.currentIndex() == 1
    box.setCurrentIndex(0)


def test_the_image_slider_keeps_its_wheel(qtbot, monkeypatch):
    """Outside a scroll area nothing changes: the wheel on the slice slider still moves it."""
    from tests.modules.ai.support import brain_volume

    win, ctl = ai_window(qtbot, monkeypatch)
    win.show_volume(brain_volume(n=6, size=64))
    slider = win.slice_view.slider
    start = slider.value()
    _wheel(slider, clicks=1 if start == 0 else -1)
    assert slider.value() != start

"""A slice slider that can mark positions (e.g. slices a classifier flagged) with ticks."""
from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

MARK_COLOR = QColor(255, 80, 60)


class MarkedSlider(QSlider):
    """QSlider drawing a red tick above each marked value (``set_marks``)."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self._marks: tuple[int, ...] = ()

    def set_marks(self, values: Iterable[int]) -> None:
        """Mark these slider values (0-based slices); an empty iterable clears the marks."""
        marks = tuple(sorted({int(v) for v in values}))
        if marks != self._marks:
            self._marks = marks
            self.setToolTip(f"{len(marks)} flagged slice{'s' if len(marks) != 1 else ''}: "
                            + ", ".join(str(m + 1) for m in marks[:30]) if marks else "")
            self.update()

    def marks(self) -> tuple[int, ...]:
        return self._marks

    def paintEvent(self, ev) -> None:  # noqa: N802
        super().paintEvent(ev)
        if not self._marks or self.maximum() <= self.minimum():
            return
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        p = QPainter(self)
        p.setPen(QPen(MARK_COLOR, 2))
        for m in self._marks:
            x = groove.x() + handle.width() / 2 + QStyle.sliderPositionFromValue(
                self.minimum(), self.maximum(), m, span)
            p.drawLine(int(x), 1, int(x), 6)
            p.drawLine(int(x), self.height() - 6, int(x), self.height() - 1)
        p.end()

"""A slice slider that can mark positions (e.g. slices a classifier flagged) with ticks, and mute
others (e.g. slices outside a classifier's domain) with grey marks along the groove."""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

MARK_COLOR = QColor(255, 80, 60)
MUTED_COLOR = QColor(150, 150, 150)


class MarkedSlider(QSlider):
    """QSlider drawing a red tick above each marked value (``set_marks``) and a grey bar under
    each muted value (``set_muted``)."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self._marks: tuple[int, ...] = ()
        self._muted: tuple[int, ...] = ()
        self._muted_label = ""

    def set_marks(self, values: Iterable[int]) -> None:
        """Mark these slider values (0-based slices); an empty iterable clears the marks."""
        marks = tuple(sorted({int(v) for v in values}))
        if marks != self._marks:
            self._marks = marks
            self._update_tooltip()
            self.update()

    def marks(self) -> tuple[int, ...]:
        return self._marks

    def set_muted(self, values: Iterable[int], label: str = "") -> None:
        """Mute these slider values (0-based slices) with grey marks; ``label`` says why (shown
        in the tooltip). An empty iterable clears them."""
        muted = tuple(sorted({int(v) for v in values}))
        if muted != self._muted or label != self._muted_label:
            self._muted, self._muted_label = muted, label
            self._update_tooltip()
            self.update()

    def muted(self) -> tuple[int, ...]:
        return self._muted

    def _update_tooltip(self) -> None:
        lines = []
        if self._marks:
            lines.append(f"{len(self._marks)} flagged slice{'s' if len(self._marks) != 1 else ''}: "
                         + ", ".join(str(m + 1) for m in self._marks[:30]))
        if self._muted:
            lines.append(f"{len(self._muted)} slice{'s' if len(self._muted) != 1 else ''} "
                         f"{self._muted_label or 'muted'}: "
                         + ", ".join(str(m + 1) for m in self._muted[:30]))
        self.setToolTip("\n".join(lines))

    def paintEvent(self, ev) -> None:  # noqa: N802
        super().paintEvent(ev)
        if not (self._marks or self._muted) or self.maximum() <= self.minimum():
            return
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        p = QPainter(self)
        step = max(2.0, span / max(1, self.maximum() - self.minimum()))
        for m in self._muted:
            x = groove.x() + handle.width() / 2 + QStyle.sliderPositionFromValue(
                self.minimum(), self.maximum(), m, span)
            p.fillRect(int(x - step / 2), self.height() - 4, int(step + 0.5), 3, MUTED_COLOR)
        p.setPen(QPen(MARK_COLOR, 2))
        for m in self._marks:
            x = groove.x() + handle.width() / 2 + QStyle.sliderPositionFromValue(
                self.minimum(), self.maximum(), m, span)
            p.drawLine(int(x), 1, int(x), 6)
            p.drawLine(int(x), self.height() - 6, int(x), self.height() - 1)
        p.end()

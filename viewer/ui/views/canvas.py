"""Graphics pieces of the slice view: the ViewBox with radiology mouse bindings and the canvas that
paints the fixed annotations (orientation letters, corner text, scale bar, "loading…") on top.

The annotations are painted in viewport pixels in ``drawForeground``, so they stay put while the
image is panned or zoomed and they appear in ``grab()`` (screenshots).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

LETTER_COLOR = QColor(255, 214, 80)
TEXT_COLOR = QColor(235, 235, 235)
SHADOW_COLOR = QColor(0, 0, 0, 200)
MARGIN = 8


class SliceViewBox(pg.ViewBox):
    """ViewBox for a slice: wheel scrolls slices (Ctrl+wheel zooms), left/middle drag pans,
    right drag changes the window, right click asks for the preset menu."""

    wheel_scrolled = Signal(int)            # +1 = next slice, -1 = previous slice
    window_dragged = Signal(float, float, bool)  # dx, dy screen px since last event, is_start
    context_requested = Signal(QPoint)      # global screen position
    zoomed = Signal()                       # the user changed zoom or pan

    def __init__(self) -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self.setMouseMode(pg.ViewBox.PanMode)
        self._wheel_rest = 0.0

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt name)
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            self.zoomed.emit()
            return
        self._wheel_rest += ev.delta() / 120.0
        steps = int(self._wheel_rest)
        if steps:
            self._wheel_rest -= steps
            self.wheel_scrolled.emit(-steps)  # wheel away from the reader = previous slice
        ev.accept()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            d = ev.screenPos() - ev.lastScreenPos()
            self.window_dragged.emit(float(d.x()), float(d.y()), bool(ev.isStart()))
            return
        super().mouseDragEvent(ev, axis)
        self.zoomed.emit()

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.context_requested.emit(ev.screenPos().toPoint())
            return
        super().mouseClickEvent(ev)


@dataclass
class Annotations:
    """What the canvas paints over the image, all in plain text (viewport coordinates)."""

    letters: dict[str, str] = field(default_factory=dict)  # left/right/top/bottom
    top_left: list[str] = field(default_factory=list)
    top_right: list[str] = field(default_factory=list)   # e.g. which heat map this view shows
    bottom_left: list[str] = field(default_factory=list)
    centre: str = ""                 # e.g. "loading…" or the empty-view hint
    mm_per_px: float | None = None   # for the scale bar; None hides it


def nice_length(max_mm: float) -> float:
    """Largest 1, 2 or 5 x 10^n mm not above ``max_mm`` (scale-bar length)."""
    if max_mm <= 0 or not math.isfinite(max_mm):
        return 0.0
    power = 10.0 ** math.floor(math.log10(max_mm))
    for m in (5.0, 2.0, 1.0):
        if m * power <= max_mm:
            return m * power
    return power


def format_mm(mm: float) -> str:
    """Scale-bar label: "5 cm" from 50 mm, "2 mm", "0.5 mm"."""
    if mm >= 10 and mm % 10 == 0:
        return f"{mm / 10:g} cm"
    return f"{mm:g} mm"


class SliceCanvas(pg.GraphicsView):
    """GraphicsView showing one SliceViewBox and painting :class:`Annotations` on top."""

    left_view = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="k")
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.annotations = Annotations()
        base = QFont(self.font())
        base.setPointSizeF(max(9.0, base.pointSizeF()))
        self._text_font = base
        self._letter_font = QFont(base)
        self._letter_font.setPointSizeF(base.pointSizeF() * 1.5)
        self._letter_font.setBold(True)

    def set_annotations(self, annotations: Annotations) -> None:
        """Replace the painted annotations and repaint."""
        self.annotations = annotations
        self.viewport().update()

    def leaveEvent(self, ev) -> None:  # noqa: N802
        self.left_view.emit()
        super().leaveEvent(ev)

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()  # keys belong to the SliceView (navigation), not to the scene

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        text, letters = self.scaled_fonts()
        paint_annotations(painter, self.viewport().rect(), self.annotations, text, letters)
        painter.restore()

    def scaled_fonts(self) -> tuple[QFont, QFont]:
        """The annotation fonts for this view's size: smaller in a small viewport (no text cut
        off in a 2x2 layout), larger on a big screen (readable at a reading distance)."""
        area = self.viewport().rect()
        scale = min(1.6, max(0.75, min(area.width(), area.height()) / 520.0))
        fonts = []
        for base in (self._text_font, self._letter_font):
            font = QFont(base)
            font.setPointSizeF(base.pointSizeF() * scale)
            fonts.append(font)
        return fonts[0], fonts[1]


def _shadow_text(p: QPainter, rect: QRect, flags: int, text: str, color: QColor) -> None:
    p.setPen(SHADOW_COLOR)
    p.drawText(rect.translated(1, 1), flags, text)
    p.setPen(color)
    p.drawText(rect, flags, text)


def paint_annotations(p: QPainter, area: QRect, a: Annotations, text_font: QFont,
                      letter_font: QFont) -> None:
    """Paint letters at the edge midpoints, corner text, the scale bar and the centre message."""
    AF = Qt.AlignmentFlag
    inner = area.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
    p.setFont(letter_font)
    places = {"left": AF.AlignLeft | AF.AlignVCenter, "right": AF.AlignRight | AF.AlignVCenter,
              "top": AF.AlignTop | AF.AlignHCenter, "bottom": AF.AlignBottom | AF.AlignHCenter}
    for edge, flags in places.items():
        text = a.letters.get(edge, "")
        if text:
            _shadow_text(p, inner, int(flags), text, LETTER_COLOR)
    p.setFont(text_font)
    fm = QFontMetrics(text_font)
    # corner text stays clear of the centred top/bottom letters
    room = max(40, inner.width() // 2 - QFontMetrics(letter_font).horizontalAdvance("SI") - 6)

    def fit(lines: list[str]) -> str:
        return "\n".join(fm.elidedText(t, Qt.TextElideMode.ElideRight, room) for t in lines)

    if a.top_left:
        _shadow_text(p, inner, int(AF.AlignLeft | AF.AlignTop), fit(a.top_left), TEXT_COLOR)
    if a.top_right:
        _shadow_text(p, inner, int(AF.AlignRight | AF.AlignTop), fit(a.top_right), LETTER_COLOR)
    if a.bottom_left:
        _shadow_text(p, inner, int(AF.AlignLeft | AF.AlignBottom), fit(a.bottom_left), TEXT_COLOR)
    if a.centre:
        _shadow_text(p, inner, int(AF.AlignCenter | Qt.TextFlag.TextWordWrap), a.centre,
                     TEXT_COLOR)
    if a.mm_per_px and a.mm_per_px > 0:
        max_px = max(40, int(area.width() * 0.22))
        length_mm = nice_length(max_px * a.mm_per_px)
        if length_mm > 0:
            px = length_mm / a.mm_per_px
            right = inner.right() - 4
            y = inner.bottom() - fm.height() - 6
            left = right - px
            for color, width in ((SHADOW_COLOR, 4.0), (TEXT_COLOR, 2.0)):
                p.setPen(QPen(color, width))
                p.drawLine(QPointF(left, y), QPointF(right, y))
                p.drawLine(QPointF(left, y - 5), QPointF(left, y + 5))
                p.drawLine(QPointF(right, y - 5), QPointF(right, y + 5))
            label = QRect(int(left) - 40, int(y) + 4, int(px) + 44, fm.height() + 2)
            _shadow_text(p, label, int(AF.AlignRight | AF.AlignTop), format_mm(length_mm),
                         TEXT_COLOR)

"""A small horizontal colour bar: the overlay's colormap with its value range and threshold."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewer.core.overlay import lookup_table


class ColourBar(QWidget):
    """Colormap strip with "low" and "high" labels (raw map units) and a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._image: QImage | None = None
        self.colormap = ""
        self.low = 0.0
        self.high = 1.0
        self.caption = ""
        self.set_colormap("inferno")

    def set_colormap(self, name: str) -> None:
        if name == self.colormap:
            return
        self.colormap = name
        lut = np.ascontiguousarray(lookup_table(name, 256)[None, :, :], dtype=np.uint8)
        self._image = QImage(lut.data, 256, 1, 3 * 256, QImage.Format.Format_RGB888).copy()
        self.update()

    def set_range(self, low: float, high: float, caption: str = "") -> None:
        self.low, self.high, self.caption = float(low), float(high), caption
        self.update()

    def text(self) -> str:
        """What the bar says, e.g. "Grad-CAM  0.12 … 1.3" (for tests and accessibility)."""
        return f"{self.caption}  {self.low:.3g} … {self.high:.3g}".strip()

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        w, h = self.width(), self.height()
        bar = QRect(4, 2, max(1, w - 8), 12)
        if self._image is not None:
            p.drawImage(bar, self._image)
        p.setPen(QColor(120, 120, 120))
        p.drawRect(bar.adjusted(0, 0, -1, -1))
        p.setPen(self.palette().windowText().color())
        text_rect = QRect(4, 15, w - 8, h - 15)
        p.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                   f"{self.low:.3g}")
        p.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                   f"{self.high:.3g}")
        p.drawText(text_rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter),
                   self.caption)
        p.end()

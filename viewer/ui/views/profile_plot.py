"""Probability profile of a series sweep: per-slice class probability along the slice axis.

A pyqtgraph PlotWidget: x = slice number (1-based as shown to readers), y = probability 0..1,
one curve per class (or the flagged class only), a dashed threshold line, a vertical line at the
current slice and dots on flagged slices. Excluded slices (e.g. outside a classifier's domain:
no valid value there) are drawn as grey hatched bands, with their reason in the tooltip. A click
jumps to the nearest slice.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

CURVE_COLOURS = ((255, 120, 60), (80, 170, 255), (120, 220, 120), (230, 200, 80), (200, 120, 230))


class ProfilePlot(pg.PlotWidget):
    """Signals: ``slice_clicked(int)`` 0-based slice nearest to a click."""

    slice_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(90)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.setYRange(0, 1, padding=0.05)
        self.setLabel("left", "P")
        self.setLabel("bottom", "slice")
        self.showGrid(x=False, y=True, alpha=0.2)
        self.addLegend(offset=(-4, 4), labelTextSize="8pt")
        self.threshold_line = pg.InfiniteLine(0.5, angle=0, movable=False,
                                              pen=pg.mkPen((200, 200, 200), style=Qt.PenStyle.DashLine))
        self.current_line = pg.InfiniteLine(1, angle=90, movable=False, pen=pg.mkPen((255, 214, 80)))
        self.flag_dots = pg.ScatterPlotItem(size=7, brush=pg.mkBrush(255, 80, 60), pen=None)
        hatch = QBrush(QColor(150, 150, 150, 110), Qt.BrushStyle.BDiagPattern)
        self.excluded_bars = pg.BarGraphItem(x=[], height=[], width=1.0, y0=0.0, brush=hatch,
                                             pen=pg.mkPen(None))
        self.excluded_bars.setZValue(-10)
        self._excluded = np.zeros(0, dtype=int)
        self.addItem(self.excluded_bars)
        self.addItem(self.threshold_line)
        self.addItem(self.current_line)
        self.addItem(self.flag_dots)
        self.empty_text = pg.TextItem("No series sweep yet: Run on series (Ctrl+Shift+Return)",
                                      color=(170, 170, 170), anchor=(0.5, 0.5))
        self.empty_text.setVisible(False)
        self.addItem(self.empty_text)
        self._curves: list[pg.PlotDataItem] = []
        self._n = 0
        self._layout: tuple | None = None
        self._flag_values = np.zeros(0)
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

    def set_profile(self, probs: np.ndarray | None, classes: tuple[str, ...] = (),
                    show: str | None = None, n_slices: int = 0) -> None:
        """Draw ``probs`` (n_slices, n_classes), NaN = not computed; ``show`` limits the curves
        to one class. None clears the plot; the slice axis then spans the series on screen
        (``n_slices``; 0: none) and a line says how to fill it.

        While the slice count, classes and ``show`` stay the same (a growing sweep), the curves
        only get new y data: no items are rebuilt, which keeps the GUI thread free.
        """
        if probs is None:
            self._clear_curves()
            self._n = 0
            self._layout = None
            self.flag_dots.setData([], [])
            self.set_excluded(())
            self.setXRange(0.5, max(1, int(n_slices)) + 0.5, padding=0)
            self.empty_text.setPos(0.5 + max(1, int(n_slices)) / 2.0, 0.78)  # off the P line
            self.empty_text.setVisible(True)
            return
        self.empty_text.setVisible(False)
        n = int(probs.shape[0])
        layout = (n, tuple(classes), show)
        columns = [i for i, name in enumerate(classes) if show is None or name == show]
        if layout != self._layout:
            self._clear_curves()
            self._layout = layout
            self._n = n
            x = np.arange(1, n + 1, dtype=float)
            for i in columns:
                pen = pg.mkPen(CURVE_COLOURS[i % len(CURVE_COLOURS)], width=2)
                self._curves.append(self.plot(x, probs[:, i].astype(float), pen=pen,
                                              name=f"P({classes[i]})", connect="finite"))
            self.setXRange(0.5, n + 0.5, padding=0)
            return
        x = np.arange(1, n + 1, dtype=float)
        for curve, i in zip(self._curves, columns):
            curve.setData(x, probs[:, i].astype(float), connect="finite")

    def _clear_curves(self) -> None:
        for c in self._curves:
            self.removeItem(c)
        self._curves = []
        legend = self.getPlotItem().legend
        if legend is not None:
            legend.clear()

    def set_flags(self, slices: np.ndarray, values: np.ndarray) -> None:
        """Dots at the flagged 0-based ``slices`` with their probability ``values``."""
        self.flag_dots.setData(np.asarray(slices, float) + 1, np.asarray(values, float))

    def set_excluded(self, slices, tooltip: str = "") -> None:
        """Grey hatched bands over the 0-based ``slices`` (no valid value there); ``tooltip``
        says why ("" clears it)."""
        k = np.asarray(sorted({int(v) for v in slices}), dtype=int)
        self._excluded = k
        self.excluded_bars.setOpts(x=(k + 1).astype(float), height=np.ones(k.size), width=1.0,
                                   y0=0.0)
        self.excluded_bars.setVisible(k.size > 0)
        self.setToolTip(tooltip if k.size else "")

    def excluded(self) -> tuple[int, ...]:
        """0-based slices drawn as excluded."""
        return tuple(int(v) for v in self._excluded)

    def set_threshold(self, value: float) -> None:
        self.threshold_line.setValue(float(value))

    def set_current(self, k: int) -> None:
        self.current_line.setValue(int(k) + 1)

    def curve_count(self) -> int:
        return len(self._curves)

    def slice_at(self, scene_pos) -> int | None:
        """0-based slice under a scene position, None outside the plot or without data."""
        vb = self.getPlotItem().vb
        if self._n == 0 or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        x = vb.mapSceneToView(scene_pos).x()
        return int(min(max(round(x) - 1, 0), self._n - 1))

    def _on_scene_mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        k = self.slice_at(ev.scenePos())
        if k is not None:
            self.slice_clicked.emit(k)

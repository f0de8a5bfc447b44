"""ImageCanvas: the one image canvas of SliceWise, shared by the slice view and the plane views.

It owns the pyqtgraph pieces every image view needs and the rules they share: the graphics view
with its painted annotations (:class:`~viewer.ui.views.canvas.SliceCanvas`), the view box (radiology
mouse bindings; coordinates in mm), the image item (levels from a window, inverted grey for
MONOCHROME1, colour drawn as it is), the heat-map layer (the core overlay rule), the crosshair
lines (never taking mouse events), the window-drag rule (200 px double or halve the width), and
fit / zoom in mm. The views add what differs: which pixels (a native slice or a reformatted
plane), which keys, and where the crosshair comes from.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import QWidget

from viewer.ui.views.canvas import SliceCanvas, SliceViewBox
from viewer.ui.views.overlay_layer import OverlayLayer

CROSSHAIR_COLOR = QColor(80, 200, 255, 200)
FIT_PADDING = 0.02
DRAG_PIXELS_PER_WIDTH = 200.0   # a 200 px right drag doubles (or halves) the window width
INVERTED = np.arange(255, -1, -1, dtype=np.uint8)


def view_mm_per_pixel(view_box) -> float | None:
    """Millimetres per screen pixel of a pyqtgraph ViewBox whose scene units are mm."""
    width_px = view_box.size().width()
    mm = view_box.viewRect().width() / width_px if width_px > 0 else 0.0
    return float(mm) if mm > 0 and np.isfinite(mm) else None


class ImageCanvas:
    """The graphics of one image view (see module docstring). ``parent`` owns the widgets;
    ``view_box`` is a :class:`SliceViewBox` (or a subclass adding clicks)."""

    def __init__(self, parent: QWidget, view_box: SliceViewBox) -> None:
        self.canvas = SliceCanvas(parent)
        self.view_box = view_box
        self.canvas.setCentralItem(view_box)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(0)
        view_box.addItem(self.image)
        self.overlay_layer = OverlayLayer(view_box)
        pen = QPen(CROSSHAIR_COLOR, 1)
        pen.setCosmetic(True)
        self.h_line = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        self.v_line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        for line in (self.h_line, self.v_line):
            line.setZValue(20)
            line.setVisible(False)
            line.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks go to the view
            line.setAcceptHoverEvents(False)
            view_box.addItem(line, ignoreBounds=True)
        self.fitted = True
        self._drag_scale = 1.0
        self.interpolation = "auto"          # "auto" (smooth when magnified), "smooth", "pixels"
        self._pixel_mm = 1.0                 # size of one image pixel in view mm (smallest side)
        view_box.sigRangeChanged.connect(lambda *_: self._update_smoothing())
        view_box.sigResized.connect(lambda *_: self._update_smoothing())

    # -- pixels ------------------------------------------------------------------------------
    def set_display(self, invert: bool, rgb: bool, transform: QTransform) -> None:
        """A new series: grey inverted for display (MONOCHROME1) or not, and where pixel (0, 0)
        lies in view mm (``transform`` maps pixel indices to mm, image and overlay alike)."""
        self.image.setLookupTable(INVERTED if invert and not rgb else None)
        self.image.setTransform(transform)
        self.overlay_layer.item.setTransform(transform)
        self.overlay_layer.clear()
        self._pixel_mm = max(1e-6, min(abs(transform.m11()), abs(transform.m22())))
        self._update_smoothing()

    # -- interpolation -------------------------------------------------------------------------
    def set_interpolation(self, mode: str) -> None:
        """"auto" (smooth, bilinear, once an image pixel covers more than one screen pixel, as
        Weasis and Slicer do), "smooth" always, or "pixels" (nearest neighbour) always."""
        if mode not in ("auto", "smooth", "pixels"):
            raise ValueError(f"unknown interpolation {mode!r}")
        self.interpolation = mode
        self._update_smoothing()

    def smooth(self) -> bool:
        """Whether images are drawn with bilinear interpolation right now."""
        return bool(self.canvas.renderHints() & QPainter.RenderHint.SmoothPixmapTransform)

    def _update_smoothing(self) -> None:
        mm = self.mm_per_pixel()
        magnified = mm is not None and self._pixel_mm / mm > 1.0
        on = self.interpolation == "smooth" or (self.interpolation == "auto" and magnified)
        if on != self.smooth():
            self.canvas.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, on)
            self.canvas.viewport().update()

    def show_pixels(self, data: np.ndarray, levels: tuple[float, float]) -> None:
        """Draw ``data`` ((y, x) values, or (y, x, 3) colour) with display ``levels``."""
        self.image.setImage(data, autoLevels=False, levels=levels)

    def set_levels(self, levels: tuple[float, float]) -> None:
        if self.image.image is not None:
            self.image.setLevels(levels)

    def clear(self) -> None:
        self.image.clear()
        self.overlay_layer.clear()

    # -- window drag --------------------------------------------------------------------------
    def dragged_window(self, window: tuple[float, float], dx: float, dy: float,
                       is_start: bool) -> tuple[float, float]:
        """The window (centre, width) after a right drag of (dx, dy) screen px: vertical moves
        the level, horizontal the width, both scaled to the width when the drag started."""
        center, width = window
        if is_start:
            self._drag_scale = max(width, 1.0) / DRAG_PIXELS_PER_WIDTH
        return (center + dy * self._drag_scale, max(width + dx * self._drag_scale, 1e-3))

    # -- crosshair -----------------------------------------------------------------------------
    def place_crosshair(self, pos: tuple[float, float] | None) -> None:
        """Draw the crosshair lines through view point ``pos`` (mm), or hide them."""
        for line, value in ((self.v_line, None if pos is None else pos[0]),
                            (self.h_line, None if pos is None else pos[1])):
            if value is not None:
                line.setValue(value)
            line.setVisible(value is not None)

    # -- zoom ----------------------------------------------------------------------------------
    def mm_per_pixel(self) -> float | None:
        """Millimetres per screen pixel at the current zoom, None before layout."""
        return view_mm_per_pixel(self.view_box)

    def fit(self, rect: QRectF) -> None:
        """Show ``rect`` (view mm) whole, with a small margin."""
        self.view_box.setRange(rect=rect, padding=FIT_PADDING)
        self.fitted = True

    def zoom_by(self, factor: float) -> None:
        """Zoom around the view centre; ``factor`` > 1 magnifies."""
        self.view_box.scaleBy((1.0 / factor, 1.0 / factor))
        self.fitted = False

    def zoom_percent(self, rect: QRectF) -> float:
        """Zoom relative to fitting ``rect`` (view mm) in percent."""
        size, mm = self.view_box.size(), self.mm_per_pixel()
        if mm is None or rect.width() <= 0 or size.width() <= 0:
            return 100.0
        fit_mm = max(rect.width() / size.width(), rect.height() / size.height())
        return 100.0 * fit_mm * (1 + 2 * FIT_PADDING) / mm

    def view_point(self, scene_pos) -> tuple[float, float]:
        """View mm of a scene position (mouse moves)."""
        p = self.view_box.mapSceneToView(scene_pos)
        return float(p.x()), float(p.y())

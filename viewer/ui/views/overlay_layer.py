"""The heat-map layer of an image view: one pyqtgraph ImageItem painted with the core overlay rule.

The slice view, the plane views and the linked occlusion view each own one; what they show is
exactly :func:`viewer.core.overlay.overlay_rgba` of the map and style (``rgba`` keeps it, so
tests and exports can compare pixels).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from viewer.core.overlay import OverlayStyle, display_range, overlay_rgba


class OverlayLayer:
    """A map drawn over an image item (same pixel grid), hidden while there is none."""

    def __init__(self, view_box: pg.ViewBox, z: float = 10.0) -> None:
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setZValue(z)
        self.item.setVisible(False)
        view_box.addItem(self.item)
        self.rgba: np.ndarray | None = None
        self.values: np.ndarray | None = None  # the map drawn, (y, x) float32, for probes
        self.normalised = False
        self.style: OverlayStyle | None = None
        self.reference: float | None = None

    def show(self, heat: np.ndarray | None, style: OverlayStyle | None = None,
             normalised: bool = False, reference: float | None = None) -> None:
        """Draw ``heat`` ((y, x) float; see ``overlay_rgba`` for ``normalised`` and
        ``reference``) or hide it."""
        if heat is None or style is None:
            self.clear()
            return
        self.style = style
        self.values = np.asarray(heat, np.float32)
        self.normalised = normalised
        self.reference = reference
        self.rgba = overlay_rgba(heat, style, normalised=normalised, reference=reference)
        self.item.setImage(self.rgba, autoLevels=False, levels=(0, 255))
        self.item.setOpacity(1.0)
        self.item.setVisible(True)

    def clear(self) -> None:
        self.rgba = None
        self.values = None
        self.item.clear()
        self.item.setVisible(False)

    def colour_range(self) -> tuple[float, float] | None:
        """(low, high) map values the colours span (0..1 maps: threshold..1), None when hidden
        or without positive evidence."""
        if not self.visible or self.values is None or self.style is None:
            return None
        if self.normalised:
            return (float(self.style.threshold), 1.0)
        return display_range(self.values, self.style.threshold, self.reference)

    @property
    def visible(self) -> bool:
        return self.item.isVisible()

    def set_rect(self, rect) -> None:
        """Place the layer like its image (pyqtgraph rect in view coordinates)."""
        self.item.setRect(rect)

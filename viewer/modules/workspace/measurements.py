"""Measurements on screen: ruler, angle, ellipse ROI and "window from region", drawn with the mouse
in any view, shown as editable pyqtgraph ROIs and listed in an editable, deletable panel
(:class:`~viewer.modules.workspace.measurements_panel.MeasurementsPanel`).

Tools (keys): Esc navigate, D ruler (distance), A angle, E ellipse, W window from a region. With
a tool chosen, a left drag in a view draws (ruler, ellipse, region); the angle takes three clicks
(arm end, vertex, arm end). Handles move afterwards; Delete removes the selected row.
Geometry and statistics come from :mod:`viewer.core.measurements`; points are patient LPS mm.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor

from viewer.core.measurements import Measurement, ellipse_stats, window_from_region
from viewer.state.viewer_state import ViewerState, value_unit

TOOLS = ("navigate", "ruler", "angle", "ellipse", "region")
TOOL_KEYS = {"navigate": "Esc", "ruler": "D", "angle": "A", "ellipse": "E", "region": "W"}
ROI_COLOR = QColor(255, 200, 40)
LABEL_POINTS = 11.0   # measurement labels readable at a reading distance


class NativeAdapter:
    """Measurement geometry of the native SliceView: view mm -> patient through the current
    slice (pixel ``i`` spans ``[i * sx, (i + 1) * sx)``)."""

    plane = "native"

    def __init__(self, view) -> None:
        self.view, self.state = view, view.state
        self.view_box, self.canvas = view.view_box, view.canvas

    def _mm(self) -> tuple[float, float]:
        sp = self.state.volume.spacing
        return float(sp[2]), float(sp[1])

    def to_patient(self, x: float, y: float):
        if self.state.volume is None:
            return None
        sx, sy = self._mm()
        return self.state.volume.index_to_patient(self.state.slice_index, y / sy - 0.5,
                                                  x / sx - 0.5)

    def to_view(self, p):
        if self.state.volume is None:
            return None
        sx, sy = self._mm()
        _, j, i = self.state.volume.patient_to_index(p)
        return float((i + 0.5) * sx), float((j + 0.5) * sy)

    def on_plane(self, p) -> bool:
        vol = self.state.volume
        return vol is not None and abs(vol.patient_to_index(p)[0] - self.state.slice_index) <= 0.5

    def image_geometry(self):
        img = self.view.image.image
        if self.state.volume is None or img is None:
            return None
        sx, sy = self._mm()
        return img, sx / 2, sy / 2, sx, sy


def adapter_for(view):
    """The view itself when it is a PlaneView (it has the geometry API), else a NativeAdapter."""
    return view if hasattr(view, "geom") else NativeAdapter(view)


class MeasurementStore(QObject):
    """The measurements of the open series. Signal: ``changed()``."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.items: dict[int, Measurement] = {}

    def add(self, m: Measurement) -> Measurement:
        m = Measurement(max(self.items, default=0) + 1, m.kind, m.points, m.plane, m.label,
                        m.stats)
        self.items[m.id] = m
        self.changed.emit()
        return m

    def update(self, m: Measurement) -> None:
        self.items[m.id] = m
        self.changed.emit()

    def remove(self, mid: int) -> None:
        if self.items.pop(mid, None) is not None:
            self.changed.emit()

    def set_all(self, items) -> None:
        self.items = {m.id: m for m in items}
        self.changed.emit()

    def ordered(self) -> list[Measurement]:
        return [self.items[k] for k in sorted(self.items)]


def roi_stats(m: Measurement, adapter, unit: str) -> Measurement:
    """``m`` with ellipse statistics computed on the adapter's current plane image."""
    if m.kind != "ellipse":
        return m
    geo = adapter.image_geometry()
    views = [adapter.to_view(p) for p in m.points]
    if geo is None or any(v is None for v in views) or geo[0].ndim != 2:
        return m
    (cx, cy), (ux, uy), (vx, vy) = views
    semi = (float(np.hypot(ux - cx, uy - cy)), float(np.hypot(vx - cx, vy - cy)))
    img, x0, y0, dx, dy = geo
    from dataclasses import replace

    return replace(m, stats=ellipse_stats(img, x0, y0, dx, dy, (cx, cy), semi, unit))


class MeasurementController(QObject):
    """Draws new measurements with the active tool and keeps ROI items in sync with the store.

    Signals: ``tool_changed(str)``; ``region_windowed(float centre, float width)``.
    """

    tool_changed = Signal(str)
    region_windowed = Signal(float, float)

    def __init__(self, state: ViewerState, store: MeasurementStore,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.store = state, store
        self.tool = "navigate"
        self.views: list = []
        self._viewports: dict[object, object] = {}
        self._items: dict[tuple[int, int], list] = {}
        self._press: tuple | None = None
        self._clicks: list = []
        self._preview = None
        self._syncing = False
        store.changed.connect(self.sync)
        state.slice_changed.connect(lambda *_: self.sync())

    # -- views and tools -------------------------------------------------------------------
    def add_view(self, view) -> None:
        """Let measurements be drawn in ``view`` (a SliceView or PlaneView)."""
        self.views.append(view)
        vp = view.canvas.viewport()
        self._viewports[vp] = view
        vp.installEventFilter(self)

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool
        self._clicks = []
        self._clear_preview()
        for view in self.views:
            cursor = Qt.CursorShape.ArrowCursor if tool == "navigate" else Qt.CursorShape.CrossCursor
            view.canvas.viewport().setCursor(cursor)
        self.tool_changed.emit(tool)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        view = self._viewports.get(obj)
        if view is None or self.tool == "navigate" or self.state.volume is None:
            return False
        t = ev.type()
        if t not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                     QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick):
            return False
        if t != QEvent.Type.MouseMove and ev.button() != Qt.MouseButton.LeftButton:
            return False
        pos = view.view_box.mapSceneToView(view.canvas.mapToScene(ev.position().toPoint()))
        xy = (float(pos.x()), float(pos.y()))
        if t == QEvent.Type.MouseButtonPress:
            self._on_press(view, xy)
        elif t == QEvent.Type.MouseMove:
            if not ev.buttons() & Qt.MouseButton.LeftButton:
                return False
            self._on_drag(view, xy)
        elif t == QEvent.Type.MouseButtonRelease:
            self._on_release(view, xy)
        return True

    # -- drawing (also the public, testable entry points) ------------------------------------
    def _on_press(self, view, xy) -> None:
        self._press = (view, xy)

    def _on_drag(self, view, xy) -> None:
        if self._press is None or self._press[0] is not view:
            return
        (x0, y0), (x1, y1) = self._press[1], xy
        if self.tool in ("ellipse", "region"):
            xs, ys = [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]
        else:
            xs, ys = [x0, x1], [y0, y1]
        if self._preview is None:
            self._preview = pg.PlotDataItem(pen=pg.mkPen(ROI_COLOR, width=1, style=Qt.PenStyle.DashLine))
            self._preview.setZValue(30)
            view.view_box.addItem(self._preview, ignoreBounds=True)
        self._preview.setData(xs, ys)

    def _on_release(self, view, xy) -> None:
        press, self._press = self._press, None
        self._clear_preview()
        if press is None or press[0] is not view:
            return
        if self.tool == "angle":
            self._clicks.append(xy)
            if len(self._clicks) == 3:
                self.draw(view, "angle", self._clicks)
                self._clicks = []
            return
        if np.hypot(xy[0] - press[1][0], xy[1] - press[1][1]) < 1e-6:
            return
        self.draw(view, self.tool, [press[1], xy])

    def draw(self, view, tool: str, view_points) -> Measurement | None:
        """Create a measurement from view-mm points in ``view``: ruler (start, end); angle
        (arm end, vertex, arm end); ellipse and region (two corners of the bounding box)."""
        ad = adapter_for(view)
        if tool == "region":
            return self._window_from_region(ad, view_points)
        if tool in ("ellipse",):
            (xa, ya), (xb, yb) = view_points
            cx, cy = (xa + xb) / 2, (ya + yb) / 2
            view_points = [(cx, cy), (max(xa, xb), cy), (cx, max(ya, yb))]
        points = [ad.to_patient(x, y) for x, y in view_points]
        if any(p is None for p in points):
            return None
        m = Measurement(0, tool, tuple(tuple(float(c) for c in p) for p in points), ad.plane)
        return self.store.add(roi_stats(m, ad, value_unit(self.state.volume.modality)))

    def _window_from_region(self, ad, view_points) -> None:
        geo = ad.image_geometry()
        if geo is None or geo[0].ndim != 2:
            return None
        img, x0, y0, dx, dy = geo
        (xa, ya), (xb, yb) = view_points
        cols = np.clip(np.round((np.array(sorted((xa, xb))) - x0) / dx).astype(int), 0,
                       img.shape[1] - 1)
        rows = np.clip(np.round((np.array(sorted((ya, yb))) - y0) / dy).astype(int), 0,
                       img.shape[0] - 1)
        region = img[rows[0]:rows[1] + 1, cols[0]:cols[1] + 1]
        try:
            c, w = window_from_region(region)
        except ValueError:
            return None
        self.state.set_window(c, w, "Region")
        self.region_windowed.emit(c, w)
        return None

    def _clear_preview(self) -> None:
        if self._preview is not None:
            vb = self._preview.getViewBox()
            if vb is not None:
                vb.removeItem(self._preview)
            self._preview = None

    # -- ROI items -------------------------------------------------------------------------
    def sync(self) -> None:
        """Show each measurement as ROI items in the views showing its plane position."""
        if self._syncing:
            return
        self._syncing = True
        try:
            wanted = set()
            for view in self.views:
                ad = adapter_for(view)
                for m in self.store.ordered():
                    if m.plane != ad.plane or not ad.on_plane(m.points[0]):
                        continue
                    key = (id(view), m.id)
                    wanted.add(key)
                    self._place(view, ad, m, key)
            for key in list(self._items):
                if key not in wanted:
                    for item in self._items.pop(key)[:2]:
                        if item.getViewBox() is not None:
                            item.getViewBox().removeItem(item)
        finally:
            self._syncing = False

    def _place(self, view, ad, m: Measurement, key) -> None:
        pts = [ad.to_view(p) for p in m.points]
        entry = self._items.get(key)
        if entry is not None and entry[2] == m.points:
            entry[1].setText(self._label(m))
            return
        if entry is not None:
            for item in entry[:2]:
                view.view_box.removeItem(item)
        pen = pg.mkPen(ROI_COLOR, width=2)
        if m.kind == "ruler":
            roi = pg.LineSegmentROI(pts, pen=pen)
        elif m.kind == "angle":
            roi = pg.PolyLineROI(pts, closed=False, pen=pen)
        else:
            (cx, cy), (ux, uy), (vx, vy) = pts
            a, b = float(np.hypot(ux - cx, uy - cy)), float(np.hypot(vx - cx, vy - cy))
            roi = pg.EllipseROI((cx - a, cy - b), (2 * a, 2 * b), pen=pen)
            for h in list(roi.getHandles()):
                if h.typ == "r":
                    roi.removeHandle(h)
        roi.setZValue(25)
        label = pg.TextItem(self._label(m), color=ROI_COLOR, anchor=(0, 1),
                            fill=pg.mkBrush(0, 0, 0, 170))
        font = label.textItem.font()
        font.setPointSizeF(LABEL_POINTS)
        font.setBold(True)
        label.setFont(font)
        self._place_label(label, view, pts[-1])
        label.setZValue(26)
        view.view_box.addItem(roi, ignoreBounds=True)
        view.view_box.addItem(label, ignoreBounds=True)
        roi.sigRegionChangeFinished.connect(lambda r, v=view, mid=m.id: self._on_roi_changed(v, mid, r))
        self._items[key] = [roi, label, m.points]

    @staticmethod
    def _place_label(label: pg.TextItem, view, point: tuple[float, float]) -> None:
        """Put ``label`` at ``point`` (view mm), on the side that keeps it inside the view: a
        point in the right half gets its text to the left, one near the top gets it below."""
        rect = view.view_box.viewRect()
        x, y = float(point[0]), float(point[1])
        label.setAnchor((1.0 if x > rect.center().x() else 0.0,
                         0.0 if y < rect.center().y() else 1.0))
        label.setPos(x, y)

    @staticmethod
    def _label(m: Measurement) -> str:
        return f"{m.id}: {m.text()}" + (f"  {m.label}" if m.label else "")

    def roi_view_points(self, roi) -> list[tuple[float, float]]:
        """View mm of an ROI's defining points (ruler/angle handles; ellipse centre, axes)."""
        if isinstance(roi, pg.EllipseROI):
            pos, size = roi.pos(), roi.size()
            cx, cy = pos.x() + size.x() / 2, pos.y() + size.y() / 2
            return [(cx, cy), (cx + abs(size.x()) / 2, cy), (cx, cy + abs(size.y()) / 2)]
        out = []
        for h in roi.getHandles():
            p = roi.mapToParent(h.pos())
            out.append((float(p.x()), float(p.y())))
        return out

    def _on_roi_changed(self, view, mid: int, roi) -> None:
        if self._syncing or mid not in self.store.items:
            return
        ad = adapter_for(view)
        points = [ad.to_patient(x, y) for x, y in self.roi_view_points(roi)]
        if any(p is None for p in points):
            return
        m = roi_stats(self.store.items[mid].moved(points), ad,
                      value_unit(self.state.volume.modality))
        entry = self._items.get((id(view), mid))
        if entry is not None:
            entry[2] = m.points
            entry[1].setText(self._label(m))
            self._place_label(entry[1], view, ad.to_view(m.points[-1]))
        self.store.update(m)

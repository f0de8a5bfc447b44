"""PlaneView: one patient plane (axial, coronal or sagittal) reformatted through the crosshair.

The ViewBox coordinates are millimetres along the plane's screen axes (see
:mod:`viewer.core.reformat`): the crosshair point ``p`` is drawn at ``(p . u, p . v)``, pixels keep
their physical aspect. Left click (or Shift + mouse move) sets the crosshair, the wheel and
Up/Down move through the plane positions, right drag changes the window (shared while views are
linked, this view's own otherwise), Ctrl + wheel zooms, left drag pans.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from viewer.core.overlay import OverlayStyle
from viewer.core.reformat import PlaneGeometry, extract
from viewer.io.geometry import edge_labels
from viewer.state.navigation import Navigator
from viewer.state.viewer_state import ProbeInfo, ViewerState, display_name, value_unit
from viewer.ui.views.canvas import Annotations, SliceViewBox
from viewer.ui.views.image_canvas import ImageCanvas
from viewer.ui.views.slice_view import PAGE, ZOOM_STEP, configure_pyqtgraph

PLANE_TITLES = {"axial": "Axial", "coronal": "Coronal", "sagittal": "Sagittal"}


class PlaneViewBox(SliceViewBox):
    """SliceViewBox that also reports left clicks in view coordinates (mm)."""

    clicked = Signal(float, float)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            self.clicked.emit(float(p.x()), float(p.y()))
            return
        super().mouseClickEvent(ev)


class PlaneView(QWidget):
    """Reformatted patient plane bound to a ViewerState and a Navigator.

    Signals: ``view_changed()`` after the user zoomed or panned; ``activated()`` when the view
    got the mouse or keyboard focus.
    """

    view_changed = Signal()
    activated = Signal()

    def __init__(self, state: ViewerState, navigator: Navigator, plane: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.state, self.nav, self.plane = state, navigator, plane
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"{PLANE_TITLES[plane]} view")
        self.view = view = ImageCanvas(self, PlaneViewBox())
        # the canvas' parts under their usual names (tests, measurements, exports)
        self.canvas, self.view_box, self.image = view.canvas, view.view_box, view.image
        self.overlay_layer, self.overlay = view.overlay_layer, view.overlay_layer.item
        self.h_line, self.v_line = view.h_line, view.v_line
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.addWidget(self.canvas)
        self.geom: PlaneGeometry | None = None
        self.depth = 0
        self.local_window: tuple[float, float] | None = None
        self._fill = 0.0
        self._overlay_volume: np.ndarray | None = None
        self._overlay_style: OverlayStyle | None = None
        self._connect()

    def _connect(self) -> None:
        st, vb = self.state, self.view_box
        st.volume_opened.connect(self._on_state_volume_opened)
        st.volume_progressed.connect(lambda *_: self.refresh())
        st.volume_loaded.connect(lambda *_: self.refresh())
        st.time_point_changed.connect(lambda *_: self.refresh())
        st.volume_closed.connect(self._on_state_volume_closed)
        st.window_changed.connect(self._on_state_window_changed)
        st.anonymise_changed.connect(lambda *_: self._refresh_annotations())
        self.nav.crosshair_moved.connect(self._on_nav_crosshair_moved)
        self.nav.linked_changed.connect(self._on_nav_linked_changed)
        vb.clicked.connect(self._on_view_clicked)
        vb.wheel_scrolled.connect(lambda steps: self.nav.step_plane(self.plane, steps))
        vb.window_dragged.connect(self._on_view_window_dragged)
        vb.zoomed.connect(self._on_view_zoomed)
        vb.sigResized.connect(self._on_view_resized)
        vb.sigRangeChanged.connect(lambda *_: self._refresh_annotations())
        self.canvas.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.canvas.left_view.connect(lambda: self.state.set_probe(None))

    # -- geometry API (crosshair, measurements, export) ------------------------------------
    def to_view(self, point) -> tuple[float, float] | None:
        """View mm of a patient point, None without a volume."""
        return None if self.geom is None else self.geom.to_view(point)

    def to_patient(self, x: float, y: float) -> np.ndarray | None:
        """Patient LPS mm of view point ``(x, y)`` on the current plane position."""
        if self.geom is None:
            return None
        return self.geom.to_patient(x, y, self.geom.depth_of(self.depth))

    def on_plane(self, point) -> bool:
        """Whether a patient point lies on the plane position shown (within half a step)."""
        if self.geom is None:
            return False
        return abs(self.geom.depth_mm(point) - self.geom.depth_of(self.depth)) <= self.geom.dn / 2

    def image_geometry(self) -> tuple[np.ndarray, float, float, float, float] | None:
        """(plane image, x0, y0, dx, dy): view mm of pixel (0, 0)'s centre and pixel size."""
        if self.geom is None or self.image.image is None:
            return None
        g = self.geom
        return self.image.image, g.u0, g.v0, g.du, g.dv

    def crosshair_view_pos(self) -> tuple[float, float]:
        """(x, y) view mm where the crosshair lines cross."""
        return float(self.v_line.value()), float(self.h_line.value())

    # -- state reactions --------------------------------------------------------------------
    def _on_state_volume_opened(self, volume) -> None:
        self.geom = self.nav.planes.get(self.plane)
        self.local_window = None
        self._overlay_volume = None
        self.overlay_layer.clear()
        if self.geom is None:
            return
        sample = volume.voxels[::4, ::4, ::4]
        self._fill = float(np.min(sample)) if sample.size and not volume.is_rgb else 0.0
        g = self.geom
        left, top, _, _ = g.extent()
        tr = QTransform.fromScale(g.du, g.dv) * QTransform.fromTranslate(left, top)
        self.view.set_display(volume.invert_display, volume.is_rgb, tr)
        self.depth = self.nav.depth(self.plane)
        self.refresh()
        self._on_nav_crosshair_moved(self.nav.point)
        self.fit()

    def _on_state_volume_closed(self) -> None:
        self.geom = None
        self.view.clear()
        self._refresh_annotations()

    def _on_state_window_changed(self, *_args) -> None:
        if self.nav.linked or self.local_window is None:
            self._apply_levels()
        self._refresh_annotations()

    def _on_nav_linked_changed(self, on: bool) -> None:
        if on:
            self.local_window = None
            self._apply_levels()
            self._refresh_annotations()

    def _on_nav_crosshair_moved(self, point) -> None:
        if point is None or self.geom is None:
            return
        if self.geom is not self.nav.planes.get(self.plane):
            return  # a new series: its volume_opened (next) takes the new geometry and draws
        self.view.place_crosshair(self.geom.to_view(point))
        depth = self.geom.depth_index(point)
        if depth != self.depth:
            self.depth = depth
            self.refresh()
        else:
            self._refresh_annotations()

    # -- drawing ----------------------------------------------------------------------------
    def window(self) -> tuple[float, float]:
        """(centre, width) this view uses."""
        if not self.nav.linked and self.local_window is not None:
            return self.local_window
        return self.state.window

    def levels(self) -> tuple[float, float]:
        c, w = self.window()
        return (c - w / 2.0, c + w / 2.0)

    def _apply_levels(self) -> None:
        if self.geom is not None:
            self.view.set_levels(self.levels())

    def _extract(self, voxels: np.ndarray, fill: float) -> np.ndarray:
        vol = self.state.volume
        plane = extract(voxels, self.geom, self.depth, spacing=vol.spacing, origin=vol.origin,
                        direction=vol.direction, fill=fill)
        return np.ascontiguousarray(plane, dtype=np.float32)

    def refresh(self) -> None:
        """Re-extract the plane at the current position (after a move or more loaded slices)."""
        vol = self.state.volume
        if vol is None or self.geom is None:
            return
        self.view.show_pixels(self._extract(vol.voxels, self._fill), self.levels())
        self._show_overlay()
        self._refresh_annotations()

    def set_overlay_volume(self, heat: np.ndarray | None, style: OverlayStyle | None = None) -> None:
        """Show a 3D map (float32 ``(z, y, x)`` in the series' voxel grid, each slice normalised
        to 0..1, NaN where unknown) reformatted like the image; None hides it."""
        if heat is not None:
            vol = self.state.volume
            if vol is None or heat.shape[:3] != vol.shape:
                raise ValueError(f"overlay volume shape {heat.shape} differs from the series "
                                 f"{None if vol is None else vol.shape}")
        self._overlay_volume = heat
        self._overlay_style = style
        self._show_overlay()

    def _show_overlay(self) -> None:
        if self._overlay_volume is None or self.geom is None or self._overlay_style is None:
            self.overlay_layer.clear()
            return
        heat = self._extract(self._overlay_volume, float("nan"))
        self.overlay_layer.show(heat, self._overlay_style, normalised=True)

    def _refresh_annotations(self) -> None:
        st, vol, g = self.state, self.state.volume, self.geom
        a = Annotations()
        if vol is None or g is None:
            self.canvas.set_annotations(a)
            return
        # a projection image without ImageOrientationPatient has no patient axes to reformat by
        a.letters = ({} if vol.orientation == "unknown"
                     else edge_labels(np.column_stack([g.u, g.v, g.n])))
        title = PLANE_TITLES[self.plane] + ("  (resampled)" if g.resampled else "")
        name = display_name(vol.patient.name.replace("^", " ").strip(), st.anonymise)
        a.top_left = [t for t in (title, name if not st.anonymise else "") if t]
        c, w = self.window()
        own = "" if self.nav.linked or self.local_window is None else "  (this view)"
        a.bottom_left = [f"{PLANE_TITLES[self.plane]} {self.depth + 1}/{g.depths}",
                         f"W {w:.0f}  L {c:.0f}{own}", self.nav.text()]
        a.mm_per_px = self.mm_per_pixel()
        self.canvas.set_annotations(a)

    # -- zoom, pan ------------------------------------------------------------------------
    def image_rect(self):
        return self.image.mapRectToParent(self.image.boundingRect())

    def mm_per_pixel(self) -> float | None:
        """Millimetres per screen pixel at the current zoom, None before layout."""
        return self.view.mm_per_pixel()

    def fit(self) -> None:
        """Fit the whole plane in the view."""
        if self.geom is None:
            return
        self.view.fit(QRectF(*self.geom.extent()))
        self._refresh_annotations()

    def zoom_by(self, factor: float) -> None:
        self.view.zoom_by(factor)
        self._on_view_zoomed()

    def set_scale_centre(self, mm_per_px: float, centre: tuple[float, float]) -> None:
        """Show ``mm_per_px`` millimetres per screen pixel around view point ``centre`` (links)."""
        size = self.view_box.size()
        if size.width() <= 0 or mm_per_px <= 0:
            return
        w, h = size.width() * mm_per_px, size.height() * mm_per_px
        self.view_box.setRange(rect=QRectF(centre[0] - w / 2, centre[1] - h / 2, w, h),
                               padding=0.0)
        self.view.fitted = False
        self._refresh_annotations()

    def view_centre(self) -> tuple[float, float]:
        c = self.view_box.viewRect().center()
        return float(c.x()), float(c.y())

    def _on_view_zoomed(self) -> None:
        self.view.fitted = False
        self._refresh_annotations()
        self.view_changed.emit()

    def _on_view_resized(self) -> None:
        if self.view.fitted:
            self.fit()

    # -- mouse and keys ---------------------------------------------------------------------
    def _on_view_clicked(self, x: float, y: float) -> None:
        self.setFocus()
        self.activated.emit()
        p = self.to_patient(x, y)
        if p is not None:
            self.nav.set_crosshair(p)

    def _on_scene_mouse_moved(self, pos) -> None:
        if self.geom is None:
            return
        x, y = self.view.view_point(pos)
        if QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier:
            p = self.to_patient(x, y)
            if p is not None:
                self.nav.set_crosshair(p)
        self.state.set_probe(self._probe(x, y))

    def _probe(self, x: float, y: float) -> ProbeInfo | None:
        vol, p = self.state.volume, self.to_patient(x, y)
        if vol is None or p is None:
            return None
        k, j, i = (int(np.floor(c + 0.5)) for c in vol.patient_to_index(p))
        if not all(0 <= a < n for a, n in zip((k, j, i), vol.shape)):
            return None
        loaded = self.state.is_slice_loaded(k)
        value = None
        if loaded:
            raw = vol.voxels[k, j, i]
            value = tuple(float(c) for c in raw) if vol.is_rgb else float(raw)
        return ProbeInfo(k, j, i, tuple(float(c) for c in p), value,  # type: ignore[arg-type]
                         value_unit(vol.modality), loaded)

    def _on_view_window_dragged(self, dx: float, dy: float, is_start: bool) -> None:
        if self.geom is None:
            return
        new = self.view.dragged_window(self.window(), dx, dy, is_start)
        if self.nav.linked:
            self.state.set_window(*new)
        else:
            self.local_window = new
            self._apply_levels()
            self._refresh_annotations()

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        key = ev.key()
        steps = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -PAGE,
                 Qt.Key.Key_PageDown: PAGE}
        if key in steps:
            self.nav.step_plane(self.plane, steps[key])
        elif key == Qt.Key.Key_Home:
            self.nav.set_depth(self.plane, 0)
        elif key == Qt.Key.Key_End:
            self.nav.set_depth(self.plane, 1 << 30)
        elif key == Qt.Key.Key_F:
            self.fit()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1.0 / ZOOM_STEP)
        else:
            super().keyPressEvent(ev)
            return
        ev.accept()

    def set_active(self, on: bool) -> None:
        """Frame this view (the active one of a multi-view layout: keys and cine act on it)."""
        self.setStyleSheet("PlaneView { background: #ffd400; }" if on else "")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, on)
        self.layout().setContentsMargins(*((2, 2, 2, 2) if on else (1, 1, 1, 1)))

    def focusInEvent(self, ev) -> None:  # noqa: N802
        self.activated.emit()
        super().focusInEvent(ev)

    def crosshair_screen_point(self) -> QPointF:
        """Widget pixel position of the crosshair (tests, export)."""
        x, y = self.crosshair_view_pos()
        scene = self.view_box.mapViewToScene(QPointF(x, y))
        return QPointF(self.canvas.mapFromScene(scene))

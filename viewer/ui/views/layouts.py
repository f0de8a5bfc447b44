"""View layouts as in 3D Slicer: one view, three side by side, 2x2 and conventional.

Layout "1" shows the native :class:`SliceView` (acquired slices as stored, with the crosshair
projected onto the slice; the inference panel's per-slice heat maps are drawn there). The plane
views show the maps assembled into a volume (:meth:`LayoutContainer.set_overlay_volume`). The
other layouts show the three patient planes reformatted
through the linked crosshair (:class:`PlaneView`): "1x3" axial | coronal | sagittal; "2x2" the
three planes plus an information pane (crosshair in mm, value; the probability profile can take
its place through :meth:`LayoutContainer.set_fourth_widget`); "conventional" the acquisition's
plane large with the two others small beside it.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from viewer.core.overlay import OverlayStyle
from viewer.core.reformat import PLANES, native_plane
from viewer.state.navigation import Navigator
from viewer.state.viewer_state import ViewerState, value_unit
from viewer.ui.views.plane_view import PlaneView

LAYOUTS = ("1", "1x3", "2x2", "conventional")
MIN_SLICES_3D = 3   # below this a series is images, not a volume: no reformatted planes
LAYOUT_TITLES = {"1": "One view", "1x3": "Three views (1x3)", "2x2": "2x2 views",
                 "conventional": "Conventional (one large, two small)"}


class InfoPane(QLabel):
    """Fourth pane of the 2x2 layout: crosshair position (LPS mm), voxel and value there."""

    def __init__(self, state: ViewerState, nav: Navigator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.nav = state, nav
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: black; color: #ddd; padding: 12px;")
        self.setWordWrap(True)
        nav.crosshair_moved.connect(lambda *_: self.refresh())
        state.volume_loaded.connect(lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        vol, p = self.state.volume, self.nav.point
        if vol is None or p is None:
            self.setText("No series loaded")
            return
        k, j, i = vol.patient_to_index(p)
        lines = [vol.description or "Series", f"Crosshair  {self.nav.text()} (LPS)",
                 f"Voxel  k {k:.0f}  j {j:.0f}  i {i:.0f}"]
        kk, jj, ii = (int(np.floor(c + 0.5)) for c in (k, j, i))
        if all(0 <= a < n for a, n in zip((kk, jj, ii), vol.shape)) and not vol.is_rgb:
            if self.state.is_slice_loaded(kk):
                lines.append(f"Value  {vol.voxels[kk, jj, ii]:.1f} {value_unit(vol.modality)}")
        sp = vol.spacing
        lines.append(f"Spacing  {sp[2]:.2f} x {sp[1]:.2f} x {sp[0]:.2f} mm  ({vol.orientation})")
        self.setText("\n".join(lines))


class LayoutContainer(QWidget):
    """Central widget holding the native view and the three plane views.

    Signals: ``layout_changed(str)``. Attributes: ``nav`` (Navigator), ``views`` (plane name ->
    PlaneView), ``single`` (the native SliceView), ``actions_list`` (layouts and link toggle).
    """

    layout_changed = Signal(str)
    active_changed = Signal(str)    # the plane of the newly active view

    def __init__(self, state: ViewerState, single: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.single = single
        self.nav = Navigator(state, self)
        self.views = {p: PlaneView(state, self.nav, p) for p in PLANES}
        self.info = InfoPane(state, self.nav)
        self.fourth: QWidget = self.info
        self.current = "1"
        self._active = "axial"
        self.stack = QStackedWidget()
        self.stack.addWidget(single)
        self.multi = QWidget()
        self.grid = QGridLayout(self.multi)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.multi.setStyleSheet("background: #333;")
        self.stack.addWidget(self.multi)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.stack)
        if hasattr(single, "set_crosshair"):
            self.nav.crosshair_moved.connect(single.set_crosshair)
        for name, view in self.views.items():
            view.view_changed.connect(lambda n=name: self._on_view_changed(n))
            view.activated.connect(lambda n=name: self.set_active(n))
        self._make_actions()
        self.setFocusProxy(single)
        state.volume_opened.connect(self._on_state_volume_opened)

    def _make_actions(self) -> None:
        self.layout_actions: dict[str, QAction] = {}
        for n, name in enumerate(LAYOUTS):
            act = QAction(LAYOUT_TITLES[name], self)
            act.setShortcut(QKeySequence(f"Alt+{n + 1}"))
            act.setCheckable(True)
            act.triggered.connect(lambda _=False, name=name: self.set_layout(name))
            self.layout_actions[name] = act
        self.layout_actions["1"].setChecked(True)
        self.act_link = QAction("&Link views (window, zoom, pan)", self)
        self.act_link.setShortcut(QKeySequence("Ctrl+L"))
        self.act_link.setCheckable(True)
        self.act_link.setChecked(True)
        self.act_link.toggled.connect(self.nav.set_linked)
        self.act_next_view = QAction("Next view", self)
        self.act_next_view.setShortcut(QKeySequence("Ctrl+Tab"))
        self.act_next_view.triggered.connect(self.focus_next_view)
        self.actions_list = list(self.layout_actions.values()) + [self.act_link,
                                                                   self.act_next_view]
        for act in self.actions_list:
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(act)

    # -- layouts ---------------------------------------------------------------------------
    def _on_state_volume_opened(self, volume) -> None:
        """Fewer than 3 slices (or colour images) make no volume: the plane layouts are off
        (and say why) until a series that is one opens."""
        three_d = volume.n_slices >= MIN_SLICES_3D and not volume.is_rgb
        why = ("" if three_d else f"Needs a volume of at least {MIN_SLICES_3D} slices; this series "
               f"has {volume.n_slices}" + (" colour images" if volume.is_rgb else ""))
        for name, act in self.layout_actions.items():
            if name != "1":
                act.setEnabled(three_d)
                act.setStatusTip(why)
                act.setToolTip(why or act.text())
        if not three_d and self.current != "1":
            self.set_layout("1")

    def set_layout(self, name: str) -> None:
        """Switch to layout ``name`` (one of :data:`LAYOUTS`)."""
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; choose one of {', '.join(LAYOUTS)}")
        for key, act in self.layout_actions.items():
            act.setChecked(key == name)
        if name != "1" and not self.layout_actions[name].isEnabled():
            name = "1"  # 3D tools are off for this series
            for key, act in self.layout_actions.items():
                act.setChecked(key == name)
        self.current = name
        if name == "1":
            self.stack.setCurrentWidget(self.single)
            self._mark_active()
            self.layout_changed.emit(name)
            return
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
        for r in range(3):
            self.grid.setRowStretch(r, 0)
            self.grid.setColumnStretch(r, 0)
        v = self.views
        if name == "1x3":
            for c, plane in enumerate(PLANES):
                self.grid.addWidget(v[plane], 0, c)
                self.grid.setColumnStretch(c, 1)
            self.grid.setRowStretch(0, 1)
        elif name == "2x2":
            cells = [v["axial"], self.fourth, v["coronal"], v["sagittal"]]
            for n, w in enumerate(cells):
                self.grid.addWidget(w, n // 2, n % 2)
            for n in range(2):
                self.grid.setRowStretch(n, 1)
                self.grid.setColumnStretch(n, 1)
        else:  # conventional: acquisition plane large on the left
            vol = self.state.volume
            big = native_plane(vol.direction) if vol is not None else "axial"
            small = [p for p in PLANES if p != big]
            self.grid.addWidget(v[big], 0, 0, 2, 1)
            self.grid.addWidget(v[small[0]], 0, 1)
            self.grid.addWidget(v[small[1]], 1, 1)
            self.grid.setColumnStretch(0, 2)
            self.grid.setColumnStretch(1, 1)
            self.grid.setRowStretch(0, 1)
            self.grid.setRowStretch(1, 1)
        for n in range(self.grid.count()):
            self.grid.itemAt(n).widget().show()
        self.stack.setCurrentWidget(self.multi)
        self._mark_active()
        self.layout_changed.emit(name)

    def set_fourth_widget(self, widget: QWidget | None) -> None:
        """Put ``widget`` (e.g. the probability profile) in the 2x2 layout's fourth pane; None
        restores the information pane."""
        self.fourth.hide()
        self.fourth = widget or self.info
        if self.current == "2x2":
            self.set_layout("2x2")

    def visible_views(self) -> list[QWidget]:
        """The views of the current layout, in reading order."""
        if self.current == "1":
            return [self.single]
        out = []
        for n in range(self.grid.count()):
            w = self.grid.itemAt(n).widget()
            if isinstance(w, PlaneView):
                out.append(w)
        return out

    def set_active(self, plane: str) -> None:
        """Make the ``plane`` view the active one (last clicked or reached with Ctrl+Tab): it
        is framed, takes the keyboard and cine acts on it."""
        changed = plane != self._active
        self._active = plane
        self._mark_active()
        if changed:
            self.active_changed.emit(plane)

    def _mark_active(self) -> None:
        active = self.active_view()
        many = self.current != "1"
        for view in self.views.values():
            view.set_active(many and view is active)
        self.setFocusProxy(active)

    def active_view(self) -> QWidget:
        """The view that keyboard navigation and cine act on."""
        if self.current == "1":
            return self.single
        view = self.views[self._active]
        return view if view in self.visible_views() else self.visible_views()[0]

    def focus_next_view(self) -> None:
        """Move keyboard focus to the next view of the layout (Ctrl+Tab)."""
        views = self.visible_views()
        if self.current == "1" or not views:
            self.single.setFocus()
            return
        active = self.active_view()
        nxt = views[(views.index(active) + 1) % len(views)] if active in views else views[0]
        self.set_active(nxt.plane)
        nxt.setFocus()

    # -- overlays, links ---------------------------------------------------------------------
    def set_overlay_volume(self, heat: np.ndarray | None, style: OverlayStyle | None = None) -> None:
        """Show a 3D map (float32 ``(z, y, x)``, the series' voxel grid, each slice normalised to
        0..1, NaN unknown) in every plane view, reformatted with the image; None hides it."""
        for view in self.views.values():
            view.set_overlay_volume(heat, style)

    def _on_view_changed(self, source: str) -> None:
        if not self.nav.linked:
            return
        src = self.views[source]
        mm = src.mm_per_pixel()
        centre = src.to_patient(*src.view_centre())
        if mm is None or centre is None:
            return
        for name, view in self.views.items():
            if name != source and view.geom is not None:
                view.set_scale_centre(mm, view.geom.to_view(centre))

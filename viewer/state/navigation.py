"""Navigator: the linked crosshair (a patient LPS point in mm) and the "link views" switch.

It holds no widgets. The crosshair and the native slice index stay consistent both ways: moving
the crosshair selects the acquired slice nearest to it (``ViewerState.set_slice``), and scrolling
the native stack moves the crosshair along the slice normal, keeping its in-plane position.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from viewer.core.reformat import PlaneGeometry, volume_planes
from viewer.io.records import Volume
from viewer.state.viewer_state import ViewerState


class Navigator(QObject):
    """Crosshair and view links of one viewer.

    Signals: ``crosshair_moved(object)`` the new point (numpy (3,) LPS mm) or None without a
    volume; ``linked_changed(bool)`` window/level, zoom and pan are (un)linked between views.
    """

    crosshair_moved = Signal(object)
    linked_changed = Signal(bool)

    def __init__(self, state: ViewerState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.point: np.ndarray | None = None
        self.planes: dict[str, PlaneGeometry] = {}
        self.linked = True
        self._syncing = False
        state.volume_opened.connect(self._on_state_volume_opened)
        state.volume_closed.connect(self._on_state_volume_closed)
        state.slice_changed.connect(self._on_state_slice_changed)

    # -- API -------------------------------------------------------------------------------
    def set_crosshair(self, point) -> None:
        """Move the crosshair to a patient LPS point (mm); the native slice follows."""
        vol = self.state.volume
        if vol is None:
            return
        p = np.asarray(point, float).reshape(3)
        self.point = p
        k = int(np.floor(vol.patient_to_index(p)[0] + 0.5))
        k = min(max(k, 0), vol.n_slices - 1)
        if k != self.state.slice_index:
            self._syncing = True
            try:
                self.state.set_slice(k)
            finally:
                self._syncing = False
        self.crosshair_moved.emit(p.copy())

    def step_plane(self, plane: str, delta: int) -> None:
        """Move the crosshair ``delta`` plane positions along ``plane``'s normal (clamped)."""
        geom = self.planes.get(plane)
        if geom is None or self.point is None:
            return
        k = min(max(geom.depth_index(self.point) + int(delta), 0), geom.depths - 1)
        self.set_depth(plane, k)

    def set_depth(self, plane: str, index: int) -> None:
        """Put the crosshair on plane position ``index`` of ``plane`` (keeps in-plane position)."""
        geom = self.planes.get(plane)
        if geom is None or self.point is None:
            return
        index = min(max(int(index), 0), geom.depths - 1)
        shift = geom.depth_of(index) - geom.depth_mm(self.point)
        self.set_crosshair(self.point + shift * np.asarray(geom.n))

    def depth(self, plane: str) -> int:
        """Current plane position of ``plane`` (0 without a volume)."""
        geom = self.planes.get(plane)
        return 0 if geom is None or self.point is None else geom.depth_index(self.point)

    def set_linked(self, on: bool) -> None:
        """Link (True) or unlink window/level, zoom and pan across views."""
        on = bool(on)
        if on != self.linked:
            self.linked = on
            self.linked_changed.emit(on)

    def text(self) -> str:
        """The crosshair for display: ``"(12.3, -40.1, 7.0) mm"`` (patient LPS x, y, z)."""
        if self.point is None:
            return ""
        x, y, z = self.point
        return f"({x:.1f}, {y:.1f}, {z:.1f}) mm"

    # -- state -----------------------------------------------------------------------------
    def _on_state_volume_opened(self, volume: Volume) -> None:
        self.planes = volume_planes(volume)
        _, ny, nx = volume.shape
        self.point = volume.index_to_patient(self.state.slice_index, (ny - 1) / 2, (nx - 1) / 2)
        self.crosshair_moved.emit(self.point.copy())

    def _on_state_volume_closed(self) -> None:
        self.planes = {}
        self.point = None
        self.crosshair_moved.emit(None)

    def _on_state_slice_changed(self, k: int) -> None:
        vol = self.state.volume
        if self._syncing or vol is None or self.point is None:
            return
        kji = vol.patient_to_index(self.point)
        if int(np.floor(kji[0] + 0.5)) == k:
            return
        self.point = vol.index_to_patient(k, kji[1], kji[2])
        self.crosshair_moved.emit(self.point.copy())

"""SliceView: one slice of the current volume with window/level, zoom/pan, probe and overlay.

Draws ``volume.voxels[k]`` (row-major ``(y, x)``; ``(y, x, 3)`` for RGB) on the shared
:class:`~viewer.ui.views.image_canvas.ImageCanvas`, whose coordinates are millimetres, so
anisotropic pixels keep their physical aspect; heat maps go on its overlay layer
(:meth:`SliceView.set_overlay`), the linked crosshair (a patient point projected onto the slice,
:meth:`SliceView.set_crosshair`) on its lines. Zoom and pan are view-local; slice, window and
probe live in :class:`viewer.state.viewer_state.ViewerState`. The window presets on keys 0-9
and in the context menu come from its :class:`~viewer.ui.views.window_presets.WindowPresets`.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QTransform
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QVBoxLayout, QWidget

from viewer.core.overlay import OverlayStyle
from viewer.io.records import Volume, WindowPreset
from viewer.state.viewer_state import ViewerState, display_name
from viewer.ui.views.canvas import Annotations, SliceViewBox
from viewer.ui.views.image_canvas import ImageCanvas
from viewer.ui.views.marked_slider import MarkedSlider
from viewer.ui.views.time_bar import TimeBar
from viewer.ui.views.window_presets import WindowPresets

ZOOM_STEP = 1.25
PAGE = 10
_configured = False


def configure_pyqtgraph() -> None:
    """Set SliceWise's pyqtgraph options once (row-major images, antialiasing off)."""
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
        _configured = True


class SliceView(QWidget):
    """Slice display bound to a ViewerState (see module docstring).

    Signals: ``preset_chosen(str modality, str name)`` when the reader picks a window preset;
    ``view_changed()`` after zoom or pan.
    """

    preset_chosen = Signal(str, str)
    view_changed = Signal()

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.state = state
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view = view = ImageCanvas(self, SliceViewBox())
        # the canvas' parts under their usual names (tests, exports, presenter)
        self.canvas, self.view_box, self.image = view.canvas, view.view_box, view.image
        self.overlay_layer, self.overlay = view.overlay_layer, view.overlay_layer.item
        self.h_line, self.v_line = view.h_line, view.v_line
        self._cross_point: np.ndarray | None = None
        self._cross_on = False  # lines across the image only when the reader asks for them
        self.slider = MarkedSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.setAccessibleName("Slice")
        self.slice_label = QLabel("slice – / –")
        self.slice_label.setMinimumWidth(110)
        self.slice_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.slice_label)
        self.controls = QWidget()
        self.controls.setLayout(bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.controls)
        self.time_bar = TimeBar(state)  # 4-D series only
        layout.addWidget(self.time_bar)
        self._mm = (1.0, 1.0)               # (y, x) pixel spacing
        self.caption = ""
        self._shown_loaded = False
        self._blank: np.ndarray | None = None
        self.user_presets = lambda modality: []  # reader's presets (viewer.modules.workspace.presets_editor)
        self.window_presets = WindowPresets(self)
        self._make_actions()
        self._connect()

    # -- actions (keyboard) ------------------------------------------------------------------
    def _action(self, text: str, keys: list, slot, window_wide: bool = False) -> QAction:
        act = QAction(text, self)
        act.setShortcuts([QKeySequence(k) for k in keys])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut if window_wide
                               else Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        st = self.state
        self.act_prev = self._action("Previous slice", [Qt.Key.Key_Up], lambda: st.step_slice(-1))
        self.act_next = self._action("Next slice", [Qt.Key.Key_Down], lambda: st.step_slice(1))
        self.act_page_up = self._action(f"Back {PAGE} slices", [Qt.Key.Key_PageUp],
                                        lambda: st.step_slice(-PAGE))
        self.act_page_down = self._action(f"Forward {PAGE} slices", [Qt.Key.Key_PageDown],
                                          lambda: st.step_slice(PAGE))
        self.act_first = self._action("First slice", [Qt.Key.Key_Home], lambda: st.set_slice(0))
        self.act_last = self._action("Last slice", [Qt.Key.Key_End],
                                     lambda: st.set_slice(1 << 30))
        self.act_zoom_in = self._action("Zoom in", [K.ZoomIn, "+", "="], self.zoom_in, True)
        self.act_zoom_out = self._action("Zoom out", [K.ZoomOut, "-"], self.zoom_out, True)
        self.act_fit = self._action("Fit to window", ["F"], self.fit, True)
        self.act_reset = self._action("Reset view and window", ["R"], self.reset, True)
        self.preset_actions = [
            self._action(f"Window preset {n}", [str(n)], lambda _=False, n=n: self.apply_preset(n),
                         True) for n in range(10)]
        self.act_prev_time = self._action("Previous time point", ["Ctrl+Up"],
                                          lambda: st.step_time_point(-1), True)
        self.act_next_time = self._action("Next time point", ["Ctrl+Down"],
                                          lambda: st.step_time_point(1), True)
        self.navigation_actions = [self.act_prev, self.act_next, self.act_page_up,
                                   self.act_page_down, self.act_first, self.act_last,
                                   self.act_prev_time, self.act_next_time]
        self.zoom_actions = [self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_reset]

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        """Fallback for when the shortcut system does not see the keys (e.g. window inactive)."""
        key = ev.key()
        for act in self.navigation_actions + self.zoom_actions + self.preset_actions:
            for seq in act.shortcuts():
                if seq.count() == 1 and seq[0].key() == key and (
                        ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
                        & ~Qt.KeyboardModifier.ShiftModifier) == seq[0].keyboardModifiers():
                    act.trigger()
                    ev.accept()
                    return
        super().keyPressEvent(ev)

    # -- wiring ------------------------------------------------------------------------------
    def _connect(self) -> None:
        st = self.state
        st.volume_opened.connect(self._on_state_volume_opened)
        st.volume_progressed.connect(self._on_state_volume_progressed)
        st.volume_loaded.connect(self._on_state_volume_loaded)
        st.volume_closed.connect(self._on_state_volume_closed)
        st.slice_changed.connect(self._on_state_slice_changed)
        st.time_point_changed.connect(lambda _t: self._show_slice())
        st.window_changed.connect(self._on_state_window_changed)
        st.anonymise_changed.connect(self._refresh_annotations)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        vb = self.view_box
        vb.wheel_scrolled.connect(self._on_view_wheel_scrolled)
        vb.window_dragged.connect(self._on_view_window_dragged)
        vb.context_requested.connect(self._on_view_context_requested)
        vb.zoomed.connect(self._on_view_zoomed)
        vb.sigResized.connect(self._on_view_resized)
        vb.sigRangeChanged.connect(self._refresh_annotations)
        self.canvas.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.canvas.left_view.connect(lambda: self.state.set_probe(None))

    def _on_state_volume_opened(self, volume: Volume) -> None:
        _, ny, nx = volume.shape
        self._mm = (float(volume.spacing[1]), float(volume.spacing[2]))
        scale = QTransform.fromScale(self._mm[1], self._mm[0])  # pixel -> mm, any image size
        self._blank = np.zeros(volume.voxels.shape[1:], np.float32)
        self.view.set_display(volume.invert_display, volume.is_rgb, scale)
        self._shown_loaded = False
        self._show_slice()
        self.slider.blockSignals(True)
        self.slider.setRange(0, volume.n_slices - 1)
        self.slider.setValue(self.state.slice_index)
        self.slider.blockSignals(False)
        self.slider.setEnabled(volume.n_slices > 1)
        self.slider.setPageStep(PAGE)
        self._cross_point = None  # the navigator sends the new volume's point
        self._place_crosshair()
        self.fit()

    def _on_state_volume_progressed(self, done: int, total: int) -> None:
        if not self._shown_loaded and self.state.is_slice_loaded(self.state.slice_index):
            self._show_slice()
        self._refresh_annotations()

    def _on_state_volume_loaded(self, volume: Volume) -> None:
        if not self._shown_loaded:
            self._show_slice()
        self._refresh_annotations()

    def _on_state_volume_closed(self) -> None:
        self.view.clear()
        self._cross_point = None
        self._place_crosshair()
        self.slider.setEnabled(False)
        self.slice_label.setText("slice – / –")
        self._refresh_annotations()

    def _on_state_slice_changed(self, k: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(k)
        self.slider.blockSignals(False)
        self.set_overlay(None)
        self._show_slice()

    def _on_state_window_changed(self, center: float, width: float) -> None:
        if self.state.volume is not None:
            self.view.set_levels(self.state.levels)
        self._refresh_annotations()

    def _on_slider_value_changed(self, value: int) -> None:
        self.state.set_slice(value)

    def _on_view_wheel_scrolled(self, steps: int) -> None:
        self.state.step_slice(steps)

    def _on_view_window_dragged(self, dx: float, dy: float, is_start: bool) -> None:
        if self.state.volume is None:
            return
        self.state.set_window(*self.view.dragged_window(self.state.window, dx, dy, is_start))

    def _on_view_context_requested(self, pos) -> None:
        self.preset_menu().popup(pos)

    def _on_view_zoomed(self) -> None:
        self.view.fitted = False
        self._refresh_annotations()
        self.view_changed.emit()

    def _on_view_resized(self) -> None:
        if self.view.fitted:
            self.fit()

    def _on_scene_mouse_moved(self, pos) -> None:
        if self.state.volume is None:
            return
        x, y = self.view.view_point(pos)
        j, i = int(np.floor(y / self._mm[0])), int(np.floor(x / self._mm[1]))
        self.state.set_probe(self.state.probe_at(j, i))

    # -- drawing -------------------------------------------------------------------------
    def _show_slice(self) -> None:
        st, vol = self.state, self.state.volume
        if vol is None:
            return
        k = st.slice_index
        self._shown_loaded = st.is_slice_loaded(k)
        data = vol.voxels[k] if self._shown_loaded else self._blank
        self.view.show_pixels(data, st.levels)
        self.slice_label.setText(f"slice {k + 1} / {vol.n_slices}")
        self._refresh_annotations()

    def _refresh_annotations(self, *_args) -> None:
        st, vol = self.state, self.state.volume
        a = Annotations()
        if vol is None:
            a.centre = "No series loaded\nFile ▸ Open Folder… (Ctrl+O) or drop a folder here"
            self.canvas.set_annotations(a)
            return
        from viewer.io.geometry import volume_edge_labels

        a.letters = volume_edge_labels(vol)
        name = display_name(vol.patient.name.replace("^", " ").strip(), st.anonymise)
        a.top_left = [t for t in (name if not st.anonymise else "", vol.description,
                                  vol.study_description) if t]
        c, w = st.window
        preset = f"  ({st.window_name})" if st.window_name else ""
        a.bottom_left = [f"Slice {st.slice_index + 1}/{vol.n_slices}"
                         + (f"  Time {st.time_point + 1}/{st.time_points}"
                            if st.time_points > 1 else ""),
                         f"W {w:.0f}  L {c:.0f}{preset}", f"Zoom {self.zoom_percent():.0f}%"]
        if not st.is_slice_loaded(st.slice_index):
            a.centre = "loading…"
        a.mm_per_px = self.mm_per_pixel()
        a.top_right = [self.caption] if self.caption else []
        self.canvas.set_annotations(a)

    def set_caption(self, text: str) -> None:
        """A line at the top right naming what the view shows (e.g. "Grad-CAM  0.006 – 0.03"
        when two views show two heat maps side by side); "" removes it."""
        if text != self.caption:
            self.caption = text
            self._refresh_annotations()

    # -- zoom, pan, presets ---------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """The slice's extent in view coordinates (mm)."""
        return self.image.mapRectToParent(self.image.boundingRect())

    def mm_per_pixel(self) -> float | None:
        """Millimetres per screen pixel at the current zoom, None before layout."""
        return self.view.mm_per_pixel()

    def zoom_percent(self) -> float:
        """Zoom relative to 'fit to window' in percent."""
        return self.view.zoom_percent(self.image_rect())

    def fit(self) -> None:
        """Fit the whole slice in the view (F)."""
        if self.state.volume is None:
            return
        self.view.fit(self.image_rect())
        self._refresh_annotations()
        self.view_changed.emit()

    def zoom_by(self, factor: float) -> None:
        """Zoom around the view centre; factor > 1 magnifies."""
        if self.state.volume is None:
            return
        self.view.zoom_by(factor)
        self._on_view_zoomed()

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / ZOOM_STEP)

    def reset(self) -> None:
        """Fit the slice and restore the header window (R)."""
        self.fit()
        if self.state.volume is not None:
            self.state.apply_preset(self.state.volume.window)

    def presets(self) -> list[WindowPreset]:
        """Window presets of the current volume, index = number key
        (:mod:`viewer.ui.views.window_presets`)."""
        return self.window_presets.presets()

    def apply_preset(self, index: int) -> bool:
        """Apply preset number ``index`` (0 = header); False when there is none."""
        return self.window_presets.apply(index)

    def apply_preset_named(self, name: str) -> bool:
        """Apply the preset called ``name`` (case-insensitive); False when there is none."""
        return self.window_presets.apply_named(name)

    def preset_menu(self, parent: QWidget | None = None) -> QMenu:
        """A menu of the current presets with their number keys."""
        return self.window_presets.menu(parent)

    # -- crosshair ------------------------------------------------------------------------
    def set_crosshair(self, point) -> None:
        """Draw the crosshair through a patient LPS point (mm), projected onto the slice shown;
        None removes it."""
        self._cross_point = None if point is None else np.asarray(point, float).reshape(3)
        self._place_crosshair()

    def set_crosshair_visible(self, on: bool) -> None:
        """Show (True, e.g. with the navigate tool) or hide the crosshair lines."""
        self._cross_on = bool(on)
        self._place_crosshair()

    def crosshair_visible(self) -> bool:
        return self.v_line.isVisible()

    def crosshair_view_pos(self) -> tuple[float, float] | None:
        """(x, y) view mm of the crosshair (pixel centre of column i at ``(i + 0.5) * dx``),
        None without a point or volume."""
        vol, p = self.state.volume, self._cross_point
        if vol is None or p is None:
            return None
        _, j, i = vol.patient_to_index(p)
        return (float(i) + 0.5) * self._mm[1], (float(j) + 0.5) * self._mm[0]

    def _place_crosshair(self) -> None:
        self.view.place_crosshair(self.crosshair_view_pos() if self._cross_on else None)

    # -- overlay (heat maps) --------------------------------------------------------------
    def set_overlay(self, heat: np.ndarray | None, style: OverlayStyle | None = None,
                    reference: float | None = None) -> None:
        """Show ``heat`` (float (H, W) in slice pixel geometry, raw range) over the slice by the
        core overlay rule with ``style`` and the map's ``reference``, or hide it (``heat`` or
        ``style`` None)."""
        if heat is not None:
            vol = self.state.volume
            if vol is not None and heat.shape != vol.voxels.shape[1:3]:
                raise ValueError(f"overlay shape {heat.shape} differs from the slice "
                                 f"{vol.voxels.shape[1:3]}")
        self.overlay_layer.show(heat, style, reference=reference)

    def overlay_visible(self) -> bool:
        """Whether an overlay is shown."""
        return self.overlay_layer.visible

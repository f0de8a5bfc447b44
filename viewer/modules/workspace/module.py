"""The Slicer-style workspace added to the main window: layouts with linked plane views, cine,
measurements (panel + per-study session file), user window presets, exports and their keys.

A feature module built by :func:`viewer.app.create_main_window`. Its public hooks, wired there:
``Workspace.set_overlay_volume(heat, style)`` shows a 3D map (float32 ``(z, y, x)``) in the plane
views and enables the NIfTI export; ``Workspace.set_ai_results(probabilities, caption)`` tells
the findings report where the per-slice probabilities are and PNG captions what model, method
and class the map shows. The exports themselves are done by its ``exports`` part
(:class:`viewer.modules.workspace.exports.Exports`); measurement tools and store live in
:mod:`viewer.modules.workspace.measurements`, their table in
:mod:`viewer.modules.workspace.measurements_panel`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QToolBar

from viewer.core.exports import SliceProbability
from viewer.core.measurements import Measurement, restored_stats
from viewer.core.overlay import OverlayStyle
from viewer.modules.workspace.exports import Exports
from viewer.modules.workspace.measurements import TOOL_KEYS, TOOLS, MeasurementController, MeasurementStore
from viewer.modules.workspace.measurements_panel import MeasurementsPanel
from viewer.modules.workspace.presets_editor import PresetsEditor, presets_for_modality
from viewer.modules.workspace.time_points import TimePointLoader
from viewer.state.viewer_state import value_unit
from viewer.ui.main_window import MainWindow
from viewer.ui.module import MENU_FILE, MENU_VIEW
from viewer.ui.panels import panel_action
from viewer.ui.views.cine import CineBar, CineController
from viewer.ui.views.layouts import LAYOUTS, LayoutContainer

SAVE_DELAY_MS = 500
TOOL_TITLES = {"navigate": "&Navigate (crosshair)", "ruler": "&Ruler", "angle": "&Angle",
               "ellipse": "&Ellipse ROI", "region": "&Window from region"}


class Workspace(QObject):
    """Owns the layout container, cine, measurements and exports of one MainWindow; a feature
    module (:class:`viewer.ui.module.Module`) added by the composition root."""

    name = "workspace"
    title = "Workspace tools"

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window, self.state = window, window.state
        single = window.takeCentralWidget()
        self.layouts = LayoutContainer(self.state, single)
        window.setCentralWidget(self.layouts)
        self.nav = self.layouts.nav
        self.heat_volume: np.ndarray | None = None
        self.heat_style: OverlayStyle | None = None
        self.probabilities_provider: Callable[[], Sequence[SliceProbability]] | None = None
        self.caption_provider: Callable[[], str] | None = None
        self.tools_menu: QMenu | None = None
        self.store = MeasurementStore(self)
        self.measure = MeasurementController(self.state, self.store, self)
        self.measure.add_view(window.slice_view)
        for view in self.layouts.views.values():
            self.measure.add_view(view)
        self.panel = MeasurementsPanel(self.store, slice_of=self.slice_of)
        self.panel.go_requested.connect(self._on_panel_go_requested)
        self.measure_dock = QDockWidget("Measurements", window)
        self.measure_dock.setObjectName("measurements")
        self.measure_dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.measure_dock)
        self.measure_dock.hide()
        self.time_points = TimePointLoader(self.state, window.runner, self)
        self.act_cine_time: QAction | None = None  # made with the other actions, below
        self.cine = CineController(*self._cine_target(), parent=self)
        self.layouts.layout_changed.connect(self._on_layouts_layout_changed)
        self.layouts.active_changed.connect(
            lambda _plane: self.cine.set_target(*self._cine_target()))  # Space plays that view
        self.cine_bar = CineBar(self.cine)
        bar = QToolBar("Cine", window)
        bar.setObjectName("cine_toolbar")
        bar.addWidget(self.cine_bar)
        self.state.time_points_found.connect(self._on_state_time_points_found)
        window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)
        self.cine_toolbar = bar
        window.slice_view.user_presets = lambda modality: presets_for_modality(
            window.settings.q, modality)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_session)
        self._restoring = False
        self.session_error = ""
        self.store.changed.connect(self._on_store_changed)
        self.state.volume_opened.connect(self._on_state_volume_opened)
        self.state.volume_loaded.connect(self._on_state_volume_loaded)
        self.nav.crosshair_moved.connect(lambda *_: self.measure.sync())
        self.exports = Exports(self)
        self._make_actions()
        self._make_menus()

    # -- actions and menus -----------------------------------------------------------------
    def _act(self, text: str, keys: str | Sequence[str], slot, checkable: bool = False) -> QAction:
        act = QAction(text, self.window)
        act.setShortcuts([QKeySequence(k) for k in ([keys] if isinstance(keys, str) else keys)])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        return act

    def _make_actions(self) -> None:
        c = self.cine
        self.act_play = self._act("Cine play / pause", "Space", c.toggle)
        self.act_faster = self._act("Cine faster", "]", c.faster)
        self.act_slower = self._act("Cine slower", "[", c.slower)
        self.act_bounce = self._act("Cine loop / bounce", "B", c.toggle_mode)
        self.act_cine_time = self._act("Cine over &time points (4-D)", "Shift+T",
                                       lambda _=False: self.cine.set_target(*self._cine_target()),
                                       True)
        self.act_cine_time.setEnabled(False)
        self.cine_toolbar.addAction(self.act_cine_time)
        self.tool_actions = {t: self._act(TOOL_TITLES[t], TOOL_KEYS[t],
                                          lambda _=False, t=t: self.measure.set_tool(t), True)
                             for t in TOOLS}
        self.tool_actions["navigate"].setChecked(True)
        self.act_crosshair = self._act("Crosshair in the one-view layout", "Shift+X",
                                       lambda _=False: self._update_single_crosshair(), True)
        self.measure.tool_changed.connect(self._on_measure_tool_changed)
        self.act_panel = panel_action(self.measure_dock, "M&easurements panel", "Ctrl+3",
                                      self.window, self.panel)
        self.act_presets = self._act("Edit window &presets…", "Ctrl+Shift+P", self.edit_presets)
        ex = self.exports
        self.act_export_png = self._act("Export &PNG…", "Ctrl+E", ex.export_png)
        self.act_copy = self._act("&Copy view to clipboard", "Ctrl+Shift+C", ex.copy_view)
        self.act_montage = self._act("Export &montage PNG…", "Ctrl+Shift+M", ex.export_montage)
        self.act_series = self._act("Export PNG &series…", "Ctrl+Shift+E", ex.export_series)
        self.act_report = self._act("Export findings &report (JSON + CSV)…", "Ctrl+Shift+R",
                                    ex.export_report)
        self.act_nifti = self._act("Export heat map as &NIfTI…", "Ctrl+Shift+N",
                                   ex.export_heatmap)
        self.act_nifti.setEnabled(False)
        mo = ex.motion
        self.act_movie = self._act("Export cine as mo&vie (MP4 / GIF)…", "Ctrl+Shift+V",
                                   mo.export_movie)
        self.act_pdf_view = self._act("&Print view to PDF…", "Ctrl+P", mo.export_pdf_view)
        self.act_pdf_montage = self._act("Print m&ontage to PDF…", "Ctrl+Alt+P",
                                         mo.export_pdf_montage)
        self.action_list = (list(self.layouts.actions_list)
                        + [self.act_play, self.act_faster, self.act_slower, self.act_bounce,
                           self.act_cine_time]
                        + list(self.tool_actions.values()) + [self.act_crosshair]
                        + [self.act_panel, self.act_presets, self.act_export_png, self.act_copy,
                           self.act_montage, self.act_series, self.act_report, self.act_nifti,
                           self.act_movie, self.act_pdf_view, self.act_pdf_montage])

    # -- module protocol (viewer.ui.module.Module) ---------------------------------------------
    def actions(self) -> list[QAction]:
        return list(self.action_list)

    def menu(self) -> QMenu | None:
        return self.tools_menu

    def shutdown(self) -> None:
        """Write pending measurements now (the delayed save would never run)."""
        self.cine.pause()
        if self._save_timer.isActive():
            self._save_timer.stop()
            self.save_session()

    def set_ai_results(self, probabilities: Callable[[], Sequence[SliceProbability]],
                       caption: Callable[[], str]) -> None:
        """Where the findings report finds per-slice probabilities and PNG captions the model,
        method and class (given by the composition root from the AI module)."""
        self.probabilities_provider = probabilities
        self.caption_provider = caption

    def _make_menus(self) -> None:
        file_menu = self.window.menu_named(MENU_FILE)
        export = file_menu.addMenu("&Export")
        file_menu.insertMenu(file_menu.actions()[-2] if len(file_menu.actions()) > 1
                             else file_menu.actions()[0], export)
        export.addActions([self.act_export_png, self.act_copy, self.act_montage, self.act_series,
                           self.act_report, self.act_nifti])
        export.addSeparator()
        export.addActions([self.act_movie, self.act_pdf_view, self.act_pdf_montage])
        view_menu = self.window.menu_named(MENU_VIEW)
        layout_menu = view_menu.addMenu("&Layout")
        layout_menu.addActions([self.layouts.layout_actions[n] for n in LAYOUTS])
        layout_menu.addSeparator()
        layout_menu.addActions([self.layouts.act_link, self.layouts.act_next_view,
                                self.act_crosshair])
        cine = view_menu.addMenu("&Cine")
        cine.addActions([self.act_play, self.act_faster, self.act_slower, self.act_bounce,
                         self.act_cine_time])
        view_menu.addAction(self.act_presets)
        tools = QMenu("&Tools", self.window)
        tools.setObjectName("menu-tools")
        self.tools_menu = tools
        tools.addActions(list(self.tool_actions.values()))
        tools.addSeparator()
        tools.addAction(self.act_panel)

    # -- layouts and cine ------------------------------------------------------------------
    def _cine_target(self):
        st = self.state
        if self.act_cine_time is not None and self.act_cine_time.isChecked():
            return (lambda: st.time_points, lambda: st.time_point, st.request_time_point)
        view = self.layouts.active_view()
        if self.layouts.current == "1" or not hasattr(view, "plane"):
            return (lambda: st.volume.n_slices if st.volume is not None else 0,
                    lambda: st.slice_index, st.set_slice)
        nav, plane = self.nav, view.plane
        return (lambda: nav.planes[plane].depths if plane in nav.planes else 0,
                lambda: nav.depth(plane), lambda k: nav.set_depth(plane, k))

    def _on_state_time_points_found(self, count: int) -> None:
        """A 4-D series plays over time by default (Shift+T goes back to the slices)."""
        self.act_cine_time.setEnabled(count > 1)
        self.act_cine_time.setChecked(count > 1)
        self.cine.set_target(*self._cine_target())

    def _on_layouts_layout_changed(self, name: str) -> None:
        self.cine.set_target(*self._cine_target())
        self.measure.sync()
        self._schedule_save()

    def _on_measure_tool_changed(self, tool: str) -> None:
        for key, act in self.tool_actions.items():
            act.setChecked(key == tool)
        self._update_single_crosshair()

    def _update_single_crosshair(self) -> None:
        """Lines across the one-view image only when the reader turned them on (Shift+X), and
        never while measuring (they would hide what is measured)."""
        single = self.layouts.single
        if hasattr(single, "set_crosshair_visible"):
            single.set_crosshair_visible(self.act_crosshair.isChecked()
                                         and self.tool_actions["navigate"].isChecked())

    def slice_of(self, m: Measurement) -> str:
        """Where ``m`` lies: "12/40" (slice, or plane position, of the stack it was drawn on)."""
        vol = self.state.volume
        if vol is None or not m.points:
            return ""
        point = np.asarray(m.points[0], float)
        if m.plane == "native":
            k = int(np.floor(vol.patient_to_index(point)[0] + 0.5))
            return f"{k + 1}/{vol.n_slices}" if 0 <= k < vol.n_slices else ""
        geom = self.nav.planes.get(m.plane)
        if geom is None:
            return ""
        return f"{geom.depth_index(point) + 1}/{geom.depths}"

    def set_overlay_volume(self, heat: np.ndarray | None, style: OverlayStyle | None = None, *,
                           visible: bool = True) -> None:
        """Keep a 3D heat map (``(z, y, x)``, the series' voxel grid; None forgets it) for the
        exports (NIfTI, montage, PNG series) and show it in the plane views unless ``visible``
        is False; ``style`` as :meth:`LayoutContainer.set_overlay_volume`."""
        self.heat_volume = heat
        self.heat_style = style
        self.layouts.set_overlay_volume(heat if visible else None, style)
        self.act_nifti.setEnabled(heat is not None)

    # -- measurements and session -----------------------------------------------------------
    def _on_panel_go_requested(self, m: Measurement) -> None:
        vol = self.state.volume
        if vol is None:
            return
        self.nav.set_crosshair(m.points[0])
        if m.plane != "native" and self.layouts.current == "1":
            self.layouts.set_layout("2x2")

    def session_key(self) -> tuple[str, str] | None:
        """(study instance UID, series UID) of the open series: the key of its session file
        and the report's study; None without a volume."""
        vol = self.state.volume
        if vol is None:
            return None
        series = self.state.series
        study = series.study_instance_uid if series is not None else ""
        return study, vol.series_uid

    def _on_state_volume_opened(self, volume) -> None:
        self._restoring = True
        self.store.set_all([])
        self._restoring = False
        if self.layouts.current == "conventional":
            self.layouts.set_layout("conventional")  # the large view follows the acquisition

    def _on_state_volume_loaded(self, volume) -> None:
        key = self.session_key()
        if key is None:
            return

        def job(ctx):
            from viewer.core.session_file import load_session

            return load_session(*key)

        self.window.runner.submit("session-load", job, label="Reading measurements",
                                  on_result=lambda s: self._apply_session(key, s),
                                  on_error=self._on_session_error)

    def _apply_session(self, key, session) -> None:
        if session is None or self.session_key() != key:
            return
        vol = self.state.volume
        self._restoring = True
        try:
            unit = value_unit(vol.modality)
            self.store.set_all([restored_stats(m, vol, unit) for m in session.measurements])
        finally:
            self._restoring = False

    def _on_session_error(self, error) -> None:
        from viewer.state.viewer_state import Message

        self.session_error = error.message
        self.state.add_messages(Message("warning", "Saved measurements unavailable",
                                        (error.message,), "load"))

    def _on_store_changed(self) -> None:
        if not self._restoring:
            self._schedule_save()

    def _schedule_save(self) -> None:
        if self.state.volume is not None:
            self._save_timer.start()

    def save_session(self) -> int:
        """Write the session file of the open series in the background; returns the request id."""
        from viewer.core.session_file import Session

        key = self.session_key()
        if key is None:
            return 0
        session = Session(key[0], key[1], tuple(self.store.ordered()),
                          "" if self.layouts.current == "1" else self.layouts.current,
                          None if self.nav.point is None else tuple(self.nav.point))

        def job(ctx):
            from viewer.core.session_file import save_session

            return save_session(session)

        return self.window.runner.submit("session-save", job, label="Saving measurements",
                                         on_error=self._on_session_error)

    # -- presets ---------------------------------------------------------------------------
    def edit_presets(self) -> PresetsEditor:
        vol = self.state.volume
        dialog = PresetsEditor(self.window.settings.q, self.state.window,
                               vol.modality if vol is not None else "", self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- exports (viewer.modules.workspace.exports) -------------------------------------------
    def caption(self, include_patient: bool = False) -> str:
        return self.exports.caption(include_patient)

    def render_png(self, options=None):
        """QImage of the layout (or active view) per PngOptions (default: layout + caption)."""
        return self.exports.render_png(options)

    def copy_view(self) -> None:
        self.exports.copy_view()

    def montage_job(self, path: Path):
        return self.exports.montage_job(path)

    def series_job(self, folder: Path):
        return self.exports.series_job(folder)

    def report_job(self, path: Path, include_patient: bool = False):
        return self.exports.report_job(path, include_patient)

    def heatmap_job(self, path: Path):
        return self.exports.heatmap_job(path)

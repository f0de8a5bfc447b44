"""Main window in a 3D-Slicer arrangement: module panel (series browser + study information) on
the left, the slice view in the centre, DICOM tags and messages as docks, probe and job progress
in the status bar. Discovery, loading, thumbnails and tag reads run in the JobRunner.

Its parts: :class:`~viewer.ui.window_docks.WindowDocks` (docks),
:class:`~viewer.ui.study_opener.StudyOpener` (dialogs, recent studies, drag and drop, discovery
and loading) and :class:`~viewer.ui.job_progress.JobProgress` (status-bar job indicator)."""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from viewer.io.records import SeriesInfo, Volume
from viewer.state.jobs import JobError, JobRunner
from viewer.state.viewer_state import Message, ProbeInfo, ViewerState, display_name
from viewer.ui.dialogs import ShortcutsDialog, about_box, show_error
from viewer.ui.escape_to_image import EscapeToImage
from viewer.ui.job_progress import JobProgress
from viewer.ui.module import MENU_FILE, MENU_HELP, MENU_VIEW, ActionRegistry, Module
from viewer.ui.module_bar import ModuleBar
from viewer.ui.panels import panel_action
from viewer.ui.settings import Settings
from viewer.ui.study_opener import StudyOpener
from viewer.ui.views.slice_view import SliceView
from viewer.ui.views.window_presets import fill_preset_menu
from viewer.ui.wheel_guard import WheelGuard
from viewer.ui.window_docks import WindowDocks

APP_NAME = "SliceWise"


class MainWindow(QMainWindow):
    """SliceWise main window. Public API: :meth:`open_paths`, :meth:`load_series`,
    :meth:`show_volume`, :meth:`open_sample_study`, :attr:`state`, :attr:`runner`,
    :attr:`slice_view` (overlays: ``slice_view.set_overlay``), :meth:`shutdown`."""

    def __init__(self, state: ViewerState | None = None, runner: JobRunner | None = None,
                 settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state or ViewerState(self)
        self.runner = runner or JobRunner(self)
        self.settings = settings or Settings()
        self.last_error: QMessageBox | None = None
        self.opener = StudyOpener(self)
        self.registry = ActionRegistry()
        self._shown_once = False
        self.modules: dict[str, Module] = {}
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._connect()
        self._restore_layout()
        self._update_title()

    # -- construction ------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.slice_view = SliceView(self.state)
        self.setCentralWidget(self.slice_view)
        self.docks = docks = WindowDocks(self)
        self.series_browser, self.study_info = docks.series_browser, docks.study_info
        self.tag_browser, self.messages = docks.tag_browser, docks.messages
        self.modules_dock, self.tags_dock = docks.modules_dock, docks.tags_dock
        self.messages_dock = docks.messages_dock
        self.module_bar = ModuleBar(self)  # Slicer's module selector: switches the panel
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.module_bar)
        self.module_bar.add_module("data", "Data", [self.modules_dock])
        self._docks_seen = {id(d) for d in self.findChildren(QDockWidget)}  # the window's own
        self.probe_label = QLabel("")
        self.probe_label.setMinimumWidth(420)
        self.job_progress = JobProgress(self.runner, self)
        self.job_label, self.progress = self.job_progress.label, self.job_progress.bar
        sb = self.statusBar()
        sb.addWidget(self.probe_label, 1)
        sb.addPermanentWidget(self.job_label)
        sb.addPermanentWidget(self.progress)
        self.job_progress.hide()

    def _act(self, text: str, slot, keys: Sequence[Any] = (), checkable: bool = False) -> QAction:
        act = QAction(text, self)
        act.setShortcuts([QKeySequence(k) for k in keys])
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_open_folder = self._act("Open &Folder…", self.opener.choose_folder, [K.Open])
        self.act_open_files = self._act("Open &File(s)…", self.opener.choose_files,
                                        ["Ctrl+Shift+O"])
        self.act_sample = self._act("Open &Sample Study", self.open_sample_study,
                                    ["Ctrl+Shift+S"])
        self.act_quit = self._act("&Quit", self.close, [K.Quit])
        self.act_anonymise = self._act("&Anonymised display", self.state.set_anonymise,
                                       ["Ctrl+Shift+A"], checkable=True)
        self.act_tags = panel_action(self.tags_dock, "DICOM &Tags", "Ctrl+T", self,
                                     self.tag_browser.search)
        self.act_modules = panel_action(self.modules_dock, "&Series panel", "Ctrl+1", self,
                                        self.series_browser)
        self.act_messages = panel_action(self.messages_dock, "&Messages", "Ctrl+2", self)
        for act in (self.act_tags, self.act_modules, self.act_messages):
            self.addAction(act)
        self.register_actions(self.module_bar.actions_list())
        self.act_shortcuts = self._act("&Keyboard Shortcuts", self.show_shortcuts,
                                       [K.HelpContents])
        self.act_about = self._act("&About SliceWise", lambda: about_box(self), ["Ctrl+F1"])

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.setObjectName(MENU_FILE)
        file_menu.addActions([self.act_open_folder, self.act_open_files, self.act_sample])
        self.recent_menu = file_menu.addMenu("&Recent Studies")
        self.opener.install_recent_menu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        view_menu = mb.addMenu("&View")
        view_menu.setObjectName(MENU_VIEW)
        self.preset_menu = view_menu.addMenu("&Window Presets")
        self.preset_menu.aboutToShow.connect(lambda: fill_preset_menu(self.preset_menu,
                                                                      self.slice_view))
        fill_preset_menu(self.preset_menu, self.slice_view)
        view_menu.addActions(self.slice_view.zoom_actions)
        nav = view_menu.addMenu("&Navigate")
        nav.addActions(self.slice_view.navigation_actions)
        view_menu.addSeparator()
        view_menu.addAction(self.act_anonymise)
        view_menu.addAction(self.act_tags)
        panels = view_menu.addMenu("&Panels")
        panels.addActions([self.act_modules, self.act_messages,
                           self.module_bar.toggleViewAction()])
        help_menu = mb.addMenu("&Help")
        help_menu.setObjectName(MENU_HELP)
        help_menu.addActions([self.act_shortcuts, self.act_about])

    def _connect(self) -> None:
        st = self.state
        st.volume_opened.connect(self._on_state_volume_opened)
        st.volume_loaded.connect(self._on_state_volume_loaded)
        st.volume_closed.connect(self._update_title)
        st.slice_changed.connect(self._on_state_slice_changed)
        st.anonymise_changed.connect(self._on_state_anonymise_changed)
        st.warnings_changed.connect(self.docks.show_messages)
        st.probe_moved.connect(self._on_state_probe_moved)
        self.series_browser.series_activated.connect(self._on_browser_series_activated)
        app = QApplication.instance()
        if app is not None:   # Esc in any side panel: the keys go back to the image
            self._escape_filter = EscapeToImage(self)
            app.installEventFilter(self._escape_filter)
            self._wheel_guard = WheelGuard(self)   # the wheel scrolls panels, not their settings
            app.installEventFilter(self._wheel_guard)
        self.slice_view.preset_chosen.connect(self._on_view_preset_chosen)
        self.tags_dock.visibilityChanged.connect(self.docks.on_tags_visibility_changed)
        self.job_progress.connect()

    # -- feature modules ---------------------------------------------------------------------
    def add_module(self, module: Module) -> None:
        """Register a feature module: its actions (window-wide shortcuts, listed in Help), its
        menu before Help, its entry in the module bar and its shutdown on close. Call before
        the window is shown, right after building the module: the module bar's entry raises the
        panel dock the module added to the window (a left-area dock first), else pops up its
        menu."""
        if module.name in self.modules:
            raise ValueError(f"a module named {module.name!r} is already added")
        self.modules[module.name] = module
        self.register_actions(module.actions())
        menu = module.menu()
        if menu is not None:
            self.menuBar().insertMenu(self.menu_named(MENU_HELP).menuAction(), menu)
        self._add_to_module_bar(module.name, module.title, menu)
        self._restore_layout()  # docks the module made take their remembered places

    def _add_to_module_bar(self, name: str, title: str, menu: QMenu | None) -> None:
        bar = self.module_bar
        docks = self.findChildren(QDockWidget)
        new = [d for d in docks if id(d) not in self._docks_seen]  # made by this module
        self._docks_seen |= {id(d) for d in docks}
        left = [d for d in new if self.dockWidgetArea(d) == Qt.DockWidgetArea.LeftDockWidgetArea]
        panel = (left or new)[:1]
        bar.add_module(name, title, panel, menu)
        self.register_actions(bar.actions_list())

    def register_actions(self, actions: Sequence[QAction]) -> None:
        """Make ``actions`` window-wide shortcuts listed in Help > Keyboard shortcuts."""
        for act in actions:
            if act not in self.actions():
                self.addAction(act)
        self.registry.add(actions)

    def unregister_actions(self, actions: Sequence[QAction]) -> None:
        """Take back actions registered for a while (e.g. quiz keys when the quiz ends)."""
        for act in actions:
            self.removeAction(act)
        self.registry.remove(actions)

    def menu_named(self, object_name: str) -> QMenu:
        """A menu of the menu bar by its objectName (``viewer.ui.module.MENU_*``)."""
        menu = self.menuBar().findChild(QMenu, object_name)
        if menu is None:
            raise KeyError(f"no menu named {object_name!r}")
        return menu

    def show_for_reading(self) -> None:
        """Show the window: where the reader left it, or maximised the first time (the image
        needs the room; the default size left it about 460 x 540 px)."""
        if self.settings.geometry()[0] is None:
            self.showMaximized()
        else:
            self.show()

    def _restore_layout(self) -> None:
        geometry, dock_state = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if dock_state is not None:
            self.restoreState(dock_state)

    # -- opening (see StudyOpener) -----------------------------------------------------------
    def open_paths(self, paths: Sequence[str | os.PathLike]) -> int:
        """Discover ``paths`` (folders and/or files) in the background, then load the first
        series. Returns the discovery request id."""
        return self.opener.open_paths(paths)

    def open_sample_study(self) -> int:
        """Write (first time) and open the built-in synthetic study in the background."""
        return self.opener.open_sample_study()

    def load_series(self, info: SeriesInfo) -> int:
        """Load ``info`` progressively; the first slice shows as soon as it is read."""
        return self.opener.load_series(info)

    def show_volume(self, volume: Volume) -> None:
        """Display an already loaded volume (no discovery)."""
        self.opener.show_volume(volume)

    def _show_job_error(self, title: str, error: JobError) -> None:
        self.last_error = show_error(self, title, error.message or str(error),
                                     "The other series of the study remain available.")

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if self.opener.accepts_drag(ev):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        self.opener.drop(ev)

    def focus_image(self) -> None:
        """Give the keyboard to the image view (the active view of a multi-view layout), so
        Up/Down/PgUp/PgDn scroll slices."""
        self.centralWidget().setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_browser_series_activated(self, info: SeriesInfo) -> None:
        self.load_series(info)
        self.focus_image()  # a series chosen: the slice keys scroll it, not the list

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        super().showEvent(ev)
        if not self._shown_once:
            self._shown_once = True
            self.focus_image()  # at start the slice keys belong to the image

    # -- state reactions -----------------------------------------------------------------
    def _on_state_volume_opened(self, volume: Volume) -> None:
        self.study_info.set_volume(volume)
        self._update_title()
        remembered = self.settings.preset_for(volume.modality)
        if remembered and remembered.lower() != "auto":
            self.slice_view.apply_preset_named(remembered)
        self.docks.refresh_tags()

    def _on_state_volume_loaded(self, volume: Volume) -> None:
        self.study_info.set_volume(volume)
        self.opener.apply_loaded_window(volume)
        if volume.warnings:
            n = len(volume.warnings)
            self.state.add_messages(Message(
                "warning", f"{volume.description or 'Series'}: {n} warning{'s' if n > 1 else ''}",
                tuple(volume.warnings), "load"))
        self.statusBar().showMessage(f"Loaded {volume.n_slices} images", 3000)

    def _on_state_slice_changed(self, k: int) -> None:
        self.docks.refresh_tags()

    def _on_state_anonymise_changed(self, on: bool) -> None:
        self.act_anonymise.setChecked(on)
        self.study_info.set_anonymise(on)
        self.series_browser.set_anonymise(on)
        self.tag_browser.set_anonymise(on)
        self._update_title()

    def _on_state_probe_moved(self, probe: ProbeInfo | None) -> None:
        self.probe_label.setText(probe.text() if probe is not None else "")

    def _on_view_preset_chosen(self, modality: str, name: str) -> None:
        self.settings.set_preset_for(modality, name)

    def _update_title(self, *_args) -> None:
        vol = self.state.volume
        if vol is None:
            self.setWindowTitle(APP_NAME)
            return
        name = vol.patient.name.replace("^", " ").strip()
        who = "Anonymised" if self.state.anonymise else display_name(name, False)
        parts = [APP_NAME] + [p for p in (who, vol.study_description, vol.description) if p]
        self.setWindowTitle(" — ".join(parts))

    # -- help, shutdown ------------------------------------------------------------------
    def all_actions(self) -> list[QAction]:
        """Every action with a shortcut, menus first then view keys (for the shortcut list)."""
        view = self.slice_view
        return ([self.act_open_folder, self.act_open_files, self.act_quit, self.act_anonymise,
                 self.act_tags, self.act_modules, self.act_messages, self.act_shortcuts]
                + view.zoom_actions + view.navigation_actions + view.preset_actions
                + list(self.registry))

    def show_shortcuts(self) -> ShortcutsDialog:
        from viewer.ui.shortcuts import every_action

        dialog = ShortcutsDialog(every_action(self), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def shutdown(self) -> None:
        """Shut the modules down, cancel jobs, wait briefly for workers and save the layout."""
        for module in list(self.modules.values()):
            try:
                module.shutdown()
            except Exception:  # noqa: BLE001 - one module must not stop the others saving
                logging.getLogger(__name__).exception("module %s did not shut down", module.name)
        self.runner.shutdown(800)
        self.settings.set_geometry(self.saveGeometry(), self.saveState())
        self.settings.sync()

    def closeEvent(self, ev: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(ev)

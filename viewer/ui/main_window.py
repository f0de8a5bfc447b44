"""Main window in a 3D-Slicer arrangement: module panel (series browser + study information) on
the left, the slice view in the centre, DICOM tags and messages as docks, probe and job progress
in the status bar. Discovery, loading, thumbnails and tag reads run in the JobRunner."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMenu,
                               QMessageBox, QProgressBar, QSplitter, QWidget)

from viewer.io.volume import DiscoveryResult, SeriesInfo, Volume
from viewer.jobs import JobError, JobRunner
from viewer.state import Message, ProbeInfo, ViewerState, display_name
from viewer.ui.dialogs import ShortcutsDialog, about_box, show_error
from viewer.ui.messages import MessagesPanel
from viewer.ui.series_browser import SeriesBrowser, thumbnail_job
from viewer.ui.settings import Settings
from viewer.ui.slice_view import SliceView, fill_preset_menu
from viewer.ui.study_info import StudyInfoBox
from viewer.ui.tag_browser import TagBrowser

APP_NAME = "SliceWise"
PROGRESS_DELAY_MS = 300
MAX_DETAILS = 200


def _skipped_message(result: DiscoveryResult) -> Message | None:
    n = len(result.skipped)
    if not n:
        return None
    details = tuple(f"{Path(s.path).name}: {s.reason}" for s in result.skipped[:MAX_DETAILS])
    if n > MAX_DETAILS:
        details += (f"… and {n - MAX_DETAILS} more",)
    return Message("warning", f"{n} file{'s' if n > 1 else ''} skipped (not displayable images)",
                   details, "discovery")


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
        self._load_first: dict[int, bool] = {}
        self._initial_window: tuple[float, float] | None = None
        self._tags_sized = False
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        from viewer.ui.workspace import install_workspace

        self.workspace = install_workspace(self)  # layouts, cine, measurements, exports
        self._connect()
        self._restore_layout()
        self._update_title()

    # -- construction ------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.slice_view = SliceView(self.state)
        self.setCentralWidget(self.slice_view)
        self.series_browser = SeriesBrowser()
        self.study_info = StudyInfoBox()
        panel = QSplitter(Qt.Orientation.Vertical)
        panel.addWidget(self.series_browser)
        panel.addWidget(self.study_info)
        panel.setStretchFactor(0, 3)
        panel.setStretchFactor(1, 2)
        self.modules_dock = self._dock("Study browser", "modules", panel,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.modules_dock.setMinimumWidth(260)
        self.tag_browser = TagBrowser()
        self.tags_dock = self._dock("DICOM tags", "tags", self.tag_browser,
                                    Qt.DockWidgetArea.RightDockWidgetArea)
        self.tags_dock.hide()
        self.messages = MessagesPanel()
        self.messages_dock = self._dock("Messages", "messages", self.messages,
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.messages_dock.hide()
        self.resizeDocks([self.modules_dock], [300], Qt.Orientation.Horizontal)
        self.probe_label = QLabel("")
        self.probe_label.setMinimumWidth(420)
        self.job_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        sb = self.statusBar()
        sb.addWidget(self.probe_label, 1)
        sb.addPermanentWidget(self.job_label)
        sb.addPermanentWidget(self.progress)
        self.job_label.hide()
        self.progress.hide()
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _act(self, text: str, slot, keys: Sequence[Any] = (), checkable: bool = False) -> QAction:
        act = QAction(text, self)
        act.setShortcuts([QKeySequence(k) for k in keys])
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_open_folder = self._act("Open &Folder…", self._on_open_folder_triggered, [K.Open])
        self.act_open_files = self._act("Open &File(s)…", self._on_open_files_triggered,
                                        ["Ctrl+Shift+O"])
        self.act_sample = self._act("Open &Sample Study", self.open_sample_study,
                                    ["Ctrl+Shift+S"])
        self.act_quit = self._act("&Quit", self.close, [K.Quit])
        self.act_anonymise = self._act("&Anonymised display", self.state.set_anonymise,
                                       ["Ctrl+Shift+A"], checkable=True)
        self.act_tags = self.tags_dock.toggleViewAction()
        self.act_tags.setText("DICOM &Tags")
        self.act_tags.setShortcut(QKeySequence("Ctrl+T"))
        self.act_modules = self.modules_dock.toggleViewAction()
        self.act_modules.setText("&Series panel")
        self.act_modules.setShortcut(QKeySequence("Ctrl+1"))
        self.act_messages = self.messages_dock.toggleViewAction()
        self.act_messages.setText("&Messages")
        self.act_messages.setShortcut(QKeySequence("Ctrl+2"))
        self.act_shortcuts = self._act("&Keyboard Shortcuts", self.show_shortcuts,
                                       [K.HelpContents])
        self.act_about = self._act("&About SliceWise", lambda: about_box(self), ["Ctrl+F1"])

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addActions([self.act_open_folder, self.act_open_files, self.act_sample])
        self.recent_menu = file_menu.addMenu("&Recent Studies")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        view_menu = mb.addMenu("&View")
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
        panels.addActions([self.act_modules, self.act_messages])
        help_menu = mb.addMenu("&Help")
        help_menu.addActions([self.act_shortcuts, self.act_about])

    def _connect(self) -> None:
        st = self.state
        st.volume_opened.connect(self._on_state_volume_opened)
        st.volume_loaded.connect(self._on_state_volume_loaded)
        st.volume_closed.connect(self._update_title)
        st.slice_changed.connect(self._on_state_slice_changed)
        st.anonymise_changed.connect(self._on_state_anonymise_changed)
        st.warnings_changed.connect(self._on_state_warnings_changed)
        st.probe_moved.connect(self._on_state_probe_moved)
        self.series_browser.series_activated.connect(self.load_series)
        self.slice_view.preset_chosen.connect(self._on_view_preset_chosen)
        self.tags_dock.visibilityChanged.connect(self._on_tags_visibility_changed)
        self.runner.started.connect(self._on_runner_started)
        self.runner.progressed.connect(self._on_runner_progressed)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self._progress_timer.timeout.connect(self._on_progress_timer_timeout)

    def _restore_layout(self) -> None:
        geometry, dock_state = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if dock_state is not None:
            self.restoreState(dock_state)

    # -- opening -----------------------------------------------------------------------------
    def open_paths(self, paths: Sequence[str | os.PathLike]) -> int:
        """Discover ``paths`` (folders and/or files) in the background, then load the first
        series. Returns the discovery request id."""
        paths = [str(p) for p in paths]
        if not paths:
            return 0
        self.settings.add_recent(paths[0] if len(paths) == 1 else os.path.commonpath(paths))
        folder = paths[0] if os.path.isdir(paths[0]) else os.path.dirname(paths[0])
        self.settings.set_last_folder(folder)

        def job(ctx):
            from viewer.io import discover

            return discover(paths, progress=lambda d, t: ctx.report((d, t)),
                            cancelled=ctx.cancelled)

        self.statusBar().showMessage(f"Reading headers in {', '.join(paths)}…", 3000)
        return self.runner.submit("discover", job, label="Reading headers",
                                  on_result=self._on_discovery_finished,
                                  on_error=lambda e: self._show_job_error("Could not open", e))

    def open_sample_study(self) -> int:
        """Write (first time) and open the built-in synthetic study in the background."""
        def job(ctx):
            from viewer.sample_study import ensure_sample_study

            return ensure_sample_study()

        return self.runner.submit("sample", job, label="Preparing sample study",
                                  on_result=lambda path: self.open_paths([str(path)]),
                                  on_error=lambda e: self._show_job_error(
                                      "Sample study unavailable", e))

    def load_series(self, info: SeriesInfo) -> int:
        """Load ``info`` progressively; the first slice shows as soon as it is read."""
        self.state.select_series(info)
        self.series_browser.set_current_uid(info.uid)
        self.state.clear_messages("load")

        def job(ctx):
            from viewer.io import iter_load

            yield from iter_load(info, cancelled=ctx.cancelled)

        rid = self.runner.submit("load", job, label=f"Loading {info.description or 'series'}",
                                 on_progress=lambda ev: self._on_load_progressed(rid, ev),
                                 on_error=self._on_load_failed)
        self._load_first = {rid: True}
        return rid

    def show_volume(self, volume: Volume) -> None:
        """Display an already loaded volume (no discovery)."""
        self.runner.cancel("load")
        self._initial_window = None
        self.state.open_volume(volume)

    def _on_discovery_finished(self, result: DiscoveryResult) -> None:
        self.state.clear_messages("discovery")
        self.state.clear_messages("load")
        self.state.set_discovery(result)
        self.series_browser.set_discovery(result)
        skipped = _skipped_message(result)
        if skipped is not None:
            self.state.add_messages(skipped)
        if not result.series:
            self.state.add_messages(Message("error", "No displayable DICOM images were found",
                                            (), "discovery"))
            self.last_error = show_error(self, "No images", "No displayable DICOM images were "
                                         "found in the chosen location.",
                                         skipped.title if skipped else "")
            return
        self.runner.submit("thumbnails", thumbnail_job(result.series), label="Thumbnails",
                           on_progress=lambda t: self.series_browser.set_thumbnail(*t))
        self.load_series(result.series[0])

    def _on_load_progressed(self, rid: int, ev) -> None:
        if self._load_first.pop(rid, False):
            self._initial_window = (ev.volume.window.center, ev.volume.window.width)
            self.state.open_volume(ev.volume, ev.loaded, ev.done)
        else:
            self.state.update_progress(ev.done, ev.total, ev.loaded)
        if ev.complete:
            self.state.finish_volume(ev.volume)

    def _on_load_failed(self, error: JobError) -> None:
        name = self.state.series.description if self.state.series else "series"
        self.state.add_messages(Message("error", f"{name or 'Series'} could not be loaded",
                                        (error.message,), "load"))
        self.state.close_volume()
        self._show_job_error("Could not load the series", error)

    def _show_job_error(self, title: str, error: JobError) -> None:
        self.last_error = show_error(self, title, error.message or str(error),
                                     "The other series of the study remain available.")

    # -- state reactions -----------------------------------------------------------------
    def _on_state_volume_opened(self, volume: Volume) -> None:
        self.study_info.set_volume(volume)
        self._update_title()
        remembered = self.settings.preset_for(volume.modality)
        if remembered and remembered.lower() != "auto":
            self.slice_view.apply_preset_named(remembered)
        self._refresh_tags()

    def _on_state_volume_loaded(self, volume: Volume) -> None:
        self.study_info.set_volume(volume)
        if self._initial_window is not None and self.state.window == self._initial_window:
            self.state.apply_preset(volume.window)  # header/auto window of the complete load
            remembered = self.settings.preset_for(volume.modality)
            if remembered:
                self.slice_view.apply_preset_named(remembered)
        self._initial_window = None
        if volume.warnings:
            n = len(volume.warnings)
            self.state.add_messages(Message(
                "warning", f"{volume.description or 'Series'}: {n} warning{'s' if n > 1 else ''}",
                tuple(volume.warnings), "load"))
        self.statusBar().showMessage(f"Loaded {volume.n_slices} images", 3000)

    def _on_state_slice_changed(self, k: int) -> None:
        self._refresh_tags()

    def _on_state_anonymise_changed(self, on: bool) -> None:
        self.act_anonymise.setChecked(on)
        self.study_info.set_anonymise(on)
        self.series_browser.set_anonymise(on)
        self.tag_browser.set_anonymise(on)
        self._update_title()

    def _on_state_warnings_changed(self, messages: tuple[Message, ...]) -> None:
        self.messages.set_messages(messages)
        if messages:
            if not self.messages_dock.isVisible():
                self.messages_dock.show()
                self.resizeDocks([self.messages_dock], [110], Qt.Orientation.Vertical)
            worst = messages[-1]
            self.statusBar().showMessage(f"{worst.title} — see Messages", 6000)

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

    # -- tags ----------------------------------------------------------------------------
    def _on_tags_visibility_changed(self, visible: bool) -> None:
        if visible:
            if not self._tags_sized:
                self._tags_sized = True
                self.resizeDocks([self.tags_dock], [420], Qt.Orientation.Horizontal)
            self._refresh_tags()

    def _refresh_tags(self) -> None:
        vol = self.state.volume
        if vol is None or not self.tags_dock.isVisible():
            return
        k = self.state.slice_index
        if not 0 <= k < len(vol.slice_files):
            self.tag_browser.set_message("This image has no source file")
            return
        path = vol.slice_files[k]
        same = [n for n, f in enumerate(vol.slice_files) if f == path]
        frame = same.index(k) if len(same) > 1 else None

        def job(ctx):
            from viewer.io import read_tags

            return read_tags(path, frame)

        label = path + (f"  (frame {frame + 1})" if frame is not None else "")
        self.runner.submit("tags", job, label="Reading tags",
                           on_result=lambda rows: self.tag_browser.set_rows(rows, label),
                           on_error=lambda e: self.tag_browser.set_message(
                               f"Tags unavailable: {e.message}"))

    # -- progress indicator ----------------------------------------------------------------
    def _on_runner_started(self, key: str, rid: int, label: str) -> None:
        if not self._progress_timer.isActive() and not self.progress.isVisible():
            self._progress_timer.start()

    def _on_progress_timer_timeout(self) -> None:
        jobs = self.runner.running_jobs()
        if jobs:
            self.job_label.setText(jobs[0][1] + "…")
            self.job_label.show()
            self.progress.show()

    def _on_runner_progressed(self, key: str, rid: int, value: Any) -> None:
        done_total = None
        if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
            done_total = value
        elif hasattr(value, "done") and hasattr(value, "total"):
            done_total = (int(value.done), int(value.total))
        if done_total and done_total[1] > 0:
            self.progress.setRange(0, done_total[1])
            self.progress.setValue(done_total[0])

    def _on_runner_busy_changed(self, busy: bool) -> None:
        if not busy:
            self._progress_timer.stop()
            self.job_label.hide()
            self.progress.hide()
            self.progress.setRange(0, 0)

    # -- files: dialogs, recent, drag and drop ----------------------------------------------
    def _on_open_folder_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM folder",
                                                  self.settings.last_folder())
        if folder:
            self.open_paths([folder])

    def _on_open_files_triggered(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM file(s)",
                                                self.settings.last_folder(),
                                                "DICOM files (*.dcm *.DCM *.ima *.IMA DICOMDIR *);;"
                                                "All files (*)")
        if files:
            self.open_paths(files)

    def _fill_recent_menu(self) -> None:
        menu: QMenu = self.recent_menu
        menu.clear()
        recent = self.settings.recent()
        for n, path in enumerate(recent):
            act = menu.addAction(f"&{(n + 1) % 10} {path}")
            act.triggered.connect(lambda _=False, p=path: self.open_paths([p]))
        if not recent:
            menu.addAction("(none)").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear list")
        clear.triggered.connect(self.settings.clear_recent)
        clear.setEnabled(bool(recent))

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.open_paths(paths)

    # -- help, shutdown ------------------------------------------------------------------
    def all_actions(self) -> list[QAction]:
        """Every action with a shortcut, menus first then view keys (for the shortcut list)."""
        view = self.slice_view
        return ([self.act_open_folder, self.act_open_files, self.act_quit, self.act_anonymise,
                 self.act_tags, self.act_modules, self.act_messages, self.act_shortcuts]
                + view.zoom_actions + view.navigation_actions + view.preset_actions
                + list(getattr(self, "extra_actions", [])))

    def show_shortcuts(self) -> ShortcutsDialog:
        from viewer.ui.shortcuts import every_action

        dialog = ShortcutsDialog(every_action(self), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def shutdown(self) -> None:
        """Cancel jobs, wait briefly for workers and save the layout."""
        self.runner.shutdown(800)
        self.settings.set_geometry(self.saveGeometry(), self.saveState())
        self.settings.sync()

    def closeEvent(self, ev: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(ev)

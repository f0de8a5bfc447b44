"""StudyOpener: how studies reach the main window - Open Folder / Open File(s) dialogs, the
Recent Studies menu, drag and drop, the built-in sample study - and the background discovery and
progressive loading that follow.

Part of :class:`viewer.ui.main_window.MainWindow`. Discovery (header reads) and loading run in
the window's JobRunner; the first slice shows as soon as it has been read.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMenu

from viewer.io.records import DiscoveryResult, SeriesInfo, Volume
from viewer.state.jobs import JobError
from viewer.state.viewer_state import Message
from viewer.ui.dialogs import show_error
from viewer.ui.series_browser import thumbnail_job

MAX_DETAILS = 200
FILE_FILTER = "DICOM files (*.dcm *.DCM *.ima *.IMA DICOMDIR *);;All files (*)"


NOT_DICOM = "Not a DICOM file"


def _relative(path: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive
        return path
    return path if rel.startswith("..") else rel


def skipped_messages(result: DiscoveryResult, roots: Sequence[str] = ()) -> list[Message]:
    """What discovery skipped, grouped by reason, each file named by its path relative to the
    opened folder (so seven LICENSE.txt files in seven folders stay apart).

    Files that are not DICOM at all (notes, licences, thumbnails) are an "info" message that
    does not open the Messages panel; DICOM files that could not be used are a "warning"."""
    if not result.skipped:
        return []
    root = os.path.commonpath([os.path.abspath(r) for r in roots]) if roots else ""
    if root and not os.path.isdir(root):
        root = os.path.dirname(root)
    groups: dict[str, list[str]] = {}
    for s in result.skipped:
        groups.setdefault(s.reason, []).append(_relative(s.path, root) if root else s.path)
    out: list[Message] = []
    for harmless in (True, False):
        items = [(reason, paths) for reason, paths in groups.items()
                 if reason.startswith(NOT_DICOM) == harmless]
        if not items:
            continue
        n = sum(len(paths) for _, paths in items)
        details: list[str] = []
        for reason, paths in sorted(items, key=lambda kv: -len(kv[1])):
            shown = paths[:MAX_DETAILS]
            details.append(f"{reason} ({len(paths)}): " + ", ".join(shown)
                           + (f", … and {len(paths) - len(shown)} more" if len(paths) > len(shown)
                              else ""))
        title = (f"{n} other file{'s' if n > 1 else ''} (not DICOM) ignored" if harmless
                 else f"{n} file{'s' if n > 1 else ''} skipped (not displayable images)")
        out.append(Message("info" if harmless else "warning", title, tuple(details),
                           "discovery"))
    return out


class StudyOpener:
    """Opens and loads studies for ``window`` (a MainWindow: its state, runner, settings,
    series browser and slice view)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.state = window.state
        self.runner = window.runner
        self.settings = window.settings
        self.recent_menu: QMenu | None = None
        self._load_first: dict[int, bool] = {}
        self._initial_window: tuple[float, float] | None = None
        self._roots: list[str] = []

    # -- opening -----------------------------------------------------------------------------
    def open_paths(self, paths: Sequence[str | os.PathLike]) -> int:
        """Discover ``paths`` (folders and/or files) in the background, then load the first
        series. Returns the discovery request id."""
        paths = [str(p) for p in paths]
        if not paths:
            return 0
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            self.state.clear_messages("discovery")
            self.state.add_messages(Message("error", "Not found: " + ", ".join(missing),
                                            ("No such file or folder. Check the path, or open "
                                             "a folder with File ▸ Open Folder… (Ctrl+O).",),
                                            "discovery"))
            paths = [p for p in paths if p not in missing]
            if not paths:
                return 0
        self._roots = paths
        self.settings.add_recent(paths[0] if len(paths) == 1 else os.path.commonpath(paths))
        folder = paths[0] if os.path.isdir(paths[0]) else os.path.dirname(paths[0])
        self.settings.set_last_folder(folder)

        def job(ctx):
            from viewer.io import discover

            return discover(paths, progress=lambda d, t: ctx.report((d, t)),
                            cancelled=ctx.cancelled)

        self.window.statusBar().showMessage(f"Reading headers in {', '.join(paths)}…", 3000)
        return self.runner.submit("discover", job, label="Reading headers",
                                  on_result=self._on_discovery_finished,
                                  on_error=lambda e: self.window._show_job_error("Could not open",
                                                                                 e))

    def open_sample_study(self) -> int:
        """Write (first time) and open the built-in synthetic study in the background."""
        def job(ctx):
            from viewer.core.sample_study import ensure_sample_study

            return ensure_sample_study()

        return self.runner.submit("sample", job, label="Preparing sample study",
                                  on_result=lambda path: self.window.open_paths([str(path)]),
                                  on_error=lambda e: self.window._show_job_error(
                                      "Sample study unavailable", e))

    def load_series(self, info: SeriesInfo) -> int:
        """Load ``info`` progressively; the first slice shows as soon as it is read."""
        self.state.select_series(info)
        self.window.series_browser.set_current_uid(info.uid)
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

    def apply_loaded_window(self, volume: Volume) -> None:
        """When the reader has not changed the window since the first slice, switch to the
        complete load's header/auto window, or the preset remembered for its modality."""
        if self._initial_window is not None and self.state.window == self._initial_window:
            self.state.apply_preset(volume.window)  # header/auto window of the complete load
            remembered = self.settings.preset_for(volume.modality)
            if remembered:
                self.window.slice_view.apply_preset_named(remembered)
        self._initial_window = None

    def _on_discovery_finished(self, result: DiscoveryResult) -> None:
        w, state = self.window, self.state
        state.clear_messages("discovery")
        state.clear_messages("load")
        state.set_discovery(result)
        w.series_browser.set_discovery(result)
        skipped = skipped_messages(result, self._roots)
        state.add_messages(*skipped)
        if not result.series:
            state.add_messages(Message("error", "No displayable DICOM images were found",
                                       (), "discovery"))
            w.last_error = show_error(w, "No images", "No displayable DICOM images were "
                                      "found in the chosen location.",
                                      "; ".join(m.title for m in skipped))
            return
        self.runner.submit("thumbnails", thumbnail_job(result.series), label="Thumbnails",
                           on_progress=lambda t: w.series_browser.set_thumbnail(*t))
        w.load_series(result.series[0])

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
        self.window._show_job_error("Could not load the series", error)

    # -- files: dialogs, recent, drag and drop ----------------------------------------------
    def choose_folder(self) -> None:
        """Ask for a folder (starting in the last one) and open it."""
        folder = QFileDialog.getExistingDirectory(self.window, "Open DICOM folder",
                                                  self.settings.last_folder())
        if folder:
            self.window.open_paths([folder])

    def choose_files(self) -> None:
        """Ask for one or more files (starting in the last folder) and open them."""
        files, _ = QFileDialog.getOpenFileNames(self.window, "Open DICOM file(s)",
                                                self.settings.last_folder(), FILE_FILTER)
        if files:
            self.window.open_paths(files)

    def install_recent_menu(self, menu: QMenu) -> None:
        """Fill ``menu`` with the recent studies now and every time it is about to show."""
        self.recent_menu = menu
        menu.aboutToShow.connect(self.fill_recent_menu)
        self.fill_recent_menu()

    def fill_recent_menu(self) -> None:
        """Recent studies (numbered 1-9, 0), or "(none)", then "Clear list"."""
        menu = self.recent_menu
        menu.clear()
        recent = self.settings.recent()
        for n, path in enumerate(recent):
            act = menu.addAction(f"&{(n + 1) % 10} {path}")
            act.triggered.connect(lambda _=False, p=path: self.window.open_paths([p]))
        if not recent:
            menu.addAction("(none)").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear list")
        clear.triggered.connect(self.settings.clear_recent)
        clear.setEnabled(bool(recent))

    @staticmethod
    def accepts_drag(ev) -> bool:
        """Whether a drag carries at least one local file or folder."""
        return ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls())

    def drop(self, ev) -> None:
        """Open the local files and folders of a drop."""
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.window.open_paths(paths)

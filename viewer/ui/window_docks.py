"""WindowDocks: the main window's docks - the study browser module panel (series browser over
study information) on the left, DICOM tags on the right (read in the background for the slice
on screen while the dock is visible) and messages at the bottom (shown when a warning arrives).

Part of :class:`viewer.ui.main_window.MainWindow`.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QWidget

from viewer.state.viewer_state import Message
from viewer.ui.messages import MessagesPanel
from viewer.ui.series_browser import SeriesBrowser
from viewer.ui.study_info import StudyInfoBox
from viewer.ui.tag_browser import TagBrowser


class WindowDocks:
    """The docks of ``window`` (a MainWindow: its state and runner).

    Attributes: ``series_browser``, ``study_info``, ``modules_dock`` (both, split vertically),
    ``tag_browser``, ``tags_dock`` (hidden at first), ``messages``, ``messages_dock`` (hidden
    until a message arrives).
    """

    def __init__(self, window: Any) -> None:
        self.window = window
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
        window.resizeDocks([self.modules_dock], [300], Qt.Orientation.Horizontal)
        self._tags_sized = False

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        w: QMainWindow = self.window
        dock = QDockWidget(title, w)
        dock.setObjectName(name)
        dock.setWidget(widget)
        w.addDockWidget(area, dock)
        return dock

    # -- messages --------------------------------------------------------------------------------
    def show_messages(self, messages: tuple[Message, ...]) -> None:
        """List ``messages``; bring the dock up (110 px high) and name the latest in the status
        bar when one needs the reader's attention (warnings and errors; "info" such as ignored
        non-DICOM files is listed but does not open the panel)."""
        w = self.window
        self.messages.set_messages(messages)
        attention = [m for m in messages if m.level != "info"]
        if attention:
            if not self.messages_dock.isVisible():
                self.messages_dock.show()
                w.resizeDocks([self.messages_dock], [110], Qt.Orientation.Vertical)
            w.statusBar().showMessage(f"{attention[-1].title} — see Messages", 6000)

    # -- tags ------------------------------------------------------------------------------------
    def on_tags_visibility_changed(self, visible: bool) -> None:
        """The tags dock was shown (420 px wide the first time: read the tags) or hidden."""
        if visible:
            if not self._tags_sized:
                self._tags_sized = True
                self.window.resizeDocks([self.tags_dock], [420], Qt.Orientation.Horizontal)
            self.refresh_tags()

    def refresh_tags(self) -> None:
        """Read the tags of the slice on screen in the background (only while visible)."""
        state = self.window.state
        vol = state.volume
        if vol is None or not self.tags_dock.isVisible():
            return
        k = state.slice_index
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
        self.window.runner.submit("tags", job, label="Reading tags",
                                  on_result=lambda rows: self.tag_browser.set_rows(rows, label),
                                  on_error=lambda e: self.tag_browser.set_message(
                                      f"Tags unavailable: {e.message}"))

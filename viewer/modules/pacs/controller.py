"""The PACS module: File > Query PACS… opens the browser; searches, series lists, the connection
test and retrieves run in the window's JobRunner (keys ``pacs-*``), never on the GUI thread.

Opening while the images arrive: as soon as the first three instances of the first retrieved
series are in the cache, that series folder is opened with ``window.open_paths`` (the viewer's
progressive loading shows its first slice at once). When the whole retrieve has finished, the
study folder is opened again with every series complete; the series and the slice the reader was
on are kept. Passwords are asked once per session (keyring and
``SLICEWISE_PACS_PASSWORD_<NAME>`` first) and after a 401 they are forgotten and asked again.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from viewer.io.pacs import (
    PacsError,
    PacsServer,
    RetrieveCache,
    RetrieveProgress,
    RetrieveResult,
    StudyQuery,
    forget_secret,
    get_secret,
    load_servers,
    open_client,
    parse_date_range,
    resolve_server,
    retrieve,
)
from viewer.io.pacs.secrets import remember_for_session
from viewer.modules.pacs.browser import PacsBrowser
from viewer.state.jobs import JobError
from viewer.ui.main_window import MainWindow
from viewer.ui.module import MENU_FILE

log = logging.getLogger(__name__)
SHORTCUT = "Ctrl+Shift+F"  # "find on the PACS"; Ctrl+P stays Print
OPEN_AFTER = 3  # instances of the first series in the cache before it is opened


class PacsModule(QObject):
    """Feature module (:class:`viewer.ui.module.Module`) of the PACS browser."""

    name = "pacs"
    title = "PACS"

    def __init__(self, window: MainWindow, cache: RetrieveCache | None = None) -> None:
        super().__init__(window)
        self.window, self.state, self.runner = window, window.state, window.runner
        self.cache = cache or RetrieveCache()
        self.browser: PacsBrowser | None = None
        self.server: PacsServer | None = None
        self.last_result: RetrieveResult | None = None
        self._opened_early = False
        self._keep: tuple[str, int] | None = None
        self.act_query = QAction("Query &PACS…", window)
        self.act_query.setShortcut(QKeySequence(SHORTCUT))
        self.act_query.setStatusTip("Search a PACS and retrieve studies (DICOMweb or DIMSE)")
        self.act_query.triggered.connect(self.show_browser)
        file_menu = window.menu_named(MENU_FILE)
        file_menu.insertAction(window.recent_menu.menuAction(), self.act_query)
        for name in ("pynetdicom", "dicomweb_client"):  # their errors are shown in words here
            logging.getLogger(name).setLevel(logging.CRITICAL)

    # -- Module protocol ---------------------------------------------------------------------
    def actions(self) -> list[QAction]:
        return [self.act_query]

    def menu(self) -> QMenu | None:
        return None

    def shutdown(self) -> None:
        for key in ("pacs-retrieve", "pacs-search", "pacs-series", "pacs-echo"):
            self.runner.cancel(key)

    # -- browser ---------------------------------------------------------------------------
    def show_browser(self) -> PacsBrowser:
        if self.browser is None:
            b = self.browser = PacsBrowser(self.window)
            b.echo_requested.connect(self.test_connection)
            b.search_requested.connect(self.search)
            b.series_requested.connect(self.list_series)
            b.retrieve_requested.connect(self.retrieve)
            b.cancel_requested.connect(self.cancel)
            self.state.anonymise_changed.connect(b.set_anonymise)
            b.set_anonymise(self.state.anonymise)
            try:
                b.set_servers([s.name for s in load_servers()])
            except PacsError as exc:
                b.show_status(str(exc), error=True)
        self.browser.show()
        self.browser.raise_()
        self.browser.activateWindow()
        return self.browser

    def _ask_password(self, server: PacsServer) -> str | None:
        what = "token" if server.auth == "bearer" else f"password of {server.username}"
        text, ok = QInputDialog.getText(self.browser or self.window, "PACS password",
                                        f"The {what} for {server.address}\n(kept for this "
                                        f"session only):", QLineEdit.EchoMode.Password)
        return text if ok and text else None

    def sender(self):
        """A function storing files on the PACS chosen in the Query PACS window (its secret is
        asked for here, on the GUI thread), for a background job to call; None when no server is
        chosen yet (the window opens so the reader can choose one)."""
        if self.browser is None or not self.browser.server_text().strip():
            self.show_browser()
            self.window.statusBar().showMessage(
                "Choose the PACS to send to in the Query PACS window, then send again", 8000)
            return None
        connection = self._connection()
        if connection is None:
            return None
        server, secret = connection

        def send(paths) -> None:
            from viewer.io.pacs import send_files

            result = send_files(server, paths, secret=secret)
            if not result.ok:
                raise PacsError(f"{result.server}: {result.stored} of {result.total} stored; "
                                + "; ".join(result.failures[:3]))
        return send

    def _connection(self) -> tuple[PacsServer, str | None] | None:
        """The chosen server and its secret (asked here, on the GUI thread), or None."""
        b = self.browser
        try:
            server, url_secret = resolve_server(b.server_text())
        except PacsError as exc:
            b.show_status(str(exc), error=True)
            return None
        if url_secret is not None:
            remember_for_session(server, url_secret)
        secret = get_secret(server, self._ask_password)
        if server.auth != "none" and secret is None:
            b.show_status(f"No password for {server.address}; nothing was sent.", error=True)
            return None
        self.server = server
        return server, secret

    def _failed(self, what: str):
        def on_error(error: JobError) -> None:
            if self.server is not None and ("401" in error.message or "403" in error.message):
                forget_secret(self.server)  # asked again next time
            self.browser.set_busy(False)
            self.browser.show_status(f"{what}: {error.message}", error=True)
        return on_error

    def test_connection(self) -> None:
        conn = self._connection()
        if conn is None:
            return

        def job(ctx):
            with open_client(*conn) as client:
                return client.echo()
        self.browser.show_status(f"Testing {conn[0].address}…")
        self.runner.submit("pacs-echo", job, label="PACS connection test",
                           on_result=lambda text: self.browser.show_status(f"Connected: {text}"),
                           on_error=self._failed("Connection test failed"))

    def search(self, query: StudyQuery) -> None:
        try:
            if query.date:
                parse_date_range(query.date)
        except ValueError as exc:
            self.browser.show_status(f"Study date: {exc}", error=True)
            return
        conn = self._connection()
        if conn is None:
            return

        def job(ctx):
            with open_client(*conn) as client:
                return client.find_studies(query)
        self.browser.show_status("Searching…")
        self.runner.submit("pacs-search", job, label="PACS search",
                           on_result=self.browser.show_studies,
                           on_error=self._failed("Search failed"))

    def list_series(self, study_uid: str) -> None:
        conn = self._connection()
        if conn is None:
            return

        def job(ctx):
            with open_client(*conn) as client:
                return study_uid, client.find_series(study_uid)
        self.runner.submit("pacs-series", job, label="PACS series",
                           on_result=lambda r: self.browser.show_series(*r),
                           on_error=self._failed("Could not list the series"))

    # -- retrieve --------------------------------------------------------------------------
    def retrieve(self, study_uid: str, series_uids: list[str] | None = None) -> int | None:
        """Retrieve a study (or some of its series) into the cache, opening it as it arrives."""
        conn = self._connection()
        if conn is None:
            return None
        cache = self.cache

        def job(ctx):
            with open_client(*conn) as client:
                return (yield from retrieve(client, cache, study_uid, series_uids,
                                            cancelled=ctx.cancelled))
        self._opened_early = False
        self._keep = None
        self.browser.set_busy(True)
        self.browser.show_status(f"Retrieving from {conn[0].address}…")
        return self.runner.submit("pacs-retrieve", job, label="Retrieving from PACS",
                                  on_progress=self._on_retrieve_progressed,
                                  on_result=self._on_retrieve_finished,
                                  on_error=self._failed("Retrieve stopped"))

    def cancel(self) -> None:
        if self.runner.is_running("pacs-retrieve"):
            self.runner.cancel("pacs-retrieve")
            self.browser.set_busy(False)
            self.browser.show_status("Retrieve cancelled. What arrived is kept; retrieve "
                                     "again to fetch the rest.")

    def _on_retrieve_progressed(self, ev: RetrieveProgress) -> None:
        self.browser.show_progress(ev.done, ev.total)
        if not self._opened_early and (ev.fetched >= OPEN_AFTER or ev.series_complete):
            self._opened_early = True
            self.window.open_paths([ev.series_folder])  # first slice on screen now

    def _on_retrieve_finished(self, result: RetrieveResult) -> None:
        self.last_result = result
        self.browser.set_busy(False)
        self.browser.show_status(f"Retrieved: {result.fetched} images fetched, {result.already} "
                                 f"already in the cache ({result.total} in all).")
        current = self.state.series
        if current is not None and Path(current.files[0]).parent in set(result.series_folders):
            self._keep = (current.uid, self.state.slice_index)
            self.state.series_found.connect(self._on_state_series_found)
        self.window.open_paths([str(result.folder)])

    def _on_state_series_found(self, discovery) -> None:
        """After the final re-open: back to the series and slice the reader was on (the opener
        loads the first series right after this signal, so ours is loaded after it)."""
        self.state.series_found.disconnect(self._on_state_series_found)
        keep, self._keep = self._keep, None
        info = next((s for s in discovery.series if keep and s.uid == keep[0]), None)
        if info is None:
            return

        def restore(_volume) -> None:
            if self.state.series is None or self.state.series.uid != info.uid:
                return  # the opener's first series; ours follows
            self.state.volume_opened.disconnect(restore)
            self.state.set_slice(keep[1])
        self.state.volume_opened.connect(restore)
        if discovery.series[0].uid != info.uid:
            QTimer.singleShot(0, lambda: self.window.load_series(info))

"""Composition root: headless commands, or QApplication + settings + main window.

``main(argv)``: a headless command when ``argv`` names one (see ``viewer.cli.main``); otherwise the GUI
opened on the paths in ``argv``, or on the built-in sample study when there are none.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

APP_NAME = "SliceWise"
ORG_NAME = "SliceWise"


def _icon_path() -> Path | None:
    """The application icon (resources/icons/slicewise.svg), None when not shipped."""
    try:
        from viewer.core.resources import resource_path

        path = resource_path("icons", "slicewise.svg")
    except Exception:  # resources package missing in a partial checkout
        path = Path(__file__).resolve().parents[1] / "resources" / "icons" / "slicewise.svg"
    return path if path.is_file() else None


def create_application(argv: list[str] | None = None):
    """The QApplication (created once) with names, icon and pyqtgraph options set."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from viewer import __version__
    from viewer.ui.qt_messages import route_qt_messages
    from viewer.ui.views.slice_view import configure_pyqtgraph

    route_qt_messages()

    app = QApplication.instance() or QApplication([sys.argv[0]] + list(argv or []))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("slicewise")
    icon = _icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    configure_pyqtgraph()
    return app


MODULES = ("workspace", "compare", "ai", "teaching", "pacs")


def create_main_window(modules: Sequence[str] = MODULES):
    """The MainWindow with its feature modules (all of them by default), wired together.

    Each module gets what it needs as typed arguments: the AI module's map volume goes to the
    workspace's plane views, the workspace's findings report and PNG captions read the AI
    module's results, and teaching uses the AI module's public API (suspend, resume, style).
    Torch is not imported here: models load in worker threads on first use.
    """
    from viewer.ui.main_window import MainWindow

    unknown = set(modules) - set(MODULES)
    if unknown:
        raise ValueError(f"unknown module(s): {', '.join(sorted(unknown))}")
    window = MainWindow()
    workspace = ai = None
    if "workspace" in modules:
        from viewer.modules.workspace.module import Workspace

        workspace = Workspace(window)
        window.add_module(workspace)
    compare = None
    if "compare" in modules:
        from viewer.modules.compare.module import CompareModule

        compare = CompareModule(window, workspace)
        window.add_module(compare)
    if "ai" in modules:
        from viewer.modules.ai.controller import AiController

        ai = AiController(window)
        window.add_module(ai)
        if workspace is not None:
            ai.map_volume_changed.connect(
                lambda heat, style, visible: workspace.set_overlay_volume(heat, style,
                                                                          visible=visible))
            workspace.set_ai_results(ai.slice_probabilities, ai.caption)
        if compare is not None:   # the maps also on the compare viewports of the main series
            ai.map_volume_changed.connect(
                lambda heat, style, visible: compare.set_overlay_volume(heat, style, visible=visible))
            ai.slice_marks_changed.connect(compare.set_slice_marks)
    if "teaching" in modules:
        from viewer.modules.teaching.menu import TeachingModule

        window.add_module(TeachingModule(window, ai))
    if "pacs" in modules:
        from viewer.modules.pacs.controller import PacsModule

        pacs = PacsModule(window)
        window.add_module(pacs)
        if ai is not None:
            ai.dicom.set_pacs_sender(pacs.sender)  # AI > Send AI results to PACS…
    return window


def main(argv: list[str] | None = None) -> int:
    """Run SliceWise: a headless command, or the viewer on ``argv`` paths (sample study if none)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from viewer.cli import main as cli

    if cli.is_command(argv):
        return cli.run(argv)
    from viewer.core.logs import configure_logging

    configure_logging()  # one line per problem on the terminal; tracebacks in the log file
    app = create_application(argv)
    window = create_main_window()
    window.show_for_reading()
    paths = [a for a in argv if not a.startswith("-")]
    if paths:
        window.open_paths(paths)  # a path that does not exist is named in the Messages panel
    else:
        window.open_sample_study()
    leave(int(app.exec()))


def leave(code: int) -> NoReturn:
    """End a GUI process once its event loop returned. Everything the reader made was saved in
    MainWindow.shutdown (measurements, quiz sessions, settings, synced). A classifier still
    running in a worker thread only computes; tearing down torch and Qt at interpreter exit took
    seconds, and a worker killed there makes Qt print a warning: leave at once."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

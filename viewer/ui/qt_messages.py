"""Qt's own messages (e.g. "This plugin does not support propagateSizeHints()") go to the
``viewer.qt`` logger instead of the terminal: nothing raw reaches stdout or stderr."""
from __future__ import annotations

import logging

from PySide6.QtCore import QtMsgType, qInstallMessageHandler

_log = logging.getLogger("viewer.qt")
_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
           QtMsgType.QtWarningMsg: logging.DEBUG, QtMsgType.QtCriticalMsg: logging.WARNING,
           QtMsgType.QtFatalMsg: logging.ERROR}
_installed = False


def _handler(kind: QtMsgType, context, message: str) -> None:
    _log.log(_LEVELS.get(kind, logging.DEBUG), "%s", message)


def route_qt_messages() -> None:
    """Install the handler once (idempotent)."""
    global _installed
    if not _installed:
        qInstallMessageHandler(_handler)
        _installed = True

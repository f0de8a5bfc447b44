"""Benchmark drivers let Qt deliver what is pending between measured steps (the product itself
never spins the event loop: slow work runs in JobRunner jobs)."""
from __future__ import annotations

from PySide6.QtCore import QEventLoop, QTimer


def deliver_pending_events() -> None:
    """Run the event loop until everything queued so far has been delivered."""
    loop = QEventLoop()
    QTimer.singleShot(0, loop.quit)
    loop.exec()

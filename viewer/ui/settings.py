"""Persistent user settings (QSettings "SliceWise"/"SliceWise"): recent studies, last folder,
window geometry and dock layout, last window preset per modality.

``SLICEWISE_SETTINGS_DIR`` redirects everything to ``<dir>/slicewise.ini`` (tests, portable use).
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10
ENV_DIR = "SLICEWISE_SETTINGS_DIR"


def make_settings() -> QSettings:
    """The application's QSettings, or an ini file under ``$SLICEWISE_SETTINGS_DIR`` when set."""
    folder = os.environ.get(ENV_DIR)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "slicewise.ini"), QSettings.Format.IniFormat)
    return QSettings("SliceWise", "SliceWise")


class Settings:
    """Typed access to the values SliceWise remembers."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else make_settings()

    def recent(self) -> list[str]:
        """Recently opened studies (folders or files), newest first, at most 10."""
        value = self.q.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def add_recent(self, path: str) -> None:
        """Put ``path`` first in the recent list (deduplicated, at most 10)."""
        items = [path] + [p for p in self.recent() if p != path]
        self.q.setValue("recent", items[:MAX_RECENT])

    def clear_recent(self) -> None:
        self.q.setValue("recent", [])

    def last_folder(self) -> str:
        """Folder the open dialogs start in (home when unknown)."""
        return str(self.q.value("last_folder", str(Path.home())))

    def set_last_folder(self, folder: str) -> None:
        self.q.setValue("last_folder", folder)

    def preset_for(self, modality: str) -> str:
        """Name of the window preset last chosen for ``modality`` ("" when none)."""
        return str(self.q.value(f"presets/{modality.upper() or 'OT'}", ""))

    def set_preset_for(self, modality: str, name: str) -> None:
        self.q.setValue(f"presets/{modality.upper() or 'OT'}", name)

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        """Saved (window geometry, dock state), None where absent."""
        geo, state = self.q.value("window/geometry"), self.q.value("window/state")
        return (geo if isinstance(geo, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def set_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def sync(self) -> None:
        self.q.sync()

"""User-editable window/level presets (name, centre, width, modality) kept in the settings.

Stored as JSON under the QSettings key ``window_presets/user``; modality "" means every
modality. They appear after the built-in presets in View ▸ Window Presets and the right-click
menu (the first ten presets also get the number keys 0-9).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.io.records import WindowPreset

KEY = "window_presets/user"


@dataclass(frozen=True)
class UserPreset:
    """A preset of the reader's: ``center``/``width`` in the modality's units (HU for CT)."""

    name: str
    center: float
    width: float
    modality: str = ""

    def preset(self) -> WindowPreset:
        return WindowPreset(self.name, self.center, self.width)

    def applies_to(self, modality: str) -> bool:
        return not self.modality or self.modality.upper() == modality.upper()


def load_user_presets(qsettings) -> list[UserPreset]:
    """The saved presets (an unreadable value yields none)."""
    raw = qsettings.value(KEY, "")
    if not raw:
        return []
    try:
        return [UserPreset(str(d["name"]), float(d["center"]), float(d["width"]),
                           str(d.get("modality", ""))) for d in json.loads(str(raw))]
    except (ValueError, KeyError, TypeError):
        return []


def save_user_presets(qsettings, presets: list[UserPreset]) -> None:
    qsettings.setValue(KEY, json.dumps([p.__dict__ for p in presets]))
    qsettings.sync()


def presets_for_modality(qsettings, modality: str) -> list[WindowPreset]:
    """User presets that apply to ``modality``, as WindowPresets."""
    return [p.preset() for p in load_user_presets(qsettings) if p.applies_to(modality)]


class PresetsEditor(QDialog):
    """Table editor of the user presets; OK validates and saves."""

    COLUMNS = ("Name", "Centre", "Width", "Modality (empty = all)")

    def __init__(self, qsettings, current: tuple[float, float] | None = None,
                 modality: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Window presets")
        self.q = qsettings
        self._current, self._modality = current, modality
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.horizontalHeader().setStretchLastSection(True)
        for p in load_user_presets(qsettings):
            self._append(p)
        add = QPushButton("Add current window")
        add.clicked.connect(self.add_current)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.table)
        box.addLayout(row)
        box.addWidget(buttons)
        self.resize(560, 320)

    def _append(self, p: UserPreset) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, v in enumerate((p.name, f"{p.center:g}", f"{p.width:g}", p.modality)):
            self.table.setItem(r, c, QTableWidgetItem(v))

    def add_current(self) -> None:
        c, w = self._current or (40.0, 400.0)
        self._append(UserPreset(f"My preset {self.table.rowCount() + 1}", round(c, 1),
                                round(w, 1), self._modality))

    def remove_selected(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)

    def presets(self) -> list[UserPreset]:
        """The table's presets; raises ValueError naming the first bad row."""
        out = []
        for r in range(self.table.rowCount()):
            cells = [(self.table.item(r, c).text().strip() if self.table.item(r, c) else "")
                     for c in range(4)]
            try:
                center, width = float(cells[1]), float(cells[2])
            except ValueError:
                raise ValueError(f"Row {r + 1}: centre and width must be numbers") from None
            if not cells[0] or width <= 0:
                raise ValueError(f"Row {r + 1}: a preset needs a name and a positive width")
            out.append(UserPreset(cells[0], center, width, cells[3].upper()))
        return out

    def accept(self) -> None:
        try:
            presets = self.presets()
        except ValueError as exc:
            from viewer.ui.dialogs import show_error

            self.last_error = show_error(self, "Window presets", str(exc))
            return
        save_user_presets(self.q, presets)
        super().accept()

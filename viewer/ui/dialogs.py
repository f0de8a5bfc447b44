"""Small non-blocking dialogs: errors, About, keyboard shortcuts. All are opened with ``open()``
or ``show()`` so the event loop keeps running (loading continues behind them)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QMessageBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from viewer import __version__

ABOUT_TEXT = (
    "<h3>SliceWise {version}</h3>"
    "<p>DICOM viewer with background image classifiers explained by Grad-CAM and occlusion "
    "heat maps.</p>"
    "<p><b>Demo weights:</b> the bundled classifiers were trained on synthetic phantoms, not on "
    "patient data. Their outputs are for teaching and testing only and must not be used for "
    "diagnosis.</p>")


def show_error(parent: QWidget, title: str, text: str, details: str = "") -> QMessageBox:
    """A window-modal, non-blocking error box (returned so callers and tests can inspect it)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setInformativeText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def about_box(parent: QWidget) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, "About SliceWise",
                      ABOUT_TEXT.format(version=__version__), QMessageBox.StandardButton.Ok,
                      parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(action text, shortcuts) for every action that has a shortcut, in the given order."""
    rows = []
    for act in actions:
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in act.shortcuts()]
        keys = [k for k in keys if k]
        if keys:
            rows.append((act.text().replace("&", ""), ", ".join(keys)))
    return rows


class ShortcutsDialog(QDialog):
    """Table of the keyboard shortcuts, mouse bindings included."""

    MOUSE = [("Scroll slices", "Mouse wheel"), ("Zoom", "Ctrl + mouse wheel"),
             ("Pan", "Left or middle drag"), ("Window width / level", "Right drag (horizontal / "
                                                                       "vertical)"),
             ("Window presets menu", "Right click")]

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions) + self.MOUSE
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        for r, (text, keys) in enumerate(rows):
            table.setItem(r, 0, QTableWidgetItem(text))
            table.setItem(r, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(520, 560)

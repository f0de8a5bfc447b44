"""Small non-blocking dialogs: errors, About, keyboard shortcuts. All are opened with ``open()``
or ``show()`` so the event loop keeps running (loading continues behind them)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer import __version__

ABOUT_TEXT = (
    "<h3>SliceWise {version}</h3>"
    "<p>DICOM viewer with background image classifiers explained by Grad-CAM, HiResCAM and "
    "occlusion heat maps. Licence: BSD-3-Clause.</p>"
    "<p><b>Demo weights:</b> the bundled classifiers were trained on synthetic phantoms, not on "
    "patient data. Their outputs are for teaching and testing only and must not be used for "
    "diagnosis.</p>"
    "<p><b>Running on</b> {platform}</p>"
    "<p><b>Built with</b> (version, licence):</p><table>{libraries}</table>")
#: The libraries named in About, in the order a reader would look for them.
ABOUT_LIBRARIES = ("PySide6-Essentials", "pyqtgraph", "pydicom", "python-gdcm", "SimpleITK",
                   "pylibjpeg", "numpy", "matplotlib", "Pillow", "torch", "torchvision",
                   "safetensors", "nibabel", "platformdirs")


def library_rows(names: tuple[str, ...] = ABOUT_LIBRARIES) -> list[tuple[str, str, str]]:
    """(name, installed version, licence) of each library, from the installed packages'
    metadata (nothing is imported, so About never loads torch)."""
    from importlib import metadata

    rows = []
    for name in names:
        try:
            meta = metadata.metadata(name)
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed", ""))
            continue
        licence = (meta.get("License-Expression") or "").strip()
        if not licence:
            classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                           if c.startswith("License ::")]
            licence = ", ".join(classifiers) or (meta.get("License") or "").strip()[:40]
        rows.append((name, meta.get("Version", "?"), licence or "see the package"))
    return rows


def show_error(parent: QWidget, title: str, text: str, details: str = "") -> QMessageBox:
    """A window-modal, non-blocking error box (returned so callers and tests can inspect it)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setInformativeText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def about_text() -> str:
    """The About text: version, platform (Python, Qt) and each library's version and licence."""
    import platform

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    libs = "".join(f"<tr><td>{n}</td><td>&nbsp;{v}</td><td>&nbsp;{lic}</td></tr>"
                   for n, v, lic in library_rows())
    where = (f"Python {platform.python_version()}, Qt {qVersion()} (PySide6 {pyside_version}), "
             f"{platform.system()} {platform.machine()}")
    return ABOUT_TEXT.format(version=__version__, platform=where, libraries=libs)


def about_box(parent: QWidget) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, "About SliceWise", about_text(),
                      QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def action_group(act: QAction) -> str:
    """The menu an action lives in ("File", "View", "AI", ...), "Image view" for view keys."""
    for obj in act.associatedObjects():
        if isinstance(obj, QMenu) and obj.title():
            return obj.title().replace("&", "")
    return "Image view"


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str, str]]:
    """(action text, shortcuts, group) for every action that has a shortcut, grouped by menu
    in the order the groups first appear."""
    rows = []
    for act in actions:
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in act.shortcuts()]
        keys = [k for k in keys if k]
        if keys:
            rows.append((act.text().replace("&", ""), ", ".join(keys), action_group(act)))
    order = {g: n for n, g in enumerate(dict.fromkeys(r[2] for r in rows))}
    return sorted(rows, key=lambda r: order[r[2]])


class ShortcutsDialog(QDialog):
    """Table of the keyboard shortcuts grouped by menu, mouse bindings included, with a search
    box that filters actions, keys and groups as the reader types."""

    MOUSE = [("Scroll slices", "Mouse wheel"), ("Zoom", "Ctrl + mouse wheel"),
             ("Pan", "Left or middle drag"), ("Window width / level", "Right drag (horizontal / "
                                                                       "vertical)"),
             ("Window presets menu", "Right click")]

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions) + [(t, k, "Mouse") for t, k in self.MOUSE]
        table = QTableWidget(len(rows), 3)
        table.setHorizontalHeaderLabels(["Action", "Keys", "Group"])
        for r, (text, keys, group) in enumerate(rows):
            for c, value in enumerate((text, keys, group)):
                table.setItem(r, c, QTableWidgetItem(value))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search actions or keys (e.g. opacity, Ctrl+E)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(620, 600)

    def _on_search_text_changed(self, text: str) -> None:
        words = text.lower().split()
        for r in range(self.table.rowCount()):
            row = " ".join(self.table.item(r, c).text().lower() for c in range(3))
            self.table.setRowHidden(r, not all(w in row for w in words))

    def visible_actions(self) -> list[str]:
        """Action texts of the rows the search leaves visible."""
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                if not self.table.isRowHidden(r)]

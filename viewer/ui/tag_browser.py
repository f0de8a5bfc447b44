"""DICOM tag browser: the header of the current slice's file as a tree (sequences nested), with a
search box filtering tag, keyword and value. Identifying values are hidden when anonymised."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from viewer.state.viewer_state import HIDDEN

COLUMNS = ("Tag", "Keyword", "VR", "Value")


class TagBrowser(QWidget):
    """Tree of TagRow records with a filter box; ``set_rows`` fills it, ``set_filter`` filters."""

    filter_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by tag, keyword or value (e.g. 0028 or Spacing)")
        self.search.setClearButtonEnabled(True)
        self.source = QLabel("No file")
        self.source.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.source)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        self._rows: list = []
        self._anonymise = False
        self.search.textChanged.connect(self._on_search_text_changed)

    def set_rows(self, rows: list, source: str = "") -> None:
        """Show ``rows`` (TagRow list in file order, ``depth`` = sequence nesting)."""
        self._rows = list(rows)
        self.source.setText(source or "No file")
        self.source.setToolTip(source)
        self._rebuild()

    def set_message(self, text: str) -> None:
        """Replace the tree with a one-line message (e.g. reading failed)."""
        self._rows = []
        self.tree.clear()
        self.source.setText(text)

    def set_anonymise(self, on: bool) -> None:
        self._anonymise = on
        self._rebuild()

    def set_filter(self, text: str) -> None:
        self.search.setText(text)

    def visible_rows(self) -> list[tuple[str, str, str, str]]:
        """(tag, keyword, vr, value) of every row not hidden by the filter, in order."""
        out = []

        def walk(item: QTreeWidgetItem) -> None:
            for n in range(item.childCount()):
                child = item.child(n)
                if not child.isHidden():
                    out.append(tuple(child.text(c) for c in range(4)))
                    walk(child)

        walk(self.tree.invisibleRootItem())
        return out

    def _rebuild(self) -> None:
        self.tree.clear()
        parents: list[QTreeWidgetItem] = []
        for row in self._rows:
            value = HIDDEN if (self._anonymise and row.is_identifying and row.value) else row.value
            item = QTreeWidgetItem([row.tag, row.keyword, row.vr, value])
            item.setToolTip(3, value)
            depth = min(row.depth, len(parents))
            del parents[depth:]
            (parents[-1] if parents else self.tree.invisibleRootItem()).addChild(item)
            parents.append(item)
        self.tree.expandAll()
        for c in range(3):
            self.tree.resizeColumnToContents(c)
        self.tree.setColumnWidth(1, min(self.tree.columnWidth(1), 190))
        self._apply_filter(self.search.text())

    def _on_search_text_changed(self, text: str) -> None:
        self._apply_filter(text)
        self.filter_changed.emit(text)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()

        def visit(item: QTreeWidgetItem) -> bool:
            own = not needle or any(needle in item.text(c).lower() for c in range(4))
            child_match = False
            for n in range(item.childCount()):
                child_match = visit(item.child(n)) or child_match
            show = own or child_match
            item.setHidden(not show)
            return show

        root = self.tree.invisibleRootItem()
        for n in range(root.childCount()):
            visit(root.child(n))

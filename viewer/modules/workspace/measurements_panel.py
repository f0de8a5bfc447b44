"""MeasurementsPanel: the table of a workspace's measurements (number, type, value, plane,
label). The label is editable, Delete removes the selected rows, "Delete all" empties the
store, and a double click asks to go to a measurement. It shows and edits a
:class:`~viewer.modules.workspace.measurements.MeasurementStore`; values are the
:class:`~viewer.core.measurements.Measurement` texts (mm, degrees, mm², volume units).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.core.measurements import Measurement
from viewer.modules.workspace.measurements import MeasurementStore


class MeasurementsPanel(QWidget):
    """Table of measurements: label editable, Delete removes, double click goes there.

    Signal: ``go_requested(object)`` with the Measurement to navigate to.
    """

    go_requested = Signal(object)
    COLUMNS = ("#", "Type", "Value", "Plane", "Slice", "Label")
    LABEL = COLUMNS.index("Label")

    def __init__(self, store: MeasurementStore, parent: QWidget | None = None,
                 slice_of: Callable[[Measurement], str] | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.slice_of = slice_of or (lambda m: "")  # "12/40": where the measurement lies
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.delete_button = QPushButton("Delete")
        self.delete_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_button.clicked.connect(self.delete_selected)
        self.clear_button = QPushButton("Delete all")
        self.clear_button.clicked.connect(lambda: store.set_all([]))
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addWidget(self.table)
        box.addLayout(buttons)
        self._filling = False
        store.changed.connect(self.refresh)
        self.table.itemChanged.connect(self._on_table_item_changed)
        self.table.cellDoubleClicked.connect(self._on_table_cell_double_clicked)
        self.refresh()

    def refresh(self) -> None:
        self._filling = True
        items = self.store.ordered()
        self.table.setRowCount(len(items))
        for r, m in enumerate(items):
            for c, text in enumerate((str(m.id), m.kind, m.text(), m.plane, self.slice_of(m),
                                      m.label)):
                cell = QTableWidgetItem(text)
                if c != self.LABEL:
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                cell.setData(Qt.ItemDataRole.UserRole, m.id)
                self.table.setItem(r, c, cell)
        self.table.resizeColumnsToContents()
        self._filling = False

    def delete_selected(self) -> None:
        ids = {self.table.item(i.row(), 0).data(Qt.ItemDataRole.UserRole)
               for i in self.table.selectedIndexes()}
        for mid in ids:
            self.store.remove(mid)

    def _on_table_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != self.LABEL:
            return
        mid = item.data(Qt.ItemDataRole.UserRole)
        if mid in self.store.items:
            self.store.update(replace(self.store.items[mid], label=item.text()))

    def _on_table_cell_double_clicked(self, row: int, column: int) -> None:
        if column == self.LABEL:
            return
        mid = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if mid in self.store.items:
            self.go_requested.emit(self.store.items[mid])

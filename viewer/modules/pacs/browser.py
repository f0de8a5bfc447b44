"""The PACS browser window's widgets: server choice and "Test connection", the study search
form, the study list (expanding to series with their image counts), retrieve with progress and
cancel. It only shows and asks; :class:`viewer.modules.pacs.controller.PacsController` does
the work. Patient name, ID, birth date and accession number are hidden while the anonymised
display is on.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.io.pacs.query import SeriesRecord, StudyQuery, StudyRecord
from viewer.state.viewer_state import display_name

MODALITIES = ("", "CT", "MR", "CR", "DX", "US", "PT", "NM", "XA", "MG", "SEG", "SR", "OT")
COLUMNS = ("Patient", "Patient ID", "Date", "Modality", "Description", "Accession", "Series",
           "Images")
UID_ROLE = Qt.ItemDataRole.UserRole


def _count(n: int | None) -> str:
    return "?" if n is None else str(n)


class PacsBrowser(QDialog):
    """Query/retrieve window. Signals: ``echo_requested()``, ``search_requested(StudyQuery)``,
    ``series_requested(str study_uid)``, ``retrieve_requested(str study_uid, list series_uids
    or None)``, ``cancel_requested()``."""

    echo_requested = Signal()
    search_requested = Signal(object)
    series_requested = Signal(str)
    retrieve_requested = Signal(str, object)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Query PACS")
        self.setObjectName("pacs-browser")
        self.resize(960, 560)
        self.anonymise = False
        self._studies: dict[str, StudyRecord] = {}
        self.server = QComboBox()
        self.server.setEditable(True)
        self.server.setToolTip("A configured server, or a URL: http(s)://host:port/dicom-web "
                               "or dicom://AET@host:port")
        self.server.lineEdit().setPlaceholderText("server name or URL")
        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.echo_requested)
        self.patient_name, self.patient_id = QLineEdit(), QLineEdit()
        self.date_from, self.date_to = QLineEdit(), QLineEdit()
        for w in (self.date_from, self.date_to):
            w.setPlaceholderText("YYYYMMDD")
            w.setMaxLength(10)
        self.modality = QComboBox()
        self.modality.addItems([m or "any" for m in MODALITIES])
        self.accession, self.description = QLineEdit(), QLineEdit()
        self.patient_name.setPlaceholderText("e.g. DOE (prefix) or *JANE*")
        self.search_button = QPushButton("&Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self._on_search_clicked)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.itemExpanded.connect(self._on_tree_item_expanded)
        self.tree.itemDoubleClicked.connect(lambda *_: self._on_retrieve_clicked())
        self.retrieve_button = QPushButton("&Retrieve and open")
        self.retrieve_button.clicked.connect(self._on_retrieve_clicked)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("&Server:", buddy=self.server))
        top.addWidget(self.server, 1)
        top.addWidget(self.test_button)
        form = QGridLayout()
        left, right = QFormLayout(), QFormLayout()
        left.addRow("Patient &name:", self.patient_name)
        left.addRow("Patient &ID:", self.patient_id)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.date_to)
        left.addRow("Study &date:", dates)
        right.addRow("&Modality:", self.modality)
        right.addRow("&Accession:", self.accession)
        right.addRow("Descri&ption:", self.description)
        form.addLayout(left, 0, 0)
        form.addLayout(right, 0, 1)
        form.addWidget(self.search_button, 1, 1, Qt.AlignmentFlag.AlignRight)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.retrieve_button)
        bottom.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(form)
        lay.addWidget(self.tree, 1)
        lay.addLayout(bottom)
        lay.addWidget(self.status)

    # -- what the reader asked --------------------------------------------------------------
    def set_servers(self, names: list[str]) -> None:
        current = self.server.currentText()
        self.server.clear()
        self.server.addItems(names)
        if current:
            self.server.setCurrentText(current)

    def server_text(self) -> str:
        return self.server.currentText().strip()

    def query(self) -> StudyQuery:
        """The form as a query (dates: FROM-TO as typed; validated by the controller)."""
        lo, hi = self.date_from.text().strip(), self.date_to.text().strip()
        date = f"{lo}-{hi}" if (lo or hi) and lo != hi else lo
        modality = MODALITIES[self.modality.currentIndex()]
        return StudyQuery(patient_name=self.patient_name.text(), patient_id=self.patient_id.text(),
                          date=date, modality=modality, accession=self.accession.text(),
                          description=self.description.text())

    def _on_search_clicked(self) -> None:
        self.search_requested.emit(self.query())

    def selection(self) -> tuple[str, list[str] | None] | None:
        """(study UID, series UIDs or None for the whole study) of the selected rows."""
        items = self.tree.selectedItems() or ([self.tree.currentItem()]
                                              if self.tree.currentItem() else [])
        if not items:
            return None
        first = items[0]
        study_item = first.parent() or first
        study_uid = study_item.data(0, UID_ROLE)
        series = [i.data(0, UID_ROLE) for i in items
                  if i.parent() is study_item and i.data(0, UID_ROLE)]
        whole = any(i is study_item for i in items)
        return study_uid, (None if whole or not series else series)

    def _on_retrieve_clicked(self) -> None:
        chosen = self.selection()
        if chosen is None:
            self.show_status("Select a study or some of its series first.")
            return
        self.retrieve_requested.emit(*chosen)

    def _on_tree_item_expanded(self, item: QTreeWidgetItem) -> None:
        if item.parent() is None and item.data(1, UID_ROLE) == "unloaded":
            item.setData(1, UID_ROLE, "loading")
            self.series_requested.emit(item.data(0, UID_ROLE))

    # -- what the controller shows ----------------------------------------------------------
    def show_studies(self, studies: list[StudyRecord]) -> None:
        self.tree.clear()
        self._studies = {s.study_uid: s for s in studies}
        for study in studies:
            item = QTreeWidgetItem()
            item.setData(0, UID_ROLE, study.study_uid)
            item.setData(1, UID_ROLE, "unloaded")
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            self.tree.addTopLevelItem(item)
            self._fill_study(item, study)
        for col in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(col)
        n = len(studies)
        self.show_status(f"{n} stud{'y' if n == 1 else 'ies'} found." if n else
                         "No study matches these filters.")

    def _fill_study(self, item: QTreeWidgetItem, s: StudyRecord) -> None:
        hide = self.anonymise
        values = (display_name(s.patient.name.replace("^", " ").strip(), hide),
                  display_name(s.patient.patient_id, hide), s.date, "/".join(s.modalities),
                  s.description, display_name(s.accession, hide), _count(s.n_series),
                  _count(s.n_instances))
        for col, text in enumerate(values):
            item.setText(col, text)

    def show_series(self, study_uid: str, series: list[SeriesRecord]) -> None:
        item = self._study_item(study_uid)
        if item is None:
            return
        item.takeChildren()
        item.setData(1, UID_ROLE, "loaded")
        for s in series:
            child = QTreeWidgetItem(item)
            child.setData(0, UID_ROLE, s.series_uid)
            child.setText(0, f"Series {s.number if s.number is not None else '-'}")
            child.setText(3, s.modality)
            child.setText(4, s.description or "(no description)")
            child.setText(7, _count(s.n_instances))
        item.setExpanded(True)

    def _study_item(self, study_uid: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, UID_ROLE) == study_uid:
                return item
        return None

    def set_anonymise(self, on: bool) -> None:
        self.anonymise = on
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            study = self._studies.get(item.data(0, UID_ROLE))
            if study is not None:
                self._fill_study(item, study)

    def set_busy(self, retrieving: bool) -> None:
        self.cancel_button.setEnabled(retrieving)
        self.retrieve_button.setEnabled(not retrieving)
        self.progress.setVisible(retrieving)
        if retrieving:
            self.progress.setRange(0, 0)

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total} images")

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

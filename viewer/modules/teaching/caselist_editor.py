""""Add current slice to case list": a dialog that turns the slice on screen into a teaching case
(question, answer options, true label, notes, model) and names the case-list file it goes to.

The dialog validates as the teacher types (the same rules as loading a list, messages inline) and
returns a :class:`~viewer.modules.teaching.caselist.Case`; writing the file is the caller's job.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from viewer.modules.teaching.caselist import Case, parse_case


class AddCaseDialog(QDialog):
    """Fields of a new case for ``study`` / ``series`` at 1-based ``slice_number`` of
    ``n_slices``. :meth:`case` gives the Case, :meth:`list_path` the chosen list file."""

    def __init__(self, study: str, series: str, slice_number: int, n_slices: int, *,
                 list_path: str = "", case_id: str = "", models: Sequence[str] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add current slice to case list")
        self.setMinimumWidth(520)
        self._study, self._series = study, series
        form = QFormLayout(self)
        self.list_edit = QLineEdit(list_path)
        self.list_edit.setPlaceholderText("cases.json or cases.csv")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.list_edit, 1)
        row.addWidget(browse)
        form.addRow("Case list file:", row)
        form.addRow("Study:", QLabel(study))
        self.id_edit = QLineEdit(case_id)
        form.addRow("Case id:", self.id_edit)
        self.slice_spin = QSpinBox()
        self.slice_spin.setRange(1, max(1, n_slices))
        self.slice_spin.setValue(slice_number)
        form.addRow("Key slice:", self.slice_spin)
        self.range_lo, self.range_hi = QSpinBox(), QSpinBox()
        for spin in (self.range_lo, self.range_hi):
            spin.setRange(0, max(1, n_slices))
            spin.setSpecialValueText("whole series")
            spin.setValue(0)
        rr = QHBoxLayout()
        rr.addWidget(self.range_lo)
        rr.addWidget(QLabel("to"))
        rr.addWidget(self.range_hi)
        form.addRow("Slices the reader may scroll:", rr)
        self.question_edit = QLineEdit()
        self.question_edit.setPlaceholderText("e.g. Is there a ring-enhancing tumour?")
        form.addRow("Question:", self.question_edit)
        self.options_edit = QLineEdit()
        self.options_edit.setPlaceholderText("answer options separated by | (2 to 9)")
        form.addRow("Answer options:", self.options_edit)
        self.truth_box = QComboBox()
        form.addRow("True answer:", self.truth_box)
        self.model_box = QComboBox()
        self.model_box.setEditable(True)
        self.model_box.addItems(["", *models])
        form.addRow("Model revealed after the answer:", self.model_box)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText("Teaching notes shown when the case is finished")
        self.notes_edit.setMaximumHeight(90)
        form.addRow("Notes:", self.notes_edit)
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b00020;")
        form.addRow(self.problem_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        for edit in (self.list_edit, self.id_edit, self.question_edit):
            edit.textChanged.connect(self._validate)
        self.options_edit.textChanged.connect(self._on_options_changed)
        self.truth_box.currentIndexChanged.connect(self._validate)
        for spin in (self.slice_spin, self.range_lo, self.range_hi):
            spin.valueChanged.connect(self._validate)
        self._validate()

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Case list file", self.list_edit.text(),
                                              "Case lists (*.json *.csv)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.list_edit.setText(path)

    def _on_options_changed(self) -> None:
        current = self.truth_box.currentText()
        self.truth_box.blockSignals(True)
        self.truth_box.clear()
        self.truth_box.addItems(self.options())
        if current in self.options():
            self.truth_box.setCurrentText(current)
        self.truth_box.blockSignals(False)
        self._validate()

    def options(self) -> list[str]:
        return [o.strip() for o in self.options_edit.text().split("|") if o.strip()]

    def raw(self) -> dict[str, object]:
        """The fields as a raw case (the case-list format)."""
        lo, hi = self.range_lo.value(), self.range_hi.value()
        return {"id": self.id_edit.text().strip(), "study": self._study, "series": self._series,
                "slice": self.slice_spin.value(), "range": [lo, hi] if lo and hi else None,
                "question": self.question_edit.text(), "options": self.options(),
                "truth": self.truth_box.currentText(), "notes": self.notes_edit.toPlainText(),
                "model": self.model_box.currentText().strip()}

    def _validate(self) -> None:
        problems = []
        path = self.list_edit.text().strip()
        if not path:
            problems.append("choose the case-list file (.json or .csv)")
        elif Path(path).suffix.lower() not in (".json", ".csv"):
            problems.append("the case-list file must end in .json or .csv")
        try:
            parse_case(self.raw(), None, check_files=False)
        except ValueError as exc:
            problems.append(str(exc))
        self.problem_label.setText("; ".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)

    def case(self) -> Case:
        """The new case (call after the dialog was accepted)."""
        return parse_case(self.raw(), None, check_files=False)

    def list_path(self) -> Path:
        return Path(self.list_edit.text().strip()).expanduser()

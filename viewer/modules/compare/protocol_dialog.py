"""ProtocolDialog: the reader's hanging-protocol rules as JSON text, checked before saving."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from viewer.modules.compare import protocols as hp

HELP = ("Rules are tried first to last, before the built-in ones. Each: name, modality (\"\" any), "
        "words (any in body part / descriptions), layout (1, 1x3, 2x2, conventional, compare), "
        "slots [{pattern: regular expression on the series description, orientation}], window "
        "(preset name).")


class ProtocolDialog(QDialog):
    """Edit ``rules``; on OK, :attr:`rules` holds the parsed rules (a bad rule keeps the dialog
    open and says what is wrong)."""

    def __init__(self, rules: list[hp.Protocol], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hanging protocols")
        self.rules = list(rules)
        self.editor = QPlainTextEdit(hp.rules_to_json(rules or hp.DEFAULTS[:1]))
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c33;")
        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(help_label)
        box.addWidget(self.editor, 1)
        box.addWidget(self.error)
        box.addWidget(buttons)
        self.resize(640, 480)

    def accept(self) -> None:
        try:
            self.rules = hp.rules_from_json(self.editor.toPlainText())
        except Exception as exc:  # JSON, regular expression or layout errors alike
            self.error.setText(f"Not saved: {exc}")
            return
        super().accept()

"""Study information box: patient, study and current-series facts; identifying fields hidden in
the anonymised display."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QWidget

from viewer.io.records import Volume
from viewer.state.viewer_state import display_name

FIELDS = ("Patient", "Patient ID", "Birth date", "Sex", "Study", "Series", "Modality",
          "Images", "Matrix", "Spacing", "Orientation")


def _date(value: str) -> str:
    """DICOM DA "19700131" -> "1970-01-31"."""
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value


class StudyInfoBox(QGroupBox):
    """Form of study facts for the current volume."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Study information", parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.labels: dict[str, QLabel] = {}
        for name in FIELDS:
            label = QLabel("—")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            form.addRow(f"{name}:", label)
            self.labels[name] = label
        self._volume: Volume | None = None
        self._anonymise = False

    def set_volume(self, volume: Volume | None) -> None:
        self._volume = volume
        self._refresh()

    def set_anonymise(self, on: bool) -> None:
        self._anonymise = on
        self._refresh()

    def text(self) -> str:
        """All fields as "Name: value" lines (for tests and copying)."""
        return "\n".join(f"{k}: {v.text()}" for k, v in self.labels.items())

    def _refresh(self) -> None:
        v, anon = self._volume, self._anonymise
        if v is None:
            for label in self.labels.values():
                label.setText("—")
            return
        z, y, x = v.shape
        values = {
            "Patient": display_name(v.patient.name.replace("^", " ").strip(), anon),
            "Patient ID": display_name(v.patient.patient_id, anon),
            "Birth date": display_name(_date(v.patient.birth_date), anon),
            "Sex": v.patient.sex,
            "Study": v.study_description,
            "Series": v.description,
            "Modality": v.modality + (" (colour)" if v.is_rgb else ""),
            "Images": str(z),
            "Matrix": f"{x} × {y}",
            "Spacing": f"{v.spacing[2]:.3g} × {v.spacing[1]:.3g} × {v.spacing[0]:.3g} mm",
            "Orientation": v.orientation,
        }
        for name, value in values.items():
            self.labels[name].setText(value or "—")

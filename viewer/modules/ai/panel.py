"""The inference module of the left panel: model picker with model card and demo badge, run and
cancel with progress, class probabilities, knee exam results, overlay controls and device.

A result outside the model's domain is never shown as a confident call: the panel says
"Outside this model's domain: <reasons>", greys the probability bars, and the heat map stays
hidden until the reader presses "Show map anyway" (Shift+O). Models that do not fit the series on
screen are listed as "not for this series: <reason>" (still choosable).

Bound to an AiState (reads choices and results from it); run, cancel and device requests leave
as signals for the controller. Never imports torch: of inference it reads only the torch-free
records of ``inference.results``.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from inference.results import Prediction
from viewer.modules.ai.overlay_controls import OverlayControls
from viewer.modules.ai.panel_text import card_html, domain_text, knee_html
from viewer.modules.ai.state import DEVICES, AiState, KneeResult, ModelCard

DEMO_BADGE = "DEMO WEIGHTS — NOT FOR CLINICAL USE"
SHOW_ANYWAY_KEY = "Shift+O"
NOTICE_STYLE = ("QLabel { background: #5a4a1a; color: #ffe9a8; padding: 4px; border-radius: 3px;"
                " border: 1px solid #d0a030; }")
MUTED_STYLE = ("QProgressBar { color: #8a8a8a; } QProgressBar::chunk { background: #6a6a6a; }")


class ProbabilityBars(QWidget):
    """One labelled bar per class (0-100 %), the predicted class in bold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, QProgressBar] = {}
        self.labels: dict[str, QLabel] = {}

    def set_probabilities(self, probs: dict[str, float], predicted: str = "") -> None:
        if list(probs) != list(self.bars):
            for w in list(self.bars.values()) + list(self.labels.values()):
                self.grid.removeWidget(w)
                w.deleteLater()
            self.bars, self.labels = {}, {}
            for row, name in enumerate(probs):
                label, bar = QLabel(name), QProgressBar()
                bar.setRange(0, 1000)
                bar.setFormat("%p%")
                bar.setMaximumHeight(16)
                self.grid.addWidget(label, row, 0)
                self.grid.addWidget(bar, row, 1)
                self.labels[name], self.bars[name] = label, bar
        for name, p in probs.items():
            self.bars[name].setValue(round(float(p) * 1000))
            self.bars[name].setFormat(f"{p:.1%}")
            font = self.labels[name].font()
            font.setBold(name == predicted)
            self.labels[name].setFont(font)

    def values(self) -> dict[str, float]:
        return {n: b.value() / 1000.0 for n, b in self.bars.items()}

    def set_muted(self, muted: bool) -> None:
        """Grey the bars (a result outside the model's domain: no valid call)."""
        for name, bar in self.bars.items():
            bar.setEnabled(not muted)
            bar.setStyleSheet(MUTED_STYLE if muted else "")
            self.labels[name].setEnabled(not muted)
            if muted:
                font = self.labels[name].font()
                font.setBold(False)
                self.labels[name].setFont(font)

    def muted(self) -> bool:
        return any(not b.isEnabled() for b in self.bars.values())


class InferencePanel(QScrollArea):
    """Signals: ``run_slice_requested()``, ``run_series_requested()``, ``cancel_requested()``,
    ``device_chosen(str)`` ("auto", "cpu", "cuda", "mps"), ``show_anyway_requested()`` (the
    reader wants to see, or hide again, the maps of an out-of-domain result)."""

    show_anyway_requested = Signal()
    run_slice_requested = Signal()
    run_series_requested = Signal()
    cancel_requested = Signal()
    device_chosen = Signal(str)

    def __init__(self, ai: AiState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ai = ai
        self._unfit: dict[str, tuple[str, ...]] = {}
        self._shown: Prediction | None = None   # the prediction the Result box shows
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.setWidget(body)
        box = QVBoxLayout(body)
        box.setContentsMargins(6, 6, 6, 6)
        self.model_box = QComboBox()
        self.model_box.setAccessibleName("Model")
        self.model_box.addItem("Looking for models…")
        self.model_box.setEnabled(False)
        form = QFormLayout()
        form.addRow("Mo&del", self.model_box)
        box.addLayout(form)
        self.badge = QLabel(DEMO_BADGE)
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setWordWrap(True)
        self.badge.setAccessibleName("Demo weights warning")
        self.badge.setStyleSheet("QLabel { background: #b3261e; color: white; font-weight: bold;"
                                 " padding: 3px; border-radius: 3px; }")
        self.badge.hide()
        box.addWidget(self.badge)
        self.card_label = QLabel()
        self.card_label.setWordWrap(True)
        self.card_label.setTextFormat(Qt.TextFormat.RichText)
        box.addWidget(self.card_label)
        buttons = QHBoxLayout()
        self.run_slice_button = QPushButton("Run on this slice")
        self.run_slice_button.setToolTip("Ctrl+Return: classify and explain the slice on screen; "
                                         "the maps then follow as you scroll")
        self.run_series_button = QPushButton("Run on series")
        self.run_series_button.setToolTip("Ctrl+Shift+Return: probability of every slice")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Ctrl+. : stop the running classifier jobs")
        for b in (self.run_slice_button, self.run_series_button):
            buttons.addWidget(b)
        box.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(18)
        self.progress.setTextVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        box.addLayout(row)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        box.addWidget(self.status_label)
        result = QGroupBox("Result")
        rbox = QVBoxLayout(result)
        self.predicted_label = QLabel("No result yet")
        self.predicted_label.setWordWrap(True)
        rbox.addWidget(self.predicted_label)
        self.domain_label = QLabel()
        self.domain_label.setWordWrap(True)
        self.domain_label.setAccessibleName("Outside this model's domain")
        self.domain_label.setStyleSheet(NOTICE_STYLE)
        self.domain_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.domain_label.hide()
        rbox.addWidget(self.domain_label)
        self.show_anyway_button = QPushButton("Show map anyway")
        self.show_anyway_button.setCheckable(True)
        self.show_anyway_button.setToolTip(
            f"{SHOW_ANYWAY_KEY}: show the heat map of this out-of-domain result (for this series "
            "and model); the call stays marked as outside the model's domain")
        self.show_anyway_button.hide()
        rbox.addWidget(self.show_anyway_button)
        self.bars = ProbabilityBars()
        rbox.addWidget(self.bars)
        self.knee_label = QLabel()
        self.knee_label.setWordWrap(True)
        self.knee_label.setTextFormat(Qt.TextFormat.RichText)
        self.knee_label.hide()
        rbox.addWidget(self.knee_label)
        self.warnings_label = QLabel()
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setStyleSheet("color: #d08a00;")
        rbox.addWidget(self.warnings_label)
        box.addWidget(result)
        overlay = QGroupBox("Overlay")
        obox = QVBoxLayout(overlay)
        self.controls = OverlayControls(ai)
        obox.addWidget(self.controls)
        box.addWidget(overlay)
        device = QGroupBox("Device")
        dform = QFormLayout(device)
        self.device_box = QComboBox()
        self.device_box.addItems(list(DEVICES))
        self.device_box.setAccessibleName("Device")
        self.device_label = QLabel("…")
        self.device_label.setWordWrap(True)
        dform.addRow("&Run on", self.device_box)
        dform.addRow("In use", self.device_label)
        box.addWidget(device)
        box.addStretch(1)
        self.model_box.currentIndexChanged.connect(self._on_model_box_changed)
        self.run_slice_button.clicked.connect(self.run_slice_requested)
        self.run_series_button.clicked.connect(self.run_series_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.show_anyway_button.clicked.connect(lambda _c: self.show_anyway_requested.emit())
        ai.shown_anyway_changed.connect(lambda _on: self._refresh_domain())
        self.device_box.currentTextChanged.connect(self.device_chosen)
        ai.models_listed.connect(self._on_ai_models_listed)
        ai.model_changed.connect(self._on_ai_model_changed)
        ai.prediction_changed.connect(self._on_ai_prediction_changed)
        ai.knee_changed.connect(self._on_ai_knee_changed)
        ai.status_changed.connect(self.status_label.setText)
        self.set_busy(False)

    # -- public ------------------------------------------------------------------------------
    def set_busy(self, busy: bool, done: int = 0, total: int = 0) -> None:
        """Show progress (``total`` 0 = indeterminate) and enable Cancel while jobs run."""
        self.cancel_button.setEnabled(busy)
        self.progress.setEnabled(busy)
        self.progress.setRange(0, total if total > 0 else 0)
        if total > 0:
            self.progress.setValue(done)
            self.progress.setFormat("%v / %m slices")
            self.progress.setTextVisible(True)
        elif not busy:   # idle: an empty bar, not "0 / 1 slices"
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setTextVisible(False)

    def set_device(self, choice: str, description: str) -> None:
        self.device_box.blockSignals(True)
        self.device_box.setCurrentText(choice)
        self.device_box.blockSignals(False)
        self.device_label.setText(description)

    # -- reactions ---------------------------------------------------------------------------
    def set_unfit(self, unfit: dict[str, tuple[str, ...]]) -> None:
        """Mark in the picker the models that do not fit the series on screen: {model: reasons}
        (empty reasons = fits). They stay choosable."""
        self._unfit = {k: tuple(v) for k, v in unfit.items() if v}
        for i in range(self.model_box.count()):
            name = self.model_box.itemData(i)
            card = self.ai.models.get(name) if isinstance(name, str) else None
            if card is None:
                continue
            self.model_box.setItemText(i, self._item_text(card))
            why = self._unfit.get(name)
            self.model_box.setItemData(i, ("Not for this series: " + "; ".join(why)) if why
                                       else domain_text(card), Qt.ItemDataRole.ToolTipRole)

    def unfit_text(self, name: str) -> str:
        """The picker's text of model ``name`` ("" when it is not listed)."""
        i = self.model_box.findData(name)
        return self.model_box.itemText(i) if i >= 0 else ""

    def _item_text(self, card: ModelCard) -> str:
        why = self._unfit.get(card.name)
        return (f"{card.name} — not for this series: {why[0]}" if why
                else f"{card.name} — {card.task}")

    def _on_ai_models_listed(self, cards: tuple[ModelCard, ...]) -> None:
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for c in cards:
            self.model_box.addItem(self._item_text(c), c.name)
        if not cards:
            self.model_box.addItem("No models installed")
        self.model_box.setEnabled(bool(cards))
        self.model_box.setCurrentIndex(max(0, self.model_box.findData(self.ai.model)))
        self.model_box.blockSignals(False)
        self._on_ai_model_changed(self.ai.model)

    def _on_model_box_changed(self, _index: int) -> None:
        name = self.model_box.currentData()
        if isinstance(name, str):
            self.ai.set_model(name)

    def _on_ai_model_changed(self, name: str) -> None:
        card = self.ai.card
        self.model_box.blockSignals(True)
        self.model_box.setCurrentIndex(max(0, self.model_box.findData(name)))
        self.model_box.blockSignals(False)
        self.badge.setVisible(bool(card and card.demo))
        self.card_label.setText(card_html(card) if card else "")
        exam = bool(card and card.level == "exam")
        self.run_slice_button.setText("Run on exam" if exam else "Run on this slice")
        self.run_series_button.setEnabled(bool(card) and not exam)
        self.run_slice_button.setEnabled(bool(card))

    def _on_ai_prediction_changed(self, pred: Prediction | None) -> None:
        self._shown = pred
        if pred is None:
            self.predicted_label.setText("No result for this slice yet")
            self.bars.set_probabilities({})
            self.warnings_label.setText("")
            self._refresh_domain()
            return
        what = "Exam call" if pred.per_plane else "Predicted"
        demo = "  (demo weights)" if pred.demo else ""
        if pred.applicable:
            self.predicted_label.setText(f"<b>{what}: {html.escape(pred.predicted)}</b>{demo}")
        else:
            self.predicted_label.setText(
                f"<b>No valid call</b> — the model's output ({html.escape(pred.predicted)}) "
                f"is shown greyed and must not be read as a finding{demo}")
        self.bars.set_probabilities(pred.probabilities, pred.predicted if pred.applicable else "")
        self.bars.set_muted(not pred.applicable)
        self.warnings_label.setText("\n".join(f"⚠ {w}" for w in pred.warnings))
        self._refresh_domain()

    def _refresh_domain(self) -> None:
        """The out-of-domain notice and the Show anyway button of the result on screen."""
        pred = self._shown
        out = pred is not None and not pred.applicable
        self.domain_label.setVisible(out)
        self.show_anyway_button.setVisible(out)
        if not out:
            return
        summary = pred.applicability.summary if pred.applicability else ""
        shown = self.ai.shown_anyway
        tail = ("Heat map shown anyway: it explains an output the model is not fit to give."
                if shown else f"Heat map hidden; {SHOW_ANYWAY_KEY} or the button shows it anyway.")
        self.domain_label.setText(f"⚠ {summary}\n{tail}")
        self.show_anyway_button.blockSignals(True)
        self.show_anyway_button.setChecked(shown)
        self.show_anyway_button.blockSignals(False)
        self.show_anyway_button.setText("Hide map again" if shown else "Show map anyway")

    def _on_ai_knee_changed(self, knee: KneeResult | None) -> None:
        if knee is None:
            self.knee_label.hide()
            return
        card = self.ai.card
        self.knee_label.setText(knee_html(knee, card.metrics if card and card.name == knee.model else {}))
        self.knee_label.show()
        self._on_ai_prediction_changed(knee.prediction)

"""Overlay controls of the inference module: method (Grad-CAM, HiResCAM, occlusion, both side by
side), target class, opacity, colormap, threshold, colour bar, and beside each final map its
quality scores: deletion score and "x times better than random" (5 random smooth maps), pointing
game where a mask is known. Bound to an AiState."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QWidget,
)

from viewer.core.overlay import display_range, map_strength
from viewer.modules.ai.state import (
    COLORMAPS,
    MAP_METHODS,
    METHOD_NAMES,
    METHODS,
    PREDICTED,
    AiState,
    MapResult,
)
from viewer.ui.views.colour_bar import ColourBar


def vs_random_text(result: MapResult) -> str:
    """"3.2 × better than random: deleting what it marks takes 3.2 × as much probability away
    as deleting random maps (their deletion score 0.81)", "no better than random (...)", or ""
    when the map has no random baseline."""
    s = result.scores
    if s is None:
        return ""
    if s.vs_random is None:
        return s.random_note     # e.g. "not measurable by deletion: ..." (or "")
    rnd = s.random_deletion_aucs
    base = f" (random maps {sum(rnd) / len(rnd):.3f})" if rnd else ""
    if s.better_than_random is False or s.vs_random <= 1.0:
        return f"no better than random{base}: this map does not show what the model used"
    # the ratio is of probability taken away (p0 - score), not of the scores themselves: say so
    theirs = f" (their deletion score {sum(rnd) / len(rnd):.3f})" if rnd else ""
    return (f"{s.vs_random:.1f} × better than random: deleting what it marks takes "
            f"{s.vs_random:.1f} × as much probability away as deleting random maps{theirs}")


def pointing_text(pg) -> str:
    """The pointing game in one unambiguous phrase: where the map's maximum lies against the
    lesion (inside it; within the tolerance of it; further away)."""
    if pg.inside:
        return "pointing game hit: the map's maximum lies inside the lesion"
    if pg.hit:
        return (f"pointing game hit: the map's maximum lies within {pg.tolerance_px:.0f} px of the "
                "lesion (not inside it)")
    return f"pointing game miss: the map's maximum lies more than {pg.tolerance_px:.0f} px from the lesion"


def strength_text(result: MapResult, threshold: float) -> str:
    """How strong a map with a reference is, in words: "faint map: its strongest “tumour”
    evidence is 32 % of a weak finding's, ..." (colours are scaled to the model's reference,
    not to the slice), "no map drawn: ..." when all of it lies below the display ``threshold``;
    "" for maps scaled to their own maximum."""
    strength = map_strength(result.heat, result.reference)
    if strength is None:
        return ""
    if strength <= 0:
        return f"no “{result.target}” evidence on this slice: nothing to show"
    if strength >= 1:
        return f"strong map: “{result.target}” evidence at least that of a weak finding"
    share = f"its strongest “{result.target}” evidence is {strength:.0%} of a weak finding's"
    if strength < threshold:
        return (f"no map drawn: {share}, below the display threshold ({threshold:.0%}); "
                f"colours are scaled to the model, not stretched to this slice")
    return f"faint map: {share} (colours are scaled to the model, not stretched to this slice)"


def describe_scores(result: MapResult | None, hidden: bool = False,
                    threshold: float = 0.0) -> str:
    """One line per score, e.g. "deletion score 0.12 (lower = more faithful)" and
    "3.2 × better than random"; coarse maps carry no score; ``hidden``: the map is not shown
    (outside the model's domain)."""
    if result is None:
        return ""
    name = METHOD_NAMES.get(result.tag.method, result.tag.method)
    if not result.final:
        return (f"{name}: coarse map (pass {result.pass_index + 1} of {result.passes}), "
                "refining… (no score for a coarse map)")
    parts = [f"{name} for “{result.target}”" + (" — hidden (outside this model's domain)"
                                                 if hidden else "")]
    strength = strength_text(result, threshold)
    if strength:
        parts.append(strength)
    s = result.scores
    # deletion could not judge any map here (no random maps scored, no verdict): say why and
    # show no number beside it
    if s is not None and not s.random_deletion_aucs and s.better_than_random is None \
            and s.random_note:
        parts.append(s.random_note)
    elif result.deletion_auc is not None:
        parts.append(f"deletion score {result.deletion_auc:.3f} (lower = more faithful)")
        if vs_random_text(result):
            parts.append(vs_random_text(result))
    elif not result.scored:
        parts.append("deletion score against random maps: computing…")
    if result.pointing is not None:
        pg = result.pointing
        parts.append(pointing_text(pg))
    elif result.truth_note:
        parts.append(f"pointing game: {result.truth_note}")
    return "\n  ".join(parts)


class OverlayControls(QWidget):
    """Widgets editing the overlay options of ``ai`` and showing the current maps' scores."""

    def __init__(self, ai: AiState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ai = ai
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.show_box = QCheckBox("Show overlay  (O)")
        self.show_box.setChecked(ai.overlay_visible)
        form.addRow(self.show_box)
        self.method_box = QComboBox()
        for m in METHODS:
            self.method_box.addItem(METHOD_NAMES[m], m)
        self.method_box.setAccessibleName("Explanation method")
        form.addRow("&Method", self.method_box)
        self.target_box = QComboBox()
        self.target_box.setAccessibleName("Target class")
        form.addRow("&Target", self.target_box)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setSingleStep(5)
        self.opacity_slider.setPageStep(10)
        self.opacity_slider.setAccessibleName("Overlay opacity")
        self.opacity_label = QLabel()
        self.opacity_label.setMinimumWidth(38)
        row = QHBoxLayout()
        row.addWidget(self.opacity_slider, 1)
        row.addWidget(self.opacity_label)
        form.addRow(self._buddy("&Opacity  { }", self.opacity_slider), row)
        self.colormap_box = QComboBox()
        self.colormap_box.addItems(list(COLORMAPS))
        self.colormap_box.setAccessibleName("Colormap")
        form.addRow("&Colormap", self.colormap_box)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, 95)
        self.threshold_slider.setAccessibleName("Map threshold")
        self.threshold_slider.setToolTip("Map values below this fraction of the map's maximum "
                                         "are transparent")
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(38)
        row = QHBoxLayout()
        row.addWidget(self.threshold_slider, 1)
        row.addWidget(self.threshold_label)
        form.addRow(self._buddy("T&hreshold", self.threshold_slider), row)
        self.colour_bar = ColourBar()
        form.addRow(self.colour_bar)
        self.body_box = QCheckBox("Limit display to the &body (a display choice)")
        self.body_box.setToolTip("Hides map values outside the patient on screen only; the map, "
                                 "its scores and every export stay as computed")
        form.addRow(self.body_box)
        self.outside_label = QLabel()
        self.outside_label.setWordWrap(True)
        form.addRow(self.outside_label)
        self.scores_label = QLabel()
        self.scores_label.setWordWrap(True)
        self.scores_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.scores_label)
        self.flag_spin = QDoubleSpinBox()
        self.flag_spin.setRange(0.05, 0.99)
        self.flag_spin.setSingleStep(0.05)
        self.flag_spin.setDecimals(2)
        self.flag_spin.setToolTip("Slices whose probability reaches this value are flagged on "
                                  "the profile and the slider (N / Shift+N jump to them)")
        form.addRow("&Flag slices at P ≥", self.flag_spin)
        self._sync()
        self.show_box.toggled.connect(ai.set_overlay_visible)
        self.method_box.currentIndexChanged.connect(
            lambda _: ai.set_method(self.method_box.currentData()))
        self.target_box.currentIndexChanged.connect(self._on_target_box_changed)
        self.opacity_slider.valueChanged.connect(lambda v: ai.set_opacity(v / 100.0))
        self.colormap_box.currentTextChanged.connect(ai.set_colormap)
        self.threshold_slider.valueChanged.connect(lambda v: ai.set_threshold(v / 100.0))
        self.flag_spin.valueChanged.connect(ai.set_flag_threshold)
        ai.options_changed.connect(self._sync)
        self.body_box.toggled.connect(ai.set_limit_to_body)
        ai.outside_body_changed.connect(self._on_ai_outside_body_changed)
        ai.options_changed.connect(self._on_ai_maps_changed)  # method or threshold: new bar
        ai.model_changed.connect(self._on_ai_model_changed)
        ai.maps_changed.connect(self._on_ai_maps_changed)
        ai.flag_threshold_changed.connect(self._sync)

    @staticmethod
    def _buddy(text: str, widget: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(widget)
        return label

    def _on_ai_model_changed(self, name: str) -> None:
        card = self.ai.card
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItem("Predicted class", PREDICTED)
        for c in card.classes if card else ():
            finding = card.map_target == c
            self.target_box.addItem(f"{c} (finding)" if finding else c, c)
            if finding:
                self.target_box.setItemData(
                    self.target_box.count() - 1,
                    f"The default: where the model finds evidence of {c}. Every slice's map "
                    f"shows it, faint or not drawn where there is little (colours reach full "
                    f"strength at the evidence of a weak {c})", Qt.ItemDataRole.ToolTipRole)
        self.target_box.blockSignals(False)
        self._sync()

    def _on_target_box_changed(self, _index: int) -> None:
        data = self.target_box.currentData()
        self.ai.set_target(data if isinstance(data, str) else PREDICTED)

    def _sync(self, *_args) -> None:
        ai = self.ai
        for w in (self.show_box, self.method_box, self.target_box, self.opacity_slider,
                  self.colormap_box, self.threshold_slider, self.flag_spin, self.body_box):
            w.blockSignals(True)
        self.show_box.setChecked(ai.overlay_visible)
        self.body_box.setChecked(ai.limit_to_body)
        self.method_box.setCurrentIndex(max(0, self.method_box.findData(ai.method)))
        self.target_box.setCurrentIndex(max(0, self.target_box.findData(ai.target)))
        self.target_box.setToolTip(str(self.target_box.currentData(Qt.ItemDataRole.ToolTipRole)
                                       or "The class the heat maps explain"))
        self.opacity_slider.setValue(round(ai.opacity * 100))
        self.opacity_label.setText(f"{ai.opacity:.0%}")
        self.colormap_box.setCurrentText(ai.colormap)
        self.threshold_slider.setValue(round(ai.threshold * 100))
        self.threshold_label.setText(f"{ai.threshold:.0%}")
        self.flag_spin.setValue(ai.flag_threshold)
        for w in (self.show_box, self.method_box, self.target_box, self.opacity_slider,
                  self.colormap_box, self.threshold_slider, self.flag_spin, self.body_box):
            w.blockSignals(False)
        self.colour_bar.set_colormap(ai.colormap)
        self._on_ai_maps_changed()

    def _on_ai_outside_body_changed(self, share: float | None) -> None:
        if share is None:
            self.outside_label.setText("")
            return
        text = f"{share:.0%} of the map's evidence lies outside the body"
        shown = self.ai.maps.get(self.ai.main_method())
        classes = self.ai.card.classes if self.ai.card is not None else ()
        if share >= 0.25 and shown is not None and len(classes) == 2 and shown.target == classes[0]:
            # a detector's "no finding" map: what argues against a finding, which has no place
            text += (f". A “{classes[0]}” map shows what argues against a finding, not where "
                     f"one is; Target “{classes[1]}” shows where the model looked for one")
        elif share >= 0.25:
            text += ": the model may be using the image edges or air, not the anatomy"
        self.outside_label.setText(text)
        self.outside_label.setStyleSheet("color: #b35c00;" if share >= 0.25 else "")

    def _on_ai_maps_changed(self) -> None:
        maps = self.ai.maps
        first = maps.get(self.ai.main_method())  # the bar describes the map on screen, only
        if first is None:
            waiting = METHOD_NAMES.get(self.ai.main_method(), "")
            self.colour_bar.set_range(0.0, 1.0, f"{waiting}: no map yet" if maps else "no map")
            self.scores_label.setText("")
            return
        span = display_range(first.heat, self.ai.threshold, first.reference) or (0.0, 1.0)
        name = METHOD_NAMES.get(first.tag.method, "")
        self.colour_bar.set_range(span[0], span[1], name)
        self.scores_label.setText("\n".join(
            describe_scores(maps[m], self.ai.map_hidden(maps[m].prediction), self.ai.threshold)
            for m in MAP_METHODS if m in maps))

"""AiState: what the classifiers show in one viewer window.

No widgets and no torch. The records its jobs return live in :mod:`viewer.modules.ai.records`
(imported here too, their former home). :class:`AiState` holds the reader's choices (model,
method, colormap, opacity, threshold, target class) and the results for the current slice, and
drops stale ones: a result is current only when its ``ResultTag`` names the series and slice on
screen, the chosen model and target, and the latest request id of its job key.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from inference.results import Prediction
from viewer.core.overlay import COLORMAPS, OverlayStyle
from viewer.modules.ai.records import (  # noqa: F401 - the records, under their usual home
    DEVICES,
    MAP_METHODS,
    METHOD_NAMES,
    METHODS,
    PREDICTED,
    ContrastLabel,
    KneeResult,
    MapResult,
    ModelCard,
    ResultTag,
    SweepResult,
    summarise_reasons,
)


class AiState(QObject):
    """The reader's AI choices and the current results (see module docstring).

    Signals: ``models_listed(tuple[ModelCard])``; ``model_changed(str)``;
    ``options_changed()`` method, colormap, opacity, threshold, visibility or target changed;
    ``maps_changed()`` the current slice's maps changed; ``prediction_changed(object)``;
    ``sweep_changed(object)`` a SweepResult or None; ``knee_changed(object)``;
    ``flag_threshold_changed(float)``; ``status_changed(str)``;
    ``shown_anyway_changed(bool)`` the reader showed (or hid again) the maps of an
    out-of-domain series.

    Out-of-domain results (``Prediction.applicable`` False) are never shown as confident calls:
    their maps stay hidden (:meth:`map_hidden`) until the reader chooses "Show anyway", which
    holds for the series on screen (``series_uid``) and the chosen model until either changes.
    """

    models_listed = Signal(object)
    model_changed = Signal(str)
    options_changed = Signal()
    maps_changed = Signal()
    prediction_changed = Signal(object)
    sweep_changed = Signal(object)
    knee_changed = Signal(object)
    flag_threshold_changed = Signal(float)
    status_changed = Signal(str)
    outside_body_changed = Signal(object)   # share (0..1) of the map on screen outside the body
    shown_anyway_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models: dict[str, ModelCard] = {}
        self.model = ""
        self.method = "gradcam"
        self.colormap = "inferno"
        self.opacity = 0.5
        self.threshold = 0.2
        self.limit_to_body = False     # a display choice: hide map values outside the body
        self.outside_body: float | None = None
        self.target = PREDICTED
        self.overlay_visible = True
        self.follow = False
        self.flag_threshold = 0.5
        self.maps: dict[str, MapResult] = {}
        self.prediction: Prediction | None = None
        self.sweep: SweepResult | None = None
        self.knee: KneeResult | None = None
        self.status = ""
        self.latest: dict[str, int] = {}
        self.series_uid = ""          # the series on screen ("" when none)
        self._shown_anyway: set[tuple[str, str]] = set()   # (series uid, model)

    # -- models -----------------------------------------------------------------------------
    def set_models(self, cards: tuple[ModelCard, ...] | list[ModelCard]) -> None:
        self.models = {c.name: c for c in cards}
        self.models_listed.emit(tuple(cards))

    @property
    def card(self) -> ModelCard | None:
        return self.models.get(self.model)

    def set_model(self, name: str) -> None:
        """Choose a model; drops the maps, prediction and sweep of the previous one. The target
        becomes the model's own (``ModelCard.map_target``: a detector's finding, shown by name
        in the Target box; else the predicted class), never a class chosen for another model."""
        if name == self.model:
            return
        self.model = name
        card = self.models.get(name)
        self.target = card.map_target if card is not None else PREDICTED
        self.clear_results()
        self.set_sweep(None)
        self.model_changed.emit(name)
        self.options_changed.emit()

    # -- display options -----------------------------------------------------------------------
    def set_method(self, method: str) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
        if method != self.method:
            self.method = method
            self.options_changed.emit()

    def style(self) -> OverlayStyle:
        """The reader's display choices for heat maps (colormap, opacity, threshold)."""
        return OverlayStyle(self.colormap, self.opacity, self.threshold)

    def set_colormap(self, name: str) -> None:
        if name not in COLORMAPS:
            raise ValueError(f"unknown colormap {name!r}; choose one of {COLORMAPS}")
        if name != self.colormap:
            self.colormap = name
            self.options_changed.emit()

    def set_opacity(self, value: float) -> None:
        value = float(min(max(value, 0.0), 1.0))
        if abs(value - self.opacity) > 1e-9:
            self.opacity = value
            self.options_changed.emit()

    def step_opacity(self, delta: float) -> None:
        self.set_opacity(round(self.opacity + delta, 2))

    def set_limit_to_body(self, on: bool) -> None:
        """Show the map only over the body (a display choice, off by default; the map itself
        and every score stay as computed)."""
        if bool(on) != self.limit_to_body:
            self.limit_to_body = bool(on)
            self.options_changed.emit()

    def set_outside_body(self, share: float | None) -> None:
        """Share of the map on screen outside the body (None: no map)."""
        if share != self.outside_body:
            self.outside_body = share
            self.outside_body_changed.emit(share)

    def set_threshold(self, value: float) -> None:
        value = float(min(max(value, 0.0), 0.99))
        if abs(value - self.threshold) > 1e-9:
            self.threshold = value
            self.options_changed.emit()

    def set_overlay_visible(self, on: bool) -> None:
        if bool(on) != self.overlay_visible:
            self.overlay_visible = bool(on)
            self.options_changed.emit()

    def toggle_overlay(self) -> None:
        self.set_overlay_visible(not self.overlay_visible)

    def set_target(self, target: str) -> None:
        """Target class of the maps (``PREDICTED`` = the predicted class); drops current maps."""
        if target != self.target:
            self.target = target
            self.clear_maps()
            self.options_changed.emit()

    def set_flag_threshold(self, value: float) -> None:
        value = float(min(max(value, 0.0), 1.0))
        if abs(value - self.flag_threshold) > 1e-9:
            self.flag_threshold = value
            self.flag_threshold_changed.emit(value)

    def needed_methods(self) -> tuple[str, ...]:
        """The map methods the current display needs."""
        return ("gradcam", "occlusion") if self.method == "both" else (self.method,)

    def main_method(self) -> str:
        """The method whose map the slice view shows ("both": Grad-CAM; occlusion beside it)."""
        return "gradcam" if self.method == "both" else self.method

    # -- out-of-domain results ---------------------------------------------------------------------
    def set_series(self, series_uid: str) -> None:
        """The series on screen changed ("" = none); a "Show anyway" of another series lapses."""
        if series_uid != self.series_uid:
            self.series_uid = series_uid
            self._shown_anyway.clear()

    @property
    def shown_anyway(self) -> bool:
        """Whether the reader chose to see the out-of-domain maps of this series and model."""
        return (self.series_uid, self.model) in self._shown_anyway

    def set_shown_anyway(self, on: bool) -> None:
        """Show (True) or hide again (False) the maps of out-of-domain slices of the series on
        screen with the chosen model."""
        key = (self.series_uid, self.model)
        if bool(on) == (key in self._shown_anyway):
            return
        if on:
            self._shown_anyway.add(key)
        else:
            self._shown_anyway.discard(key)
        self.shown_anyway_changed.emit(bool(on))
        self.options_changed.emit()

    def toggle_shown_anyway(self) -> None:
        self.set_shown_anyway(not self.shown_anyway)

    def applicable(self) -> bool:
        """False when the result on screen (the slice's prediction, or the knee exam's)
        lies outside the model's domain."""
        return self.prediction is None or self.prediction.applicable

    def map_hidden(self, prediction: Prediction | None = None) -> bool:
        """Whether a map explaining ``prediction`` (default: the one on screen) must stay hidden:
        out of domain and the reader has not chosen "Show anyway"."""
        pred = self.prediction if prediction is None else prediction
        return pred is not None and not pred.applicable and not self.shown_anyway

    # -- results -----------------------------------------------------------------------------
    def is_current(self, tag: ResultTag, key: str, series_uid: str | None, slice_index: int) -> bool:
        """Whether a result tagged ``tag`` from job ``key`` belongs on screen now."""
        return (tag.request_id == self.latest.get(key) and tag.series_uid == series_uid
                and tag.slice_index == slice_index and tag.model == self.model
                and tag.target == self.target and tag.method in self.needed_methods())

    def put_map(self, result: MapResult) -> None:
        """Show ``result`` (the caller checked it is current); a coarse map never replaces a
        final one of the same method."""
        old = self.maps.get(result.tag.method)
        if old is not None and old.final and not result.final and old.tag == result.tag:
            return
        self.maps[result.tag.method] = result
        self.maps_changed.emit()
        if self.prediction != result.prediction:
            self.prediction = result.prediction
            self.prediction_changed.emit(result.prediction)

    def clear_maps(self) -> None:
        if self.maps:
            self.maps = {}
            self.maps_changed.emit()

    def clear_results(self) -> None:
        """Forget the maps and prediction shown (slice, series or model changed)."""
        self.clear_maps()
        if self.prediction is not None:
            self.prediction = None
            self.prediction_changed.emit(None)

    def set_prediction(self, prediction: Prediction | None) -> None:
        if prediction != self.prediction:
            self.prediction = prediction
            self.prediction_changed.emit(prediction)

    def set_sweep(self, sweep: SweepResult | None) -> None:
        self.sweep = sweep
        self.sweep_changed.emit(sweep)

    def set_knee(self, knee: KneeResult | None) -> None:
        self.knee = knee
        self.knee_changed.emit(knee)

    def set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.status_changed.emit(text)

    # -- series sweep helpers ---------------------------------------------------------------------
    def profile_class(self) -> str | None:
        """The class whose probability the profile flags: the target, or the positive class of a
        two-class model; None for a many-class model without a target."""
        sweep = self.sweep
        if sweep is None:
            return None
        if self.target and self.target in sweep.classes:
            return self.target
        return sweep.classes[1] if len(sweep.classes) == 2 else None

    def flagged_slices(self) -> np.ndarray:
        """0-based slices whose profile-class probability is at or above the flag threshold;
        slices outside the model's domain are never flagged (they are marked apart)."""
        name = self.profile_class()
        if self.sweep is None or name is None:
            return np.zeros(0, dtype=int)
        p = self.sweep.probs[:, self.sweep.classes.index(name)]
        hit = (np.nan_to_num(p, nan=-1.0) >= self.flag_threshold) & self.sweep.applicable_mask()
        return np.flatnonzero(hit)

    def next_flagged(self, current: int, direction: int = 1) -> int | None:
        """The next (``direction`` +1) or previous (-1) flagged slice after ``current``, wrapping."""
        flagged = self.flagged_slices()
        if flagged.size == 0:
            return None
        if direction > 0:
            after = flagged[flagged > current]
            return int(after[0]) if after.size else int(flagged[0])
        before = flagged[flagged < current]
        return int(before[-1]) if before.size else int(flagged[-1])

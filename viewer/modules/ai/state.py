"""AiState: what the classifiers show in one viewer window, and the records their jobs return.

No widgets and no torch: the records are plain frozen dataclasses (numpy arrays inside) made by
:mod:`viewer.modules.ai.service` in worker threads, holding the torch-free records of
:mod:`inference.results` (Prediction, Explanation, MapScores) as the classifiers returned
them; :class:`AiState` holds the reader's choices (model, method, colormap, opacity, threshold,
target class) and the results for the current slice, and drops stale ones. A result is current only when its :class:`ResultTag` names the series and slice
on screen, the chosen model and target, and the latest request id of its job key.

Heat maps are float32 ``(H, W)`` (rows, columns) in the slice's pixel grid with their raw range;
knee maps are ``(S, H, W)`` per plane series.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from inference.results import Explanation, MapScores, Pointing, Prediction

from viewer.core.overlay import COLORMAPS, OverlayStyle

METHODS = ("gradcam", "hirescam", "occlusion", "both")
METHOD_NAMES = {"gradcam": "Grad-CAM", "hirescam": "HiResCAM", "occlusion": "Occlusion",
                "both": "Both side by side"}
MAP_METHODS = ("gradcam", "hirescam", "occlusion")  # methods that make one map each
DEVICES = ("auto", "cpu", "cuda", "mps")
PREDICTED = ""  # target meaning "the predicted class"


@dataclass(frozen=True)
class ModelCard:
    """What the model picker shows about a model (from its manifest)."""

    name: str
    task: str
    classes: tuple[str, ...]
    backbone: str
    modality: str
    level: str                    # "slice" or "exam"
    version: str = ""
    input_size: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    intended_use: str = ""
    training_data: str = ""
    demo: bool = False
    demo_statement: str = ""
    #: What the model reads (``inference.domain.domain_block``): {"modality": "MR",
    #: "body_parts": ["BRAIN"], "planes": ["axial"], ...}; {} when unknown.
    domain: dict[str, Any] = field(default_factory=dict)

    @property
    def calibration(self) -> dict[str, Any]:
        """The manifest's ``metrics.calibration`` (temperature, ece_before, ece_after, ...)."""
        cal = self.metrics.get("calibration")
        return dict(cal) if isinstance(cal, dict) else {}


@dataclass(frozen=True)
class ResultTag:
    """Where a result belongs: series, slice (0-based), model, method, requested target
    (``PREDICTED`` = "") and the request id of the job that made it."""

    series_uid: str
    slice_index: int
    model: str
    method: str
    target: str
    request_id: int


@dataclass(frozen=True)
class MapResult:
    """One heat map of one slice: the classifier's :class:`inference.results.Explanation` as it
    came (map float32 (H, W) in slice pixels, raw range; its prediction; its scores on final maps)
    with the viewer's ``tag`` and the ``seconds`` the job took. ``final`` is False for coarse
    occlusion passes.

    ``deletion_auc`` (0..1, lower = more faithful) is computed for final maps only; ``pointing``
    only where a ground-truth mask is known (synthetic phantom studies) and the slice has a lesion;
    ``truth_note`` says why there is no pointing-game result.
    """

    tag: ResultTag
    explanation: Explanation
    seconds: float = 0.0
    #: False while the final map's deletion score (against random maps) is still being computed
    #: in the background: the map is shown first, the same result comes again with its scores.
    scored: bool = True

    @property
    def applicable(self) -> bool:
        """Whether the slice lay inside the model's domain (see ``prediction.applicability``)."""
        return self.explanation.prediction.applicable

    @property
    def heat(self) -> np.ndarray:
        return self.explanation.map

    @property
    def target(self) -> str:
        return self.explanation.target

    @property
    def prediction(self) -> Prediction:
        return self.explanation.prediction

    @property
    def final(self) -> bool:
        return self.explanation.final

    @property
    def pass_index(self) -> int:
        return self.explanation.pass_index

    @property
    def passes(self) -> int:
        return self.explanation.passes

    @property
    def scores(self) -> MapScores | None:
        return self.explanation.scores

    @property
    def deletion_auc(self) -> float | None:
        return self.scores.deletion_auc if self.scores else None

    @property
    def pointing(self) -> Pointing | None:
        return self.scores.pointing if self.scores else None

    @property
    def truth_note(self) -> str:
        return self.scores.note if self.scores else ""

    @property
    def nbytes(self) -> int:
        return int(self.heat.nbytes)


@dataclass(frozen=True)
class SweepResult:
    """Per-slice probabilities of a series: ``probs`` float32 (n_slices, n_classes), NaN where
    not computed yet; ``done`` of ``total`` slices computed.

    ``applicable``: bool (n_slices,), False where the slice lay outside the model's domain (True
    where applicable or not computed yet; None = all applicable); ``reasons``: per slice, the
    reasons it is out of domain (() where applicable), one tuple per slice (or () = none known).
    """

    series_uid: str
    model: str
    classes: tuple[str, ...]
    probs: np.ndarray
    done: int
    total: int
    request_id: int = 0
    applicable: np.ndarray | None = None
    reasons: tuple[tuple[str, ...], ...] = ()

    @property
    def complete(self) -> bool:
        return self.done >= self.total

    def applicable_mask(self) -> np.ndarray:
        """bool (n_slices,): True where the slice is applicable (or not computed yet)."""
        n = int(self.probs.shape[0])
        if self.applicable is None:
            return np.ones(n, dtype=bool)
        return np.asarray(self.applicable, dtype=bool)

    def out_of_domain(self) -> np.ndarray:
        """0-based slices computed and found outside the model's domain."""
        return np.flatnonzero(~self.applicable_mask())

    def slice_reasons(self, k: int) -> tuple[str, ...]:
        """Why slice ``k`` (0-based) is out of the model's domain; () when it is not."""
        return self.reasons[k] if 0 <= k < len(self.reasons) else ()

    def series_reasons(self) -> tuple[str, ...]:
        """The out-of-domain reasons of all slices, de-duplicated; the per-slice
        "unlike the training data" reasons counted as one ("k of n slices unlike ...")."""
        return summarise_reasons([self.slice_reasons(int(k)) for k in self.out_of_domain()],
                                 self.done or self.total)


def summarise_reasons(per_slice: list[tuple[str, ...]], n: int) -> tuple[str, ...]:
    """De-duplicated reasons of several slices (``n`` slices looked at); the slices' own
    "image unlike the training data (distance ...)" reasons become one "k of n slices unlike the
    training data" reason."""
    out: list[str] = []
    ood = 0
    for reasons in per_slice:
        if any("unlike the training data" in r for r in reasons):
            ood += 1
        out += [r for r in reasons if "unlike the training data" not in r and r not in out]
    if ood:
        out.append(f"{ood} of {n} slice{'s' if n != 1 else ''} unlike the training data")
    return tuple(out)


@dataclass(frozen=True)
class ContrastLabel:
    """The contrast model's call for a series and whether the header's wording disagrees."""

    series_uid: str
    label: str
    confidence: float
    header_label: str          # contrast named by SeriesDescription, "" when none
    disagrees: bool
    slices_used: int = 1
    #: False when the slices used lay outside the contrast model's domain: then there is no
    #: label to show ("?"), only the ``reasons``.
    applicable: bool = True
    reasons: tuple[str, ...] = ()

    def text(self) -> str:
        """The series browser's line: "AI: T1 (93%)", or "AI: ?" when out of domain."""
        if not self.applicable:
            return "AI: ?"
        short = {"T1 post-contrast": "T1c", "T2-FLAIR": "FLAIR"}.get(self.label, self.label)
        flag = f"  ⚠ header says {self.header_label}" if self.disagrees else ""
        return f"AI: {short} ({self.confidence:.0%}){flag}"


@dataclass(frozen=True)
class KneeResult:
    """A knee exam: series used per plane, planes missing, the fused prediction, the explained
    label and per-series Grad-CAM maps (S, H, W) with per-slice importance (S,)."""

    model: str
    plane_series: dict[str, str]
    missing: tuple[str, ...]
    prediction: Prediction
    target: str
    maps: dict[str, np.ndarray]
    importance: dict[str, np.ndarray]
    request_id: int = 0


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
    shown_anyway_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models: dict[str, ModelCard] = {}
        self.model = ""
        self.method = "gradcam"
        self.colormap = "inferno"
        self.opacity = 0.5
        self.threshold = 0.2
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
        """Choose a model; drops the maps, prediction and sweep of the previous one."""
        if name == self.model:
            return
        self.model = name
        self.target = PREDICTED
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

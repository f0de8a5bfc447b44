"""The AI module's plain records (no Qt, no torch): method names, model cards, result tags,
maps, sweeps, contrast labels and knee results, made in worker threads and read by the state,
the widgets and the exports. Heat maps are float32 ``(H, W)`` (rows, columns) in the slice's
pixel grid with their raw range; knee maps ``(S, H, W)`` per plane series."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.results import Explanation, MapScores, Pointing, Prediction

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
    #: The class the maps explain unless the reader picks another (``ModelSpec.map_target``:
    #: a detector's finding); "" = the predicted class.
    map_target: str = ""

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
    def reference(self) -> float | None:
        """The map value drawn at full colour (``Explanation.reference``; None: its maximum)."""
        return self.explanation.reference

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
    demo: bool = False         # the contrast model runs on demo weights

    def text(self) -> str:
        """The series browser's line: "AI (demo): T1 (93%)", or "AI: ?" when out of domain."""
        who = "AI (demo)" if self.demo else "AI"
        if not self.applicable:
            return f"{who}: ?"
        short = {"T1 post-contrast": "T1c", "T2-FLAIR": "FLAIR"}.get(self.label, self.label)
        flag = f"  ⚠ header says {self.header_label}" if self.disagrees else ""
        return f"{who}: {short} ({self.confidence:.0%}){flag}"


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

"""The records classifiers return: predictions, explanations and their map scores.

Plain frozen dataclasses holding Python numbers and numpy arrays. This module imports neither
torch nor Qt, so any layer (the viewer's state, widgets, exports, the sample study) can hold and
read these records as they are; nobody copies them field by field into look-alikes.

Axis order: maps are float32 ``(H, W)`` (rows, columns) in the pixel geometry of the slice the
classifier was given, raw range kept (Grad-CAM >= 0 after ReLU, occlusion in score units,
possibly negative). Knee exam maps are ``{plane: (S, H, W)}`` on each plane's source stack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Applicability", "Explanation", "MapScores", "Pointing", "Prediction"]


@dataclass(frozen=True)
class Applicability:
    """Whether a model may be trusted with this input, checked before every call.

    ``applicable``: False when any check failed: the input lies outside the model's domain
    (modality, body part, plane, dynamic range; see ``inference.domain``) or its features are
    unlike the training data (``ood_distance`` above ``ood_threshold``). ``reasons``: one
    sentence per failed check, in words a radiologist acts on ("sagittal slice; this model
    reads axial slices"); empty when applicable. ``notes``: what could not be checked ("no
    out-of-distribution statistics for this model"), never a reason to refuse.
    ``ood_distance`` / ``ood_threshold``: Mahalanobis distance of the model's pooled
    penultimate features to the nearest training class (Lee et al. 2018) and the threshold
    fitted on validation data (knee: the largest distance-to-threshold ratio over the planes,
    with that plane's threshold); None when the model has no statistics.
    """

    applicable: bool = True
    reasons: tuple[str, ...] = ()
    ood_distance: float | None = None
    ood_threshold: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """"" when applicable, else "Outside this model's domain: <reasons joined by '; '>"."""
        return "" if self.applicable else "Outside this model's domain: " + "; ".join(self.reasons)



@dataclass(frozen=True)
class Prediction:
    """Class probabilities for one slice or exam.

    ``probabilities``: {class: p} in the model's class order (softmax for slice models, per-label
    sigmoid for the knee exam). ``predicted``: the most probable class (knee: the most probable
    label at or above 0.5, else "normal"). Knee only: ``per_plane`` {plane: {label: p}},
    ``planes_used``, ``contributions`` {label: {plane: fusion weight * plane logit}}.
    ``warnings``: problems with the input a reader should know (wrong modality, ...).
    ``demo``: made by demo weights (not for clinical use).
    ``applicability``: the domain and out-of-distribution check of this input (None only for
    records made outside a Classifier). A not-applicable prediction must never be shown as a
    confident call. ``temperature``: the calibration temperature applied to the logits
    (1.0: uncalibrated); ``uncalibrated``: the probabilities before it ({} when T = 1).
    """

    model: str
    probabilities: dict[str, float]
    predicted: str
    warnings: tuple[str, ...] = ()
    per_plane: dict[str, dict[str, float]] = field(default_factory=dict)
    planes_used: tuple[str, ...] = ()
    contributions: dict[str, dict[str, float]] = field(default_factory=dict)
    demo: bool = False
    applicability: Applicability | None = None
    temperature: float = 1.0
    uncalibrated: dict[str, float] = field(default_factory=dict)

    @property
    def applicable(self) -> bool:
        """False when the applicability check refused this input (True when not checked)."""
        return self.applicability is None or self.applicability.applicable


@dataclass(frozen=True)
class Pointing:
    """Pointing game of one map against a ground-truth lesion mask.

    ``hit``: the map's maximum lies within ``tolerance_px`` slice pixels of the mask;
    ``inside``: the stricter figure, the maximum exactly inside the mask. The tolerance is the
    one definition of :func:`inference.explain.faithfulness.pointing_tolerance`.
    """

    hit: bool
    inside: bool
    tolerance_px: float


@dataclass(frozen=True)
class MapScores:
    """How faithful a heat map is to the model and to the anatomy (None = not computed).

    ``deletion_auc`` / ``insertion_auc``: area under the target-probability curve as the most
    salient pixels are removed / restored first (0..1; deletion lower and insertion higher = more
    faithful). ``pointing`` and ``energy_in_mask`` (share of the map's positive mass inside the
    mask, 0..1) need a ground-truth mask with a lesion on the slice; ``note`` says why they are
    missing ("" when present).

    Random baseline (``inference.explain.faithfulness.random_baseline``): ``random_deletion_aucs``
    the deletion AUCs of 5 seeded random smooth maps of the same size on the same image;
    ``vs_random`` = (1 - map's deletion AUC) / (1 - mean random deletion AUC), the map's
    "x times better than random" (> 1: its most salient pixels remove more of the target
    probability than random ones do); ``better_than_random`` False when the map's deletion AUC
    is not below every random map's; ``random_note`` says so in words.
    """

    deletion_auc: float | None = None
    insertion_auc: float | None = None
    pointing: Pointing | None = None
    energy_in_mask: float | None = None
    note: str = ""
    random_deletion_aucs: tuple[float, ...] = ()
    vs_random: float | None = None
    better_than_random: bool | None = None
    random_note: str = ""


@dataclass(frozen=True, eq=False)
class Explanation:
    """A heat map for ``target`` made by ``method`` ("gradcam", "hirescam" or "occlusion").

    ``map``: float32 (H, W) on the input slice (knee: {plane: (S, H, W)}), raw range kept.
    ``prediction``: the prediction the map explains. ``importance``: knee only, {plane: (S,)}
    per-slice Grad-CAM importance. ``final`` is False for the coarse early maps of
    ``iter_explain``; ``pass_index`` / ``passes`` say how far it got. ``scores``: the map's
    scores, computed by ``inference.explain.faithfulness.score_map`` on final slice maps (None
    on coarse maps and knee exams). ``reference``: the map value drawn at full colour
    (``ModelSpec.map_reference``; None: the map's own maximum). Compared by identity (it holds
    arrays).
    """

    map: Any
    method: str
    target: str
    model: str
    prediction: Prediction
    importance: dict[str, np.ndarray] | None = None
    final: bool = True
    pass_index: int = 0
    passes: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    scores: MapScores | None = None
    reference: float | None = None

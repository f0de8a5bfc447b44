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

__all__ = ["Explanation", "MapScores", "Pointing", "Prediction"]


@dataclass(frozen=True)
class Prediction:
    """Class probabilities for one slice or exam.

    ``probabilities``: {class: p} in the model's class order (softmax for slice models, per-label
    sigmoid for the knee exam). ``predicted``: the most probable class (knee: the most probable
    label at or above 0.5, else "normal"). Knee only: ``per_plane`` {plane: {label: p}},
    ``planes_used``, ``contributions`` {label: {plane: fusion weight * plane logit}}.
    ``warnings``: problems with the input a reader should know (wrong modality, ...).
    ``demo``: made by demo weights (not for clinical use).
    """

    model: str
    probabilities: dict[str, float]
    predicted: str
    warnings: tuple[str, ...] = ()
    per_plane: dict[str, dict[str, float]] = field(default_factory=dict)
    planes_used: tuple[str, ...] = ()
    contributions: dict[str, dict[str, float]] = field(default_factory=dict)
    demo: bool = False


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
    """

    deletion_auc: float | None = None
    insertion_auc: float | None = None
    pointing: Pointing | None = None
    energy_in_mask: float | None = None
    note: str = ""


@dataclass(frozen=True, eq=False)
class Explanation:
    """A heat map for ``target`` made by ``method`` ("gradcam" or "occlusion").

    ``map``: float32 (H, W) on the input slice (knee: {plane: (S, H, W)}), raw range kept.
    ``prediction``: the prediction the map explains. ``importance``: knee only, {plane: (S,)}
    per-slice Grad-CAM importance. ``final`` is False for the coarse early maps of
    ``iter_explain``; ``pass_index`` / ``passes`` say how far it got. ``scores``: the map's
    scores, computed by ``inference.explain.faithfulness.score_map`` on final slice maps (None
    on coarse maps and knee exams). Compared by identity (it holds arrays).
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

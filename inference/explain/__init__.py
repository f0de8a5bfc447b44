"""Explanations for SliceWise classifiers: Grad-CAM, HiResCAM, occlusion, faithfulness and sanity scores.

Torch only: this package never imports Qt, pyqtgraph, pydicom or ``viewer``.
"""
from __future__ import annotations

from .faithfulness import (
                           deletion_auc,
                           energy_in_mask,
                           insertion_auc,
                           pointing,
                           pointing_game,
                           pointing_tolerance,
                           random_baseline,
                           score_map,
)
from .gradcam import cam, gradcam
from .hirescam import hirescam
from .occlusion import OcclusionStep, iter_occlusion, occlusion
from .sanity import randomised_copy, rank_correlation

__all__ = [
    "OcclusionStep",
    "cam",
    "deletion_auc",
    "energy_in_mask",
    "gradcam",
    "hirescam",
    "insertion_auc",
    "iter_occlusion",
    "occlusion",
    "pointing",
    "pointing_game",
    "pointing_tolerance",
    "random_baseline",
    "randomised_copy",
    "rank_correlation",
    "score_map",
]

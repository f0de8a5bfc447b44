"""The shipped contrast demo model on phantoms it was not trained on.

The physics-only weights called the independent generator's slices right 0.34 of the time, with a
confident (p >= 0.8) wrong call and no notice on 0.44 of them, and every fixed-grey-level phantom
(the sample study's look) "T2" at p 1.0. The shipped weights (physics and varied heads,
``--generator varied-physics``) measured 0.73 and 0.04 there (n 300), and 11 confident wrong calls
on 576 sample-style slices (physics-only: 348). These tests hold the line with margins for a
small sample.
"""
from __future__ import annotations

import numpy as np
import pytest

from inference import recipes
from inference.phantoms import CONTRASTS, brain_mr_volume
from inference.predict import load_model


@pytest.fixture(scope="module")
def contrast_model():
    return load_model("contrast", device="cpu")


def _confident_wrong_unflagged(pred, truth: str) -> bool:
    return (pred.predicted != truth and max(pred.probabilities.values()) >= 0.8
            and pred.applicability.applicable)


def test_independent_generator_slices_get_few_confident_wrong_calls(contrast_model) -> None:
    seeds = range(recipes.HELD_OUT_SEED_START + 1, recipes.HELD_OUT_SEED_START + 61)
    right = confident_wrong = 0
    for seed in seeds:
        s = recipes.phantom_sample("contrast", seed, 96, generator="independent")
        truth = contrast_model.spec.classes[int(s.target)]
        pred = contrast_model.predict(np.asarray(s.image, np.float32))
        right += pred.predicted == truth
        confident_wrong += _confident_wrong_unflagged(pred, truth)
    assert right / len(seeds) >= 0.6, right            # measured 0.73 at n 300; chance 0.25
    assert confident_wrong / len(seeds) <= 0.15, confident_wrong   # measured 0.04; was 0.44


@pytest.mark.parametrize("contrast", CONTRASTS)
def test_sample_style_volumes_get_few_confident_wrong_calls(contrast_model, contrast: str) -> None:
    """The sample study and the teaching cases are drawn with fixed grey levels per contrast:
    measured on 6 volumes x 24 slices each, 451 of 576 right, 11 confidently wrong (physics-only
    weights: 348 confidently wrong). A T1 post-contrast slice called T1 without confidence counts
    as in its family (the enhancement is a few vessels; most of its misses are that one), as the
    acquisition check does for a T1 without a recorded contrast agent."""
    preds = []
    for seed in range(3):
        vol, _ = brain_mr_volume(seed=seed, n_slices=8, size=256, contrast=contrast)
        preds += contrast_model.predict_batch(list(vol), spacing=(0.9, 0.9), modality="MR",
                                              orientation="axial")
    family = {"T1", "T1 post-contrast"} if contrast.startswith("T1") else {contrast}
    in_family = sum(p.predicted in family for p in preds)
    wrong = [(k, p.predicted, round(max(p.probabilities.values()), 2))
             for k, p in enumerate(preds) if _confident_wrong_unflagged(p, contrast)]
    assert in_family >= 0.6 * len(preds), in_family
    assert len(wrong) <= len(preds) // 8, wrong

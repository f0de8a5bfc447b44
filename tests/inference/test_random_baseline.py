"""Every final map is scored against random smooth maps: the lesion mask beats them, a random map
does not (tumour demo model, a held-out phantom with a tumour)."""
from __future__ import annotations

import numpy as np
import pytest

from inference import recipes
from inference.explain.faithfulness import random_smooth_map, score_map
from inference.predict import load_model


@pytest.fixture(scope="module")
def case():
    clf = load_model("tumour", device="cpu")
    # odd seed: a tumour. Seed 19's mask beats the random maps by a wide margin for the shipped
    # model and for a 128 px candidate (deletion AUC 0.25 vs >= 0.55; 0.28 vs >= 0.62), so the test
    # is of the scoring, not of one model's luck: seed 11, used before, was won by the shipped
    # model by 0.02 and lost by the candidate (over 20 held-out tumours the mask wins 12 and 15 times)
    seed = recipes.HELD_OUT_SEED_START + 19
    s = recipes.phantom_sample("tumour", seed, 96, vary_shape=False)
    assert s.mask.any() and clf.predict(s.image).predicted == "tumour"
    return clf, s


def test_lesion_mask_map_beats_random(case) -> None:
    clf, s = case
    sc = score_map(clf, s.image, s.mask.astype(np.float32), "tumour")
    assert len(sc.random_deletion_aucs) == 5
    assert sc.better_than_random is True
    assert sc.vs_random is not None and sc.vs_random > 1.5
    assert sc.deletion_auc < min(sc.random_deletion_aucs)
    assert "better than random" in sc.random_note


def test_random_map_is_not_better_than_random(case) -> None:
    clf, s = case
    rnd = random_smooth_map(s.image.shape, seed=1234)
    sc = score_map(clf, s.image, rnd, "tumour")
    assert sc.better_than_random is False
    assert "no better than random" in sc.random_note


def test_scores_arrive_with_final_maps_only(case) -> None:
    clf, s = case
    exps = list(clf.iter_explain(s.image, "occlusion", "tumour", faithfulness=True))
    assert all(e.scores is None for e in exps[:-1])
    assert exps[-1].scores is not None and exps[-1].scores.vs_random is not None

"""One definition of every map score: ``faithfulness.score_map`` / ``pointing`` with the one
pointing-game tolerance, attached to final maps by the classifier; nobody else defines them."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inference.explain.faithfulness import (
    NO_LESION,
    NO_MASK,
    deletion_auc,
    pointing,
    pointing_tolerance,
    score_map,
)

REPO = Path(__file__).resolve().parents[2]


def test_tolerance_is_15_px_at_224_scaled_to_the_slice() -> None:
    assert pointing_tolerance((224, 224)) == pytest.approx(15.0)
    assert pointing_tolerance((256, 128)) == pytest.approx(15 * 256 / 224)


def test_pointing_hit_within_tolerance_and_inside_exactly() -> None:
    mask = np.zeros((224, 224), bool)
    mask[100:120, 100:120] = True
    heat = np.zeros((224, 224), np.float32)
    heat[110, 130] = 1.0                      # 11 px right of the mask: a hit, not inside
    p = pointing(heat, mask)
    assert (p.hit, p.inside, p.tolerance_px) == (True, False, pytest.approx(15.0))
    heat[110, 130], heat[110, 110] = 0.0, 1.0
    assert pointing(heat, mask).inside
    heat[110, 110], heat[110, 140] = 0.0, 1.0  # 21 px away
    assert not pointing(heat, mask).hit


def test_no_module_outside_faithfulness_defines_a_pointing_tolerance() -> None:
    """The tolerance used to be written out in the viewer service, teaching and evaluate."""
    offenders = []
    for folder in ("viewer", "inference"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "faithfulness.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"/\s*224\b|POINTING_TOLERANCE_224\s*=|pointing_game\(", text):
                offenders.append(str(path.relative_to(REPO)))
    assert not offenders, offenders


@pytest.fixture()
def classifier(tiny_model):
    from inference import load_model

    return load_model("x", device="cpu", manifest_path=str(tiny_model("tumour")))


def test_score_map_notes_and_deletion_match_a_direct_computation(classifier) -> None:
    rng = np.random.default_rng(3)
    image = rng.random((32, 32)).astype(np.float32) * 100
    heat = rng.random((32, 32)).astype(np.float32)
    none = score_map(classifier, image, heat, "tumour", deletion=False)
    assert none.pointing is None and none.deletion_auc is None and none.note == NO_MASK
    empty = score_map(classifier, image, heat, "tumour", mask=np.zeros((32, 32), bool), deletion=False)
    assert empty.pointing is None and empty.note == NO_LESION
    mask = np.zeros((32, 32), bool)
    mask[4:9, 4:9] = True
    s = score_map(classifier, image, heat, 1, mask=mask, insertion=True)
    assert s.pointing is not None and s.note == "" and 0.0 <= s.energy_in_mask <= 1.0
    # oracle: the slice fills the 32 px input exactly, so the model grid is the slice grid
    x, _ = classifier.model_input(image)
    with torch.inference_mode():
        ref = deletion_auc(classifier.forward_probs(), x[None], heat, 1, steps=20)
    assert s.deletion_auc == pytest.approx(ref, abs=1e-6)
    assert 0.0 <= s.insertion_auc <= 1.0


def test_final_maps_arrive_with_their_scores(classifier) -> None:
    rng = np.random.default_rng(4)
    image = rng.random((48, 40)).astype(np.float32)
    mask = np.zeros((48, 40), bool)
    mask[20:30, 10:20] = True
    steps = list(classifier.iter_explain(image, "occlusion", mask=mask, faithfulness=True,
                                         passes=((16, 8), (8, 4))))
    assert [e.final for e in steps] == [False, True]
    assert steps[0].scores is None
    final = steps[-1].scores
    assert final is not None and final.deletion_auc is not None
    assert final.pointing == pointing(steps[-1].map, mask)
    cam = classifier.explain(image, "gradcam")          # default: no deletion, no mask
    assert cam.scores is not None and cam.scores.deletion_auc is None and cam.scores.note == NO_MASK


def test_non_square_slice_is_placed_on_the_model_grid_as_the_image_was(classifier) -> None:
    """A map that equals 1 on the left half of a wide slice: on the model grid (the slice resized
    into its content box, padded) the salient pixels are those of the resized left half."""
    from inference.preprocess import place

    image = np.random.default_rng(5).random((16, 32)).astype(np.float32)
    heat = np.zeros((16, 32), np.float32)
    heat[:, :16] = 1.0
    x, geom = classifier.model_input(image)
    grid = place(heat, geom)[0]
    expected = F.interpolate(torch.from_numpy(heat)[None, None], size=geom.content, mode="bilinear",
                             align_corners=False)[0, 0]
    top, left = geom.offset
    torch.testing.assert_close(grid[top:top + geom.content[0], left:left + geom.content[1]], expected)
    with torch.inference_mode():
        ref = deletion_auc(classifier.forward_probs(), x[None], grid, 0, steps=20)
    assert score_map(classifier, image, heat, 0).deletion_auc == pytest.approx(ref, abs=1e-6)


def test_deletion_probabilities_are_the_calibrated_ones_the_reader_sees() -> None:
    """Found under X: the bar said tumour 9.1 % while the deletion note said "unblurred 0.07"
    (the uncalibrated probability). The scoring forward applies the model's temperature."""
    from inference import recipes
    from inference.predict import load_model

    clf = load_model("tumour", device="cpu")
    assert clf.temperature != 1.0
    image = recipes.phantom_sample("tumour", 1_000_008, 96).image   # p(tumour) 0.33: not saturated
    pred = clf.predict(image, modality="MR", orientation="axial")
    x, _ = clf.model_input(image)
    with torch.inference_mode():
        p = clf.forward_probs()(x[None])[0]
    assert [round(float(v), 4) for v in p] == [round(pred.probabilities[c], 4) for c in clf.spec.classes]

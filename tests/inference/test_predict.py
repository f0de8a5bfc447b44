"""Shipped demo weights: predictions and explanations on held-out phantoms, maps in slice geometry."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inference import load_model
from inference.phantoms import CONTRASTS, HELD_OUT_SEED_START, brain_slice, ct_slice, knee_exam
from inference.predict import Explanation, Prediction

SEED = HELD_OUT_SEED_START + 777


@pytest.fixture(scope="module")
def tumour():
    return load_model("tumour", device="cpu")


@pytest.fixture(scope="module")
def ct():
    return load_model("ct-lesion", device="cpu")


def _near(map_: np.ndarray, mask: np.ndarray, tol: float) -> bool:
    y, x = np.unravel_index(np.argmax(map_), map_.shape)
    ys, xs = np.nonzero(mask)
    return bool(np.min(np.hypot(ys - y, xs - x)) <= tol)


def test_tumour_prediction_on_held_out_phantoms(tumour) -> None:
    """Held-out phantoms of the generator the model learnt the finding from ("varied": the
    classic style's healthy slices carry lesion-sized blobs, which that truth calls lesions), all
    four contrasts, on a non-square grid."""
    correct = 0
    for i in range(20):
        s = brain_slice(SEED + i, (150, 120), tumour=bool(i % 2), style="varied",
                        contrast=CONTRASTS[(i // 2) % len(CONTRASTS)])
        pred = tumour.predict(s.image)
        assert isinstance(pred, Prediction) and pred.model == "tumour" and pred.demo
        assert abs(sum(pred.probabilities.values()) - 1) < 1e-5
        correct += (pred.predicted == "tumour") == s.tumour
    assert correct >= 17
    with pytest.raises(dataclasses.FrozenInstanceError):
        pred.predicted = "x"  # type: ignore[misc]


@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_tumour_maps_point_at_the_tumour_on_non_square_slices(tumour, method) -> None:
    hits = 0
    for i in range(6):
        s = brain_slice(SEED + 100 + 2 * i, (150, 120), tumour=True)
        exp = tumour.explain(s.image, method, target="tumour")
        assert isinstance(exp, Explanation) and exp.final
        assert exp.map.shape == s.image.shape and exp.map.dtype == np.float32
        assert exp.target == "tumour" and exp.method == method
        hits += _near(exp.map, s.mask, 15 * 150 / 224)
    assert hits >= 5


def test_ct_lesion_maps_point_at_the_lesion(ct) -> None:
    hits = 0
    for i in range(6):
        s = ct_slice(SEED + 200 + 2 * i, (128, 160), lesion=True)
        pred = ct.predict(s.image, modality="CT")
        exp = ct.explain(s.image, "gradcam", target="lesion")
        assert exp.map.shape == (128, 160)
        hits += _near(exp.map, s.mask, 15 * 160 / 224) and pred.probabilities["lesion"] > 0.5
    assert hits >= 5


def test_predict_batch_matches_predict(tumour) -> None:
    images = [brain_slice(SEED + i, 96).image for i in range(5)]
    batch = tumour.predict_batch(images)
    for img, p in zip(images, batch):
        single = tumour.predict(img)
        for k in single.probabilities:
            assert p.probabilities[k] == pytest.approx(single.probabilities[k], abs=1e-5)


def test_iter_explain_coarse_then_final_and_cancel(tumour) -> None:
    s = brain_slice(SEED + 5, 128, tumour=True)
    steps = list(tumour.iter_explain(s.image, "occlusion", target="tumour"))
    assert len(steps) == 2 and not steps[0].final and steps[-1].final
    assert all(st.map.shape == (128, 128) for st in steps)
    cancelled = list(tumour.iter_explain(s.image, "occlusion", cancelled=lambda: True))
    assert not any(st.final for st in cancelled)     # a cancelled explanation never ends final


def test_contrast_model_names_the_contrast() -> None:
    from inference import recipes

    clf = load_model("contrast", device="cpu")
    classes = clf.spec.classes
    correct = 0
    for i in range(20):   # held-out physics phantoms: the generator the demo weights learnt on
        s = recipes.phantom_sample("contrast", SEED + 300 + i, 112, generator="physics")
        correct += clf.predict(s.image).predicted == classes[int(s.target)]
    assert correct >= 14   # 0.92 held-out accuracy on 300; 20 slices leave room for chance
    exp = clf.explain(brain_slice(SEED, (100, 80)).image, "gradcam")
    assert exp.map.shape == (100, 80)


def test_knee_demo_any_plane_subset_and_maps() -> None:
    clf = load_model("knee", device="cpu")
    exam, labels = knee_exam(SEED + 1, size=64, acl=True, meniscus=False)
    full = clf.predict(exam)
    assert full.planes_used == ("sagittal", "coronal", "axial")
    assert set(full.per_plane) == set(full.planes_used)
    assert set(full.contributions) == set(clf.spec.classes)
    scores = []
    for i in range(6):
        ex, _ = knee_exam(SEED + 10 + i, size=64, acl=bool(i % 2), meniscus=False, abnormal=True)
        scores.append(clf.predict(ex).probabilities["ACL tear"])
    assert min(scores[1::2]) > max(scores[0::2])        # every torn ACL above every intact one
    part = clf.predict({"sagittal": exam["sagittal"]})
    assert part.planes_used == ("sagittal",) and part.warnings
    exp = clf.explain(exam, "gradcam", target="ACL tear")
    for p, stack in exam.items():
        assert exp.map[p].shape == stack.shape
        assert exp.importance[p].shape == (stack.shape[0],)

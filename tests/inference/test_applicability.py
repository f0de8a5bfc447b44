"""The applicability check: domain reasons, the out-of-distribution score and its statistics file.

Uses the shipped tumour demo model with its fitted statistics (``python -m inference.calibrate``)
and phantoms from seeds never used for training or calibration.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference import phantoms, recipes
from inference.errors import ModelLoadError
from inference.predict import load_model

HELD_OUT = recipes.HELD_OUT_SEED_START + 50_000


@pytest.fixture(scope="module")
def tumour():
    clf = load_model("tumour", device="cpu")
    assert clf.ood is not None, "the shipped tumour model must carry its statistics"
    return clf


def _volume(seed: int, size: int = 96) -> np.ndarray:
    return phantoms.brain_mr_volume(seed, n_slices=40, size=size, tumour=True)[0]


@pytest.mark.parametrize("plane", ["sagittal", "coronal"])
def test_other_plane_not_applicable_with_its_reason(tumour, plane: str) -> None:
    vol = _volume(HELD_OUT)
    img = vol[:, :, 48] if plane == "sagittal" else vol[:, 48, :]
    pred = tumour.predict(img, spacing=(1.8, 1.0), orientation=plane)
    assert not pred.applicable
    assert f"{plane} slice; this model reads axial slices" in pred.applicability.reasons


def test_ct_image_not_applicable_with_its_reason(tumour) -> None:
    ct = phantoms.ct_slice(HELD_OUT, 96).image
    with_header = tumour.predict(ct, modality="CT")
    assert "CT image; this model reads MR" in with_header.applicability.reasons
    without = tumour.predict(ct)                         # pixels alone: HU air at -1000
    assert not without.applicable
    assert any(r.startswith("CT image") for r in without.applicability.reasons)


def test_slice_enlarged_beyond_the_limit_is_not_applicable(tumour) -> None:
    """A 64 x 64 slice (an EPI mosaic tile) would be enlarged 1.5 times onto the 96 px grid:
    refused with the reason; a 72 px one (4/3) is not refused for its size."""
    from PIL import Image

    img = _volume(HELD_OUT)[20]
    small = np.asarray(Image.fromarray(img.astype(np.float32)).resize((64, 64), Image.BILINEAR))
    pred = tumour.predict(small, spacing=(3.6, 3.6))
    assert not pred.applicable
    assert any("at least 72 pixels along the longer side" in r for r in pred.applicability.reasons)
    edge = np.asarray(Image.fromarray(img.astype(np.float32)).resize((72, 54), Image.BILINEAR))
    reasons = tumour.predict(edge).applicability.reasons
    assert not any("longer side" in r or "pixels a side" in r for r in reasons)


def test_in_domain_phantoms_are_applicable(tumour) -> None:
    for seed in range(HELD_OUT, HELD_OUT + 6):
        s = recipes.phantom_sample("tumour", seed, 96)
        pred = tumour.predict(s.image, modality="MR", orientation="axial", body_part="HEAD")
        a = pred.applicability
        assert pred.applicable, a.reasons
        assert a.reasons == () and a.ood_distance is not None and a.ood_distance <= a.ood_threshold


def _auc(neg: list[float], pos: list[float]) -> float:
    """Probability that a random out-of-domain image scores above a random in-domain one."""
    n, p = np.asarray(neg)[:, None], np.asarray(pos)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def test_ood_distance_separates_knee_and_noise_from_held_out_brain(tumour) -> None:
    neg = [tumour.predict(recipes.phantom_sample("tumour", s, 96).image).applicability.ood_distance
           for s in range(HELD_OUT, HELD_OUT + 16)]
    rng = np.random.default_rng(0)
    knee = [tumour.predict(phantoms.knee_exam(HELD_OUT + i, size=96, planes=("axial",))[0]["axial"][32]
                           ).applicability.ood_distance for i in range(8)]
    noise = [tumour.predict(np.abs(rng.normal(0, 300, (96, 96))).astype(np.float32)
                            ).applicability.ood_distance for _ in range(8)]
    assert _auc(neg, knee) > 0.9
    assert _auc(neg, noise) > 0.9
    assert _auc(neg, knee + noise) > 0.9


def test_model_without_statistics_says_so(tiny_model) -> None:
    clf = load_model("x", device="cpu", manifest_path=str(tiny_model("tumour")))
    pred = clf.predict(phantoms.brain_slice(0, 64).image, orientation="axial")
    a = pred.applicability
    assert a.applicable and a.ood_distance is None
    assert any("no out-of-distribution statistics" in n for n in a.notes)
    assert clf.predict(phantoms.brain_slice(0, 64).image, orientation="coronal").applicable is False


def test_changed_statistics_file_is_refused(tmp_path: Path) -> None:
    src = Path(load_model("tumour", device="cpu").spec.manifest_path)
    for f in src.parent.glob("tumour*"):
        shutil.copy(f, tmp_path / f.name)
    data = json.loads((tmp_path / "tumour.json").read_text())
    ood = tmp_path / data["ood"]["file"]
    ood.write_bytes(ood.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ModelLoadError, match="sha256"):
        load_model("x", device="cpu", manifest_path=str(tmp_path / "tumour.json"))


def test_knee_exam_of_a_brain_is_not_applicable() -> None:
    knee = load_model("knee", device="cpu")
    vol = phantoms.brain_mr_volume(HELD_OUT, n_slices=64, size=64)[0]
    exam = {"axial": vol, "coronal": vol.transpose(1, 0, 2).copy(), "sagittal": vol.transpose(2, 0, 1).copy()}
    pred = knee.predict(exam)
    assert not pred.applicable
    assert any("stack unlike the training data" in r for r in pred.applicability.reasons)
    own, _ = phantoms.knee_exam(HELD_OUT, size=64)
    assert knee.predict(own).applicable

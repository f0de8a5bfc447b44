"""Wrong or broken input gets a clear InputError or a warning, never a crash."""
from __future__ import annotations

import numpy as np
import pytest

from inference.errors import InputError
from inference.phantoms import brain_slice, knee_exam
from inference.predict import load_model


@pytest.fixture
def tumour(tiny_model):
    return load_model("x", device="cpu", manifest_path=str(tiny_model("tumour")))


@pytest.fixture
def ct(tiny_model):
    return load_model("x", device="cpu", manifest_path=str(tiny_model("ct-lesion")))


@pytest.fixture
def knee(tiny_model):
    return load_model("x", device="cpu", manifest_path=str(tiny_model("knee")))


def test_rgb_slice_refused(tumour) -> None:
    with pytest.raises(InputError, match="colour"):
        tumour.predict(np.zeros((64, 64, 3), np.uint8))


@pytest.mark.parametrize("shape,word", [((10, 64), "at least"), ((5000, 32), "not supported"),
                                        ((4, 64, 64), "expected one")])
def test_bad_shapes_refused(tumour, shape, word) -> None:
    with pytest.raises(InputError, match=word):
        tumour.predict(np.ones(shape, np.float32))


def test_all_nan_refused_some_nan_warned(tumour) -> None:
    with pytest.raises(InputError, match="no valid pixel"):
        tumour.predict(np.full((32, 32), np.nan, np.float32))
    img = brain_slice(0, 64).image.copy()
    img[:5, :5] = np.nan
    pred = tumour.predict(img)
    assert any("NaN" in w for w in pred.warnings)
    assert all(np.isfinite(v) for v in pred.probabilities.values())
    exp = tumour.explain(img, "gradcam")
    assert np.isfinite(exp.map).all()


def test_constant_slice_flagged(tumour) -> None:
    pred = tumour.predict(np.full((64, 64), 300.0, np.float32))
    assert any("uniform" in w for w in pred.warnings)
    assert abs(sum(pred.probabilities.values()) - 1) < 1e-5


def test_modality_mismatch_not_applicable(ct, tumour) -> None:
    pred = ct.predict(brain_slice(0, 64).image, modality="MR")
    assert not pred.applicable
    assert "MR image; this model reads CT" in pred.applicability.reasons
    pred = tumour.predict(brain_slice(0, 64).image, modality="CT")
    assert "CT image; this model reads MR" in pred.applicability.reasons


def test_mr_values_on_ct_model_not_applicable(ct) -> None:
    pred = ct.predict(brain_slice(0, 64).image)
    assert not pred.applicable
    assert any("Hounsfield" in r for r in pred.applicability.reasons)


def test_knee_model_on_brain_refused(knee) -> None:
    with pytest.raises(InputError, match="whole exam"):
        knee.predict(brain_slice(0, 64).image)
    exam, _ = knee_exam(0, size=32)
    pred = knee.predict(exam, body_part="BRAIN")
    assert "brain image; this model reads knee images" in pred.applicability.reasons
    with pytest.raises(InputError, match="planes"):
        knee.predict({"oblique": exam["axial"]})
    with pytest.raises(InputError, match="at least one"):
        knee.predict({})


def test_unknown_explain_method_and_target(tumour) -> None:
    img = brain_slice(0, 64).image
    with pytest.raises(ValueError, match="method"):
        tumour.explain(img, "lime")
    with pytest.raises(ValueError, match="not a class"):
        tumour.explain(img, "gradcam", target="fracture")


def test_non_axial_slice_not_applicable(tumour) -> None:
    pred = tumour.predict(brain_slice(0, 64).image, orientation="sagittal")
    assert pred.applicability.reasons[0] == "sagittal slice; this model reads axial slices"

"""The shipped demo models on real DICOM (checking only; skipped without ../shared/dicom).

Truth known from the acquisition: brain_mr_t1_sagittal is a T1 FLASH of a healthy adult, in the
sagittal plane. The contrast model must call it T1 by series vote and on most slices; the tumour
model must not call most of its slices "tumour".
"""
from __future__ import annotations

import pytest

from tests.inference.real_series_calls import SHARED, series_calls

BRAIN = SHARED / "brain_mr_t1_sagittal"
pytestmark = pytest.mark.skipif(not BRAIN.is_dir(), reason="../shared/dicom is not present")


def test_contrast_model_calls_the_real_t1_series_t1() -> None:
    r = series_calls("contrast", BRAIN)
    assert r["n"] == 35
    assert r["vote"] == "T1", r["counts"]
    assert r["counts"]["T1"] > r["n"] / 2, r["counts"]


@pytest.mark.xfail(reason="aim not reached: the shipped tumour model (axial, varied-faint phantoms) "
                          "calls 18 of 35 healthy sagittal slices 'tumour' (the plane check marks "
                          "every one out of domain from the header; this test asks for the call "
                          "itself)", strict=False)
def test_tumour_model_calls_most_healthy_slices_healthy() -> None:
    r = series_calls("tumour", BRAIN)
    assert r["counts"].get("tumour", 0) < r["n"] / 2, r["counts"]

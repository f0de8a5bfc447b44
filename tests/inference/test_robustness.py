"""inference.robustness: the blur and edge enhancement are scaled to the model's input grid, and
the report counts what a reader would be shown."""
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage as ndi

from inference.robustness import robustness_lines, robustness_report, sharpen, soften


def test_changes_are_sized_in_model_pixels():
    img = np.random.default_rng(0).random((192, 160)).astype(np.float32)
    # a 192-px slice read by a 96-px model: one model pixel is two image pixels
    np.testing.assert_allclose(soften(img, 96), ndi.gaussian_filter(img, 2.0), atol=1e-6)
    np.testing.assert_allclose(sharpen(img, 96, 0.5), img + 0.5 * (img - ndi.gaussian_filter(img, 2.0)),
                               atol=1e-5)


class _SmoothLover:
    """A 'detector' that calls a finding wherever the image is smooth: the shortcut the report
    is there to expose; it refuses images whose maximum is over 1.2 (its 'domain')."""

    spec = SimpleNamespace(input={"size": 32}, task="tumour", classes=("no tumour", "tumour"))

    def predict_batch(self, images):
        out = []
        for im in images:
            rough = float(np.abs(np.diff(im, axis=0)).mean())
            p = 1.0 / (1.0 + np.exp((rough - 0.2) * 40))
            out.append(SimpleNamespace(probabilities={"tumour": p, "no tumour": 1 - p},
                                       applicable=bool(im.max() <= 1.2)))
        return out


def test_report_exposes_a_smooth_image_shortcut():
    rng = np.random.default_rng(1)
    samples = [SimpleNamespace(image=rng.random((32, 32)).astype(np.float32) * (0.5 if k % 2 else 1.0),
                               target=k % 2) for k in range(40)]
    rep = robustness_report(_SmoothLover(), samples)
    drawn, soft = rep["changes"]["as drawn"], rep["changes"]["blurred (1 px)"]
    assert drawn["false_positive_rate"] == 0.0 and drawn["sensitivity"] == 1.0
    assert soft["false_positive_rate"] == 1.0                 # every healthy image blurred: "finding"
    assert soft["false_positives_shown"] == 1.0 and soft["refused"] == 0.0
    sharp = rep["changes"]["edge-enhanced (0.7)"]
    assert sharp["refused"] > 0 and sharp["false_positives_shown"] <= sharp["false_positive_rate"]
    assert rep["n"] == 40 and len(robustness_lines(rep)) == 3
    assert "without a notice" in robustness_lines(rep)[1]


@pytest.mark.parametrize("change", [soften, sharpen])
def test_changes_keep_shape_and_dtype(change):
    img = np.ones((50, 70), np.uint16)
    out = change(img, 96)
    assert out.shape == img.shape and out.dtype == np.float32


def test_as_drawn_row_reuses_the_callers_predictions():
    """inference.evaluate has classified the samples already: the report does not do it twice."""
    rng = np.random.default_rng(2)
    samples = [SimpleNamespace(image=rng.random((32, 32)).astype(np.float32), target=k % 2)
               for k in range(10)]
    clf = _SmoothLover()
    drawn = clf.predict_batch([s.image for s in samples])
    calls = []
    clf.predict_batch = lambda images: calls.append(len(images)) or _SmoothLover.predict_batch(clf, images)
    with_drawn = robustness_report(clf, samples, drawn=drawn)
    assert calls == [10, 10]                                   # blurred and edge-enhanced only
    plain = robustness_report(_SmoothLover(), samples)
    assert with_drawn["changes"]["as drawn"] == plain["changes"]["as drawn"]

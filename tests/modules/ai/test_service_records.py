"""The AI module's jobs hand on the classifier's records as they are (no field-by-field copies):
a MapResult holds the very Explanation the classifier yielded, scores included."""
from __future__ import annotations

import threading

import numpy as np

from inference.results import Explanation, MapScores, Pointing, Prediction
from tests.modules.ai.support import brain_volume


class _Spec:
    name, level, classes = "fake", "slice", ("no tumour", "tumour")


class _FakeClassifier:
    """Records what iter_explain was asked and yields prepared Explanations."""

    spec = _Spec()

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.yielded: list[Explanation] = []

    def iter_explain(self, image, method, target, **kw):
        self.calls.append({"method": method, "shape": image.shape, **kw})
        pred = Prediction("fake", {"no tumour": 0.2, "tumour": 0.8}, "tumour")
        scores = MapScores(0.25, None, Pointing(True, False, 3.0), 0.5)
        for final in (False, True):
            exp = Explanation(np.zeros(image.shape, np.float32), method, "tumour", "fake", pred,
                              final=final, pass_index=int(final), passes=2,
                              scores=scores if final else None)
            self.yielded.append(exp)
            yield exp


class _Pool:
    def __init__(self, clf) -> None:
        self.clf, self.lock = clf, threading.RLock()

    def get(self, name):
        return self.clf, self.lock


def test_slice_maps_hold_the_classifiers_explanations_as_they_are():
    from viewer.modules.ai.service import iter_slice_maps

    vol = brain_volume(n=4, size=32)
    mask = np.zeros(vol.shape, bool)
    mask[2, 10:20, 10:20] = True
    clf = _FakeClassifier()
    results = list(iter_slice_maps(_Pool(clf), vol, 2, "fake", ("occlusion",), truth=lambda: mask))
    assert [r.explanation for r in results] == clf.yielded          # identity (eq=False)
    final = results[-1]
    assert final.final and not results[0].final
    assert final.prediction is clf.yielded[-1].prediction
    assert final.deletion_auc == 0.25 and final.pointing == Pointing(True, False, 3.0)
    call = clf.calls[0]
    np.testing.assert_array_equal(call["mask"], mask[2])           # the slice's mask goes in
    assert call["faithfulness"] is True and call["shape"] == (32, 32)

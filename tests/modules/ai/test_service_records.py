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


def test_slice_maps_hold_the_classifiers_explanations_as_they_are(monkeypatch):
    from viewer.modules.ai.service import iter_slice_maps

    vol = brain_volume(n=4, size=32)
    mask = np.zeros(vol.shape, bool)
    mask[2, 10:20, 10:20] = True
    clf = _FakeClassifier()
    scored = MapScores(0.25, None, Pointing(True, False, 3.0), 0.5, random_deletion_aucs=(0.7,) * 5,
                       vs_random=2.5, better_than_random=True)
    asked = []

    def fake_score_map(c, image, heat, target, *, mask=None, spacing=None, deletion=True):
        asked.append((c, image.shape, heat, target, mask, deletion))
        return scored

    import inference.explain.faithfulness as faith
    monkeypatch.setattr(faith, "score_map", fake_score_map)
    results = list(iter_slice_maps(_Pool(clf), vol, 2, "fake", ("occlusion",), truth=lambda: mask))
    # coarse pass, the final map as soon as it is made, then the same map with its deletion score
    assert [r.explanation for r in results[:2]] == clf.yielded          # identity (eq=False)
    assert [(r.final, r.scored) for r in results] == [(False, True), (True, False), (True, True)]
    assert results[0].scores is None                                    # no score on a coarse map
    final = results[-1]
    assert final.explanation.map is clf.yielded[-1].map
    assert final.prediction is clf.yielded[-1].prediction
    assert final.deletion_auc == 0.25 and final.scores.vs_random == 2.5
    assert final.pointing == Pointing(True, False, 3.0)
    call = clf.calls[0]
    np.testing.assert_array_equal(call["mask"], mask[2])           # the slice's mask goes in
    assert call["faithfulness"] is False and call["shape"] == (32, 32)
    assert call["orientation"] == "axial"                          # the plane is checked
    assert len(asked) == 1 and asked[0][0] is clf and asked[0][5] is True
    np.testing.assert_array_equal(asked[0][4], mask[2])

"""``inference.evaluate.reader_view``: what a reader is shown, counted per call."""
from __future__ import annotations

import numpy as np

from inference.evaluate import reader_view
from inference.results import Applicability, Prediction


def _pred(p_pos: float, applicable: bool) -> Prediction:
    app = Applicability(applicable, () if applicable else ("image unlike the training data",))
    return Prediction("m", {"no": 1 - p_pos, "yes": p_pos}, "yes" if p_pos >= 0.5 else "no",
                      applicability=app)


def test_confident_wrong_calls_without_a_notice_are_counted_apart() -> None:
    cases = [(0.95, True, 0),   # confident, wrong, no notice: the outcome to avoid
             (0.6, True, 0),    # wrong, not confident
             (0.95, False, 0),  # wrong but flagged out of domain
             (0.9, True, 1),    # right
             ]
    preds = [_pred(p, a) for p, a, _ in cases]
    probs = np.array([[1 - p, p] for p, _, _ in cases])
    y = np.array([t for _, _, t in cases])
    rv = reader_view(preds, probs, y)
    assert rv["applicable"] == 0.75 and rv["wrong_applicable"] == 0.5
    assert rv["confident_wrong_unflagged"] == 0.25 and rv["n"] == 4

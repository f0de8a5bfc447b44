"""Reader-study figures on a hand-computed six-case example."""
from __future__ import annotations

import pytest

from viewer.modules.teaching.session import CaseRecord, Phase
from viewer.modules.teaching.summary import Rate, mcnemar_exact, summarise

N, T = "no tumour", "tumour"


def _rec(i, truth, before, after, ai, helpful="", revealed=True) -> CaseRecord:
    return CaseRecord(f"c{i}", "Q?", truth, Phase.CLOSED if revealed else Phase.ANSWERED,
                      answer_before=before, confidence_before=3, ai_model="m", ai_answer=ai,
                      ai_probability=0.8, helpfulness=helpful,
                      answer_after=after if revealed else "", confidence_after=3 if revealed else 0,
                      seconds_to_answer=10.0 * i, seconds_total=10.0 + i)


RECORDS = [
    _rec(1, T, T, T, T, "yes"),
    _rec(2, N, T, N, N, "yes"),        # wrong -> right, following the AI
    _rec(3, T, N, N, N, "not"),        # AI wrong, reader stays wrong
    _rec(4, N, N, T, T, "somewhat"),   # right -> wrong, misled by the AI
    _rec(5, T, T, "", T, revealed=False),
    _rec(6, N, N, N, N),
]


def test_hand_computed_reader_study_table():
    s = summarise(RECORDS, "Dr A", [(N, T)] * 6)
    assert (s.n_cases, s.n_answered, s.n_revealed) == (6, 6, 5)
    assert s.accuracy_before_all == Rate(4, 6)
    assert s.accuracy_before == Rate(3, 5) and s.accuracy_after == Rate(3, 5)
    assert s.ai_accuracy == Rate(4, 6)
    assert s.agreement_before == Rate(3, 5) and s.agreement_after == Rate(5, 5)
    assert (s.changed, s.wrong_to_right, s.right_to_wrong) == (2, 1, 1)
    assert s.mcnemar_p == 1.0
    assert s.helpfulness == {"not": 1, "somewhat": 1, "yes": 2, "unrated": 1}
    assert s.helpfulness_by_ai["ai correct"] == {"not": 0, "somewhat": 0, "yes": 2, "unrated": 1}
    assert s.helpfulness_by_ai["ai wrong"] == {"not": 1, "somewhat": 1, "yes": 0, "unrated": 0}
    before, after, ai = s.confusions
    assert before.labels == (N, T)
    assert before.counts == ((2, 1), (1, 2))
    assert after.counts == ((2, 1), (1, 1))
    assert ai.counts == ((2, 1), (1, 2)) and ai.total == 6
    assert s.median_seconds_to_answer == 35.0 and s.mean_seconds_total == 13.5
    table = dict(s.table())
    assert table["Reader accuracy before AI (all answered)"].startswith("66.7 % (4/6; 95 % CI 30.0-90.3)")
    assert table["Agreement with AI after seeing it"].startswith("100.0 % (5/5")
    assert table["Answers changed after the AI"] == "2 (1 wrong->right, 1 right->wrong)"
    assert table["Heat map helpful: yes"] == "2 (40 %)"


def test_wilson_interval_and_mcnemar_reference_values():
    lo, hi = Rate(4, 6).interval
    assert lo == pytest.approx(0.3000, abs=1e-4) and hi == pytest.approx(0.9032, abs=1e-4)
    assert Rate(0, 0).value is None and Rate(0, 0).text() == "n/a (0 cases)"
    assert mcnemar_exact(0, 5) == pytest.approx(0.0625)
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_exact(0, 0) is None


def test_empty_session_has_no_rates():
    s = summarise([CaseRecord("a", "Q", T)])
    assert s.n_answered == 0 and s.accuracy_after.value is None
    assert s.median_seconds_to_answer is None
    assert dict(s.table())["Cases answered"] == "0 of 1"


def test_student_text_speaks_plainly_and_rounds_once():
    from inference.results import Pointing
    from viewer.modules.teaching.ai_view import percent, pointing_text

    assert percent(0.997) == "99.7 %" and percent(1.0) == "100.0 %"
    on = pointing_text(Pointing(True, True, 15.0))
    near = pointing_text(Pointing(True, False, 15.0))
    away = pointing_text(Pointing(False, False, 15.0))
    for text in (on, near, away):
        assert "pointing" not in text and "mask" not in text
    assert "on the lesion" in on and "next to" in near and "away" in away

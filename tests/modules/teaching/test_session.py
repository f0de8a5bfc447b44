"""The quiz state machine: the AI stays locked until an answer, revisions, closing, timing."""
from __future__ import annotations

import pytest

from viewer.modules.teaching.caselist import Case, CaseList
from viewer.modules.teaching.replay import ManualClock
from viewer.modules.teaching.session import Phase, QuizError, QuizSession


def _cases(n: int = 3) -> CaseList:
    return CaseList("T", tuple(Case(f"c{i}", "/x", "Tumour?", ("no tumour", "tumour"),
                                    "tumour" if i % 2 else "no tumour") for i in range(n)))


def test_ai_locked_until_answered_then_revise_and_close():
    clock = ManualClock()
    s = QuizSession(_cases(), reader="R", clock=clock)
    s.start()
    with pytest.raises(QuizError, match="record your answer first"):
        s.reveal()
    with pytest.raises(QuizError, match="once the AI result is shown"):
        s.rate("yes")
    with pytest.raises(QuizError, match="finished once its AI"):
        s.close()
    s.set_ai("TUMOUR", 0.9, "tumour")
    assert s.record.ai_answer == "tumour"  # mapped onto the option label
    clock.advance(4)
    s.record_answer(1, 2)
    clock.advance(2)
    rec = s.record_answer("no tumour", 4)  # changed before the reveal: still the "before" answer
    assert (rec.phase, rec.answer_before, rec.confidence_before, rec.seconds_to_answer) == \
        (Phase.ANSWERED, "no tumour", 4, 6.0)
    rec = s.reveal()
    assert rec.revealed and rec.answer_after == "no tumour"
    clock.advance(3)
    s.rate("somewhat")
    rec = s.record_answer(1, 5)
    assert rec.changed and rec.answer_before == "no tumour" and rec.answer_after == "tumour"
    rec = s.close()
    assert rec.phase == Phase.CLOSED and rec.seconds_after_reveal == 3.0 and rec.seconds_total == 9.0
    with pytest.raises(QuizError, match="finished"):
        s.record_answer(0)
    with pytest.raises(QuizError, match="not an answer option"):
        s.option("maybe")
    with pytest.raises(QuizError, match="no option 3"):
        s.option(2)
    with pytest.raises(QuizError, match="confidence must be 1"):
        s.go_to(1) and s.record_answer(0, 7)


def test_time_adds_up_over_visits_and_next_closes_revealed():
    clock = ManualClock()
    s = QuizSession(_cases(), clock=clock)
    s.start()
    clock.advance(5)
    assert s.next()          # unanswered case 0 left open
    clock.advance(7)
    s.record_answer(0)
    s.reveal()
    assert s.next()          # revealed case 1 is closed on the way out
    assert s.records()[1].phase == Phase.CLOSED and s.records()[1].seconds_total == 7.0
    assert s.previous() and s.previous()
    clock.advance(2)
    s.record_answer(1)
    assert s.record.seconds_to_answer == 7.0      # 5 s first visit + 2 s now
    assert s.progress() == (1, 3) and not s.finished
    assert not QuizSession(_cases(1), clock=clock).next()


def test_answers_json_round_trips_through_replay_format():
    clock = ManualClock()
    s = QuizSession(_cases(2), reader="Dr A", clock=clock)
    s.start()
    clock.advance(1.5)
    s.record_answer(1, 4)
    s.reveal()
    s.rate("yes")
    doc = s.answers_json()
    assert doc["reader"] == "Dr A"
    assert doc["answers"] == [{"case": "c0", "answer": "tumour", "confidence": 4,
                               "seconds_to_answer": 1.5, "revised": "tumour",
                               "confidence_after": 4, "helpfulness": "yes",
                               "seconds_after_reveal": 0.0}]
    with pytest.raises(QuizError, match="helpfulness must be one of"):
        s.rate("very")

"""The quiz state machine of a teaching session or reader study (no Qt, no torch).

Per case the phases run ``unanswered -> answered -> revealed -> closed``:

- ``record_answer`` (unanswered/answered): the reader's answer before seeing the AI, with a
  confidence 1 (guess) .. 5 (certain); it may be changed until the AI is revealed.
- ``reveal`` (answered only): the AI result and its heat map may now be shown.
- ``rate`` (revealed): helpfulness of the heat map, ``not`` / ``somewhat`` / ``yes``.
- ``record_answer`` again (revealed): a revised answer after seeing the AI.
- ``close`` (revealed): the case is finished; answers are locked, truth and notes may be shown.

Time is counted per case while it is the current case (visits add up): seconds until the last
answer before the AI, seconds from reveal to close, and total seconds until close. The clock is
injectable (``time.monotonic`` by default) so replays and tests are exact.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any

from viewer.modules.teaching.caselist import Case, CaseList

HELPFULNESS = ("not", "somewhat", "yes")
CONFIDENCE_RANGE = (1, 5)
DEFAULT_CONFIDENCE = 3


class QuizError(RuntimeError):
    """An action the current phase does not allow (message says what to do instead)."""


class Phase(str, Enum):
    UNANSWERED = "unanswered"
    ANSWERED = "answered"
    REVEALED = "revealed"
    CLOSED = "closed"


@dataclass(frozen=True)
class CaseRecord:
    """What happened on one case. Answers are option labels ("" = none); confidence 1..5 (0 =
    none); ``ai_probability`` is the model's probability of its answer; times in seconds."""

    case_id: str
    question: str
    truth: str
    phase: Phase = Phase.UNANSWERED
    answer_before: str = ""
    confidence_before: int = 0
    ai_model: str = ""
    ai_answer: str = ""
    ai_probability: float | None = None
    ai_error: str = ""
    helpfulness: str = ""
    answer_after: str = ""
    confidence_after: int = 0
    seconds_to_answer: float = 0.0
    seconds_after_reveal: float = 0.0
    seconds_total: float = 0.0

    @property
    def answered(self) -> bool:
        return bool(self.answer_before)

    @property
    def revealed(self) -> bool:
        return self.phase in (Phase.REVEALED, Phase.CLOSED)

    @property
    def correct_before(self) -> bool | None:
        return _same(self.answer_before, self.truth) if self.answer_before else None

    @property
    def correct_after(self) -> bool | None:
        return _same(self.answer_after, self.truth) if self.revealed and self.answer_after else None

    @property
    def ai_correct(self) -> bool | None:
        return _same(self.ai_answer, self.truth) if self.ai_answer else None

    @property
    def changed(self) -> bool:
        """The reader changed the answer after seeing the AI."""
        return self.revealed and bool(self.answer_after) and not _same(self.answer_after,
                                                                      self.answer_before)


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


class QuizSession:
    """A reader's pass through a case list (see the module docstring).

    ``current`` is the case on screen; ``index`` its position. Every mutating call returns the
    updated :class:`CaseRecord` of the current case and raises :class:`QuizError` when the phase
    does not allow it.
    """

    def __init__(self, cases: CaseList, reader: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not cases.cases:
            raise QuizError("the case list has no cases")
        self.cases = cases
        self.reader = reader
        self._clock = clock
        self._records = [CaseRecord(c.case_id, c.question, c.truth) for c in cases.cases]
        self._spent = [0.0] * len(cases.cases)
        self._reveal_at = [0.0] * len(cases.cases)
        self.index = 0
        self._entered: float | None = None
        self.started_at = time.time()

    # -- navigation and time ---------------------------------------------------------------
    @property
    def current(self) -> Case:
        return self.cases.cases[self.index]

    @property
    def record(self) -> CaseRecord:
        return self._records[self.index]

    @property
    def phase(self) -> Phase:
        return self.record.phase

    def __len__(self) -> int:
        return len(self._records)

    def start(self) -> Case:
        """Start (or resume) timing the current case."""
        if self._entered is None:
            self._entered = self._clock()
        return self.current

    def pause(self) -> None:
        """Stop the clock (window hidden, session saved and left)."""
        if self._entered is not None:
            self._spent[self.index] += self._clock() - self._entered
            self._entered = None

    def elapsed(self, i: int | None = None) -> float:
        """Seconds spent on case ``i`` (default: current) so far."""
        i = self.index if i is None else i
        running = self._clock() - self._entered if (i == self.index and self._entered is not None) else 0.0
        return self._spent[i] + running

    def go_to(self, i: int) -> Case:
        """Make case ``i`` (0-based) current; time on the one left stops counting."""
        if not 0 <= i < len(self._records):
            raise QuizError(f"there is no case {i + 1}; the list has {len(self._records)}")
        running = self._entered is not None
        self.pause()
        self.index = i
        if running:
            self.start()
        return self.current

    def next(self) -> bool:
        """Go to the next case (closing a revealed one); False at the end of the list."""
        if self.phase == Phase.REVEALED:
            self.close()
        if self.index + 1 >= len(self._records):
            return False
        self.go_to(self.index + 1)
        return True

    def previous(self) -> bool:
        """Go to the previous case; False at the start."""
        if self.index == 0:
            return False
        self.go_to(self.index - 1)
        return True

    # -- answers -----------------------------------------------------------------------------
    def option(self, choice: str | int) -> str:
        """The option label for ``choice`` (0-based index or label, case-insensitive)."""
        opts = self.current.options
        if isinstance(choice, int):
            if not 0 <= choice < len(opts):
                raise QuizError(f"this case has {len(opts)} answer options; there is no "
                                f"option {choice + 1}")
            return opts[choice]
        n = self.current.option_index(choice)
        if n < 0:
            raise QuizError(f"{choice!r} is not an answer option of this case "
                            f"({', '.join(opts)})")
        return opts[n]

    def record_answer(self, choice: str | int, confidence: int = DEFAULT_CONFIDENCE) -> CaseRecord:
        """The reader's answer: before the AI (unanswered/answered) or a revision (revealed)."""
        label = self.option(choice)
        lo, hi = CONFIDENCE_RANGE
        if not lo <= int(confidence) <= hi:
            raise QuizError(f"confidence must be {lo} (guess) to {hi} (certain), not {confidence}")
        rec, phase = self.record, self.phase
        if phase == Phase.CLOSED:
            raise QuizError("this case is finished; its answers can no longer change")
        if phase == Phase.REVEALED:
            rec = replace(rec, answer_after=label, confidence_after=int(confidence))
        else:
            rec = replace(rec, phase=Phase.ANSWERED, answer_before=label,
                          confidence_before=int(confidence),
                          seconds_to_answer=round(self.elapsed(), 3))
        return self._store(rec)

    def set_ai(self, answer: str, probability: float | None, model: str, error: str = "",
               i: int | None = None) -> CaseRecord:
        """Store the AI's answer for case ``i`` (default current); hidden until revealed.
        ``answer`` is mapped onto the case's option labels when it matches one."""
        i = self.index if i is None else i
        case = self.cases.cases[i]
        n = case.option_index(answer) if answer else -1
        label = case.options[n] if n >= 0 else answer
        rec = replace(self._records[i], ai_answer=label, ai_model=model, ai_error=error,
                      ai_probability=None if probability is None else float(probability))
        self._records[i] = rec
        return rec

    def reveal(self) -> CaseRecord:
        """Allow the AI result to be shown; only after an answer was recorded."""
        phase = self.phase
        if phase == Phase.UNANSWERED:
            raise QuizError("record your answer first: the AI result stays hidden until then")
        if phase != Phase.ANSWERED:
            return self.record
        self._reveal_at[self.index] = self.elapsed()
        rec = self.record
        return self._store(replace(rec, phase=Phase.REVEALED, answer_after=rec.answer_before,
                                   confidence_after=rec.confidence_before))

    def rate(self, helpfulness: str) -> CaseRecord:
        """How helpful the heat map was: "not", "somewhat" or "yes" (after the reveal)."""
        value = helpfulness.strip().lower()
        if value not in HELPFULNESS:
            raise QuizError(f"helpfulness must be one of {', '.join(HELPFULNESS)}, not {helpfulness!r}")
        if self.phase != Phase.REVEALED:
            raise QuizError("the heat map can be rated once the AI result is shown and before "
                            "the case is finished")
        return self._store(replace(self.record, helpfulness=value))

    def close(self) -> CaseRecord:
        """Finish a revealed case: answers lock and the time stops counting for it."""
        if self.phase != Phase.REVEALED:
            raise QuizError("a case can be finished once its AI result has been shown")
        total = self.elapsed()
        return self._store(replace(self.record, phase=Phase.CLOSED, seconds_total=round(total, 3),
                                   seconds_after_reveal=round(total - self._reveal_at[self.index], 3)))

    def _store(self, rec: CaseRecord) -> CaseRecord:
        self._records[self.index] = rec
        return rec

    # -- results ---------------------------------------------------------------------------
    def records(self) -> tuple[CaseRecord, ...]:
        """Every case's record; open cases carry their time so far."""
        out = []
        for i, rec in enumerate(self._records):
            if rec.phase != Phase.CLOSED:
                total = self.elapsed(i)
                after = total - self._reveal_at[i] if rec.revealed else 0.0
                rec = replace(rec, seconds_total=round(total, 3),
                              seconds_after_reveal=round(after, 3))
            out.append(rec)
        return tuple(out)

    @property
    def finished(self) -> bool:
        """Every case is closed."""
        return all(r.phase == Phase.CLOSED for r in self._records)

    def progress(self) -> tuple[int, int]:
        """(closed cases, all cases)."""
        return sum(r.phase == Phase.CLOSED for r in self._records), len(self._records)

    def answers_json(self) -> dict[str, Any]:
        """The reader's inputs in the ``--replay ANSWERS.json`` format (replays reproduce them)."""
        answers = []
        for rec in self.records():
            if not rec.answered:
                continue
            doc: dict[str, Any] = {"case": rec.case_id, "answer": rec.answer_before,
                                   "confidence": rec.confidence_before,
                                   "seconds_to_answer": rec.seconds_to_answer}
            if rec.revealed:
                doc.update(revised=rec.answer_after, confidence_after=rec.confidence_after,
                           helpfulness=rec.helpfulness,
                           seconds_after_reveal=rec.seconds_after_reveal)
            answers.append(doc)
        return {"reader": self.reader, "case_list": self.cases.title, "answers": answers}


def record_dict(rec: CaseRecord) -> dict[str, Any]:
    """A record as a flat dict (phase as text) for JSON."""
    doc = asdict(rec)
    doc["phase"] = rec.phase.value
    return doc

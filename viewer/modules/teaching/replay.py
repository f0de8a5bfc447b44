"""Headless replay of a quiz session: answers from a JSON file (the ``-answers.json`` a GUI
session writes, or one written by hand) or "first" (the first option for every case, a smoke test
of a case list), through the same state machine as the GUI, with the AI run for every case.

Answers JSON: ``{"reader": "...", "answers": [{"case": "case01", "answer": "tumour",
"confidence": 4, "seconds_to_answer": 12.5, "revised": "no tumour", "confidence_after": 3,
"helpfulness": "yes", "seconds_after_reveal": 6.0}, ...]}``; ``revised``/``helpfulness`` are
optional, and a case whose entry has ``"reveal": false`` is answered but its AI stays hidden.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer.modules.teaching.ai import CaseAI, ClassifierPool, key_slice, load_case_volume, run_case_ai
from viewer.modules.teaching.caselist import CaseList
from viewer.modules.teaching.session import DEFAULT_CONFIDENCE, QuizError, QuizSession

FIRST = "first"


class AnswersError(ValueError):
    """An answers file that does not fit its case list (message lists every problem)."""


class ManualClock:
    """A clock that moves only when told (replays record the file's times exactly)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, float(seconds))


@dataclass(frozen=True)
class ReplayResult:
    session: QuizSession
    ai: dict[str, CaseAI]


def load_answers(path: str | Path) -> dict[str, Any]:
    """Read an answers JSON file (AnswersError when unreadable)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnswersError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise AnswersError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(doc, list):
        doc = {"answers": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("answers"), (list, dict)):
        raise AnswersError(f'{path}: expected an object with an "answers" list')
    return doc


def _entries(doc: dict[str, Any], cases: CaseList) -> dict[str, dict[str, Any]]:
    raw = doc["answers"]
    if isinstance(raw, dict):  # {"case01": {...}} or {"case01": "tumour"}
        raw = [{"case": k, **(v if isinstance(v, dict) else {"answer": v})} for k, v in raw.items()]
    known = {c.case_id: c for c in cases.cases}
    problems, out = [], {}
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not entry.get("case"):
            problems.append(f"answer {n}: needs a \"case\" id")
            continue
        cid = str(entry["case"])
        if cid not in known:
            problems.append(f"answer {n}: no case {cid!r} in the list")
            continue
        case = known[cid]
        for key in ("answer", "revised"):
            value = entry.get(key)
            if value and case.option_index(str(value)) < 0:
                problems.append(f"case {cid}: {key} {value!r} is not an option "
                                f"({', '.join(case.options)})")
        if not entry.get("answer"):
            problems.append(f"case {cid}: no answer given")
        out[cid] = entry
    if problems:
        raise AnswersError("the answers do not fit the case list:\n" + "\n".join(
            f"  - {p}" for p in problems))
    return out


def replay(cases: CaseList, pool: ClassifierPool, answers: dict[str, Any] | str = FIRST,
           methods: Sequence[str] = ("gradcam",),
           progress: Callable[[int, int, str], None] | None = None) -> ReplayResult:
    """Answer every case without a display and run its AI; returns the session and AI results.

    ``answers``: an answers document (see module docstring) or ``"first"``.
    """
    clock = ManualClock()
    reader = "replay: first option" if answers == FIRST else str(answers.get("reader", ""))
    entries = {} if answers == FIRST else _entries(answers, cases)  # type: ignore[arg-type]
    session = QuizSession(cases, reader=reader or "replay", clock=clock)
    session.start()
    results: dict[str, CaseAI] = {}
    for i, case in enumerate(cases.cases):
        session.go_to(i)
        if progress is not None:
            progress(i, len(cases), case.case_id)
        try:
            volume = load_case_volume(case)
            k = key_slice(case, volume.n_slices)
        except Exception as exc:  # reported per case; the replay goes on
            ai = CaseAI(case.case_id, -1, model=case.model, error=f"{type(exc).__name__}: {exc}")
        else:
            ai = run_case_ai(case, volume, k, methods, pool)
        results[case.case_id] = ai
        session.set_ai(ai.call, ai.call_probability, ai.model, ai.note)  # no out-of-domain call
        if answers == FIRST:
            entry: dict[str, Any] | None = {"answer": case.options[0]}
        else:
            entry = entries.get(case.case_id)
        if entry is None:
            continue
        try:
            clock.advance(float(entry.get("seconds_to_answer", 0.0)))
            session.record_answer(str(entry["answer"]),
                                  int(entry.get("confidence", DEFAULT_CONFIDENCE)))
            if entry.get("reveal", True) is False:
                continue
            session.reveal()
            clock.advance(float(entry.get("seconds_after_reveal", 0.0)))
            if entry.get("helpfulness"):
                session.rate(str(entry["helpfulness"]))
            if entry.get("revised"):
                session.record_answer(str(entry["revised"]), int(entry.get(
                    "confidence_after", entry.get("confidence", DEFAULT_CONFIDENCE))))
            session.close()
        except (QuizError, TypeError, ValueError) as exc:
            raise AnswersError(f"case {case.case_id}: {exc}") from None
    session.pause()
    if progress is not None:
        progress(len(cases), len(cases), "")
    return ReplayResult(session, results)

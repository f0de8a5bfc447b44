"""The reader-study table of a session: accuracy before vs after the AI, agreement with the AI,
confusion matrices, helpfulness distribution and reading times (no Qt, no torch).

Before/after comparisons are paired: both rates count the same cases (those whose AI result was
revealed), and McNemar's exact test on the discordant cases says whether the change is more than
chance. Rates carry Wilson 95 % intervals.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from viewer.modules.teaching.session import HELPFULNESS, CaseRecord

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` with a Wilson 95 % interval (fractions 0..1; None when n = 0)."""

    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.n:
            return None
        p, n, z = self.k / self.n, self.n, Z95
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def text(self) -> str:
        """'75.0 % (6/8; 95 % CI 40.9-92.9)' or 'n/a (0 cases)'."""
        if not self.n:
            return "n/a (0 cases)"
        lo, hi = self.interval  # type: ignore[misc]
        return f"{100 * self.k / self.n:.1f} % ({self.k}/{self.n}; 95 % CI {100 * lo:.1f}-{100 * hi:.1f})"


@dataclass(frozen=True)
class Confusion:
    """Counts ``counts[t][a]`` of truth ``labels[t]`` answered as ``labels[a]``."""

    name: str
    labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))


@dataclass(frozen=True)
class Summary:
    """Figures of one session (see module docstring); ``helpfulness`` maps "not" / "somewhat" /
    "yes" / "unrated" to counts, ``helpfulness_by_ai`` splits them by whether the AI was right."""

    reader: str
    n_cases: int
    n_answered: int
    n_revealed: int
    accuracy_before_all: Rate
    accuracy_before: Rate
    accuracy_after: Rate
    ai_accuracy: Rate
    agreement_before: Rate
    agreement_after: Rate
    changed: int
    wrong_to_right: int
    right_to_wrong: int
    mcnemar_p: float | None
    helpfulness: dict[str, int]
    helpfulness_by_ai: dict[str, dict[str, int]]
    confusions: tuple[Confusion, ...]
    median_seconds_to_answer: float | None
    mean_seconds_total: float | None
    ai_errors: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def table(self) -> list[tuple[str, str]]:
        """(measure, value) rows of the reader-study table, in reading order."""
        def secs(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1f} s"

        p = "n/a (no changed answers)" if self.mcnemar_p is None else f"{self.mcnemar_p:.3f}"
        rows = [
            ("Reader", self.reader or "(not named)"),
            ("Cases answered", f"{self.n_answered} of {self.n_cases}"),
            ("Cases with the AI result revealed", str(self.n_revealed)),
            ("Reader accuracy before AI (all answered)", self.accuracy_before_all.text()),
            ("Reader accuracy before AI (revealed cases)", self.accuracy_before.text()),
            ("Reader accuracy after AI (revealed cases)", self.accuracy_after.text()),
            ("AI accuracy", self.ai_accuracy.text()),
            ("Agreement with AI before seeing it", self.agreement_before.text()),
            ("Agreement with AI after seeing it", self.agreement_after.text()),
            ("Answers changed after the AI", f"{self.changed} ({self.wrong_to_right} wrong->right, "
                                             f"{self.right_to_wrong} right->wrong)"),
            ("McNemar exact p (before vs after)", p),
        ]
        total = sum(self.helpfulness.values()) or 1
        for level in (*HELPFULNESS, "unrated"):
            n = self.helpfulness.get(level, 0)
            rows.append((f"Heat map helpful: {level}", f"{n} ({100 * n / total:.0f} %)"))
        for key, label in (("ai correct", "AI right"), ("ai wrong", "AI wrong")):
            d = self.helpfulness_by_ai.get(key, {})
            rows.append((f"Helpfulness when the {label}",
                         ", ".join(f"{lvl} {d.get(lvl, 0)}" for lvl in (*HELPFULNESS, "unrated"))))
        rows += [("Median time to answer", secs(self.median_seconds_to_answer)),
                 ("Mean time per case", secs(self.mean_seconds_total))]
        if self.ai_errors:
            rows.append(("Cases without an AI result", str(self.ai_errors)))
        return rows


def mcnemar_exact(b: int, c: int) -> float | None:
    """Two-sided exact McNemar p for ``b`` and ``c`` discordant pairs (None when b + c = 0)."""
    n = b + c
    if n == 0:
        return None
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _labels(records: Sequence[CaseRecord], options: Sequence[Sequence[str]]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for opts in options:
        for o in opts:
            seen.setdefault(o.lower(), o)
    for r in records:
        for v in (r.truth, r.answer_before, r.answer_after, r.ai_answer):
            if v:
                seen.setdefault(v.lower(), v)
    return tuple(seen.values())


def confusion(name: str, pairs: Sequence[tuple[str, str]], labels: Sequence[str]) -> Confusion:
    """Confusion matrix of (truth, answer) pairs over ``labels`` (case-insensitive)."""
    index = {lab.lower(): i for i, lab in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for truth, answer in pairs:
        counts[index[truth.lower()]][index[answer.lower()]] += 1
    return Confusion(name, tuple(labels), tuple(tuple(row) for row in counts))


def summarise(records: Sequence[CaseRecord], reader: str = "",
              options: Sequence[Sequence[str]] = ()) -> Summary:
    """The reader-study figures of ``records`` (``options``: each case's answer options, giving
    the confusion matrices their label order)."""
    answered = [r for r in records if r.answered]
    revealed = [r for r in answered if r.revealed]
    with_ai = [r for r in records if r.ai_answer]
    rev_ai = [r for r in revealed if r.ai_answer]
    same = lambda a, b: a.strip().lower() == b.strip().lower()  # noqa: E731
    b = sum(1 for r in revealed if not r.correct_before and r.correct_after)
    c = sum(1 for r in revealed if r.correct_before and not r.correct_after)
    helpful = {lvl: 0 for lvl in (*HELPFULNESS, "unrated")}
    by_ai: dict[str, dict[str, int]] = {"ai correct": dict(helpful), "ai wrong": dict(helpful)}
    for r in revealed:
        lvl = r.helpfulness or "unrated"
        helpful[lvl] += 1
        if r.ai_answer:
            by_ai["ai correct" if r.ai_correct else "ai wrong"][lvl] += 1
    labels = _labels(records, options)
    confusions = (
        confusion("Reader before AI", [(r.truth, r.answer_before) for r in answered], labels),
        confusion("Reader after AI", [(r.truth, r.answer_after) for r in revealed], labels),
        confusion("AI", [(r.truth, r.ai_answer) for r in with_ai], labels),
    )
    times = [r.seconds_to_answer for r in answered]
    totals = [r.seconds_total for r in records if r.answered]
    return Summary(
        reader=reader, n_cases=len(records), n_answered=len(answered), n_revealed=len(revealed),
        accuracy_before_all=Rate(sum(bool(r.correct_before) for r in answered), len(answered)),
        accuracy_before=Rate(sum(bool(r.correct_before) for r in revealed), len(revealed)),
        accuracy_after=Rate(sum(bool(r.correct_after) for r in revealed), len(revealed)),
        ai_accuracy=Rate(sum(bool(r.ai_correct) for r in with_ai), len(with_ai)),
        agreement_before=Rate(sum(same(r.answer_before, r.ai_answer) for r in rev_ai), len(rev_ai)),
        agreement_after=Rate(sum(same(r.answer_after, r.ai_answer) for r in rev_ai), len(rev_ai)),
        changed=sum(r.changed for r in revealed), wrong_to_right=b, right_to_wrong=c,
        mcnemar_p=mcnemar_exact(b, c), helpfulness=helpful, helpfulness_by_ai=by_ai,
        confusions=confusions,
        median_seconds_to_answer=statistics.median(times) if times else None,
        mean_seconds_total=statistics.fmean(totals) if totals else None,
        ai_errors=sum(1 for r in records if r.ai_error),
        notes=tuple(f"{r.case_id}: {r.ai_error}" for r in records if r.ai_error))

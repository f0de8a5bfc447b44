"""Hanging protocols (light), Qt-free: rules that pick a layout and which series goes where.

A :class:`Protocol` matches a study (its series) by modality and by words found in the body part,
study description or series descriptions; it names a layout — a workspace layout ("1", "1x3",
"2x2", "conventional") or "compare" (2 to 4 series side by side) — the window preset to apply,
and its :class:`Slot` s: which series goes in each place (a regular expression on the lower-case
series description, and optionally an orientation). User rules (JSON, :func:`load_rules`) come
before the built-in defaults; :func:`matching` lists the protocols that fit, in that order.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from viewer.io.records import SeriesInfo

LAYOUT_NAMES = ("1", "1x3", "2x2", "conventional", "compare")
RULES_FILE = "hanging_protocols.json"


@dataclass(frozen=True)
class Slot:
    """One place of a layout: the first unused series whose lower-case description matches
    ``pattern`` (a regular expression, searched) and whose orientation is ``orientation``
    ("" = any)."""

    pattern: str = ""
    orientation: str = ""

    def accepts(self, series: SeriesInfo) -> bool:
        if self.orientation and series.orientation != self.orientation:
            return False
        return re.search(self.pattern, series.description.lower()) is not None


@dataclass(frozen=True)
class Protocol:
    """A hanging rule (see module docstring). ``words``: any of them (lower case) in the body
    part, study description or a series description; empty = any study of ``modality``
    ("" = any modality)."""

    name: str
    modality: str = ""
    words: tuple[str, ...] = ()
    layout: str = "1"
    slots: tuple[Slot, ...] = field(default_factory=lambda: (Slot(),))
    window: str = ""

    def matches(self, study: Sequence[SeriesInfo]) -> bool:
        if not study:
            return False
        if self.modality and not any(s.modality.upper() == self.modality.upper() for s in study):
            return False
        if not self.words:
            return True
        text = " ".join(f"{s.body_part} {s.study_description} {s.description}"
                        for s in study).lower()
        return any(re.search(rf"\b{re.escape(w.lower())}\b", text) for w in self.words)

    def assign(self, study: Sequence[SeriesInfo]) -> list[SeriesInfo | None]:
        """The series for each slot (None where none fits), each series used once."""
        used: set[str] = set()
        out: list[SeriesInfo | None] = []
        for slot in self.slots:
            pick = next((s for s in study if s.uid not in used and slot.accepts(s)
                         and (not self.modality or s.modality.upper() == self.modality.upper())),
                        None)
            if pick is not None:
                used.add(pick.uid)
            out.append(pick)
        return out


_T1C = r"(t1c|t1.*(post|gd|\+c|contrast|ce\b))"
DEFAULTS: tuple[Protocol, ...] = (
    Protocol("Knee MR: three planes", "MR", ("knee",), "1x3"),
    Protocol("Brain MR: T1 | T1c | T2 | FLAIR", "MR", ("brain", "head", "neuro"), "compare",
             (Slot(rf"^(?!.*{_T1C}).*t1"), Slot(_T1C), Slot(r"^(?!.*flair).*t2"),
              Slot(r"flair"))),
    Protocol("CT: one view, abdomen window", "CT", (), "1", (Slot(),), "Abdomen"),
)


def matching(study: Sequence[SeriesInfo], rules: Sequence[Protocol] = ()) -> list[Protocol]:
    """Protocols fitting ``study``: the user's ``rules`` first, then the defaults."""
    return [p for p in (*rules, *DEFAULTS) if p.matches(study)]


def studies(series: Sequence[SeriesInfo]) -> dict[str, list[SeriesInfo]]:
    """Series grouped by StudyInstanceUID, in discovery order."""
    out: dict[str, list[SeriesInfo]] = {}
    for s in series:
        out.setdefault(s.study_instance_uid, []).append(s)
    return out


def priors(current: SeriesInfo, series: Sequence[SeriesInfo]) -> list[SeriesInfo]:
    """Series of earlier studies of ``current``'s patient (same PatientID, another study, an
    earlier StudyDate, or no date), newest study first; within a study, the series most like
    ``current`` first (same orientation and description, then same modality)."""
    pid = current.patient.patient_id
    if not pid:
        return []
    cands = [s for s in series if s.patient.patient_id == pid
             and s.study_instance_uid != current.study_instance_uid
             and (not s.study_date or not current.study_date or s.study_date <= current.study_date)]

    def rank(s: SeriesInfo) -> tuple:
        return (s.study_date, s.modality == current.modality,
                s.orientation == current.orientation,
                s.description.lower() == current.description.lower())

    return sorted(cands, key=rank, reverse=True)


def protocol_from_dict(data: dict) -> Protocol:
    """A Protocol from its JSON form (``asdict``); raises ValueError on a bad layout."""
    layout = str(data.get("layout", "1"))
    if layout not in LAYOUT_NAMES:
        raise ValueError(f"layout must be one of {', '.join(LAYOUT_NAMES)}, not {layout!r}")
    slots = tuple(Slot(str(s.get("pattern", "")), str(s.get("orientation", "")))
                  for s in data.get("slots", [{}]))
    for s in slots:
        re.compile(s.pattern)
    return Protocol(str(data.get("name", "Rule")), str(data.get("modality", "")),
                    tuple(str(w) for w in data.get("words", ())), layout, slots,
                    str(data.get("window", "")))


def rules_to_json(rules: Sequence[Protocol]) -> str:
    return json.dumps([asdict(r) for r in rules], indent=2)


def rules_from_json(text: str) -> list[Protocol]:
    data = json.loads(text or "[]")
    if not isinstance(data, list):
        raise ValueError("the rules must be a JSON list")
    return [protocol_from_dict(d) for d in data]


def load_rules(folder: Path) -> list[Protocol]:
    """The user's rules from ``folder/hanging_protocols.json`` ([] when absent)."""
    path = Path(folder) / RULES_FILE
    return rules_from_json(path.read_text("utf-8")) if path.is_file() else []


def save_rules(folder: Path, rules: Sequence[Protocol]) -> Path:
    path = Path(folder) / RULES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rules_to_json(rules), "utf-8")
    return path

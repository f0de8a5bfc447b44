"""Which models fit a series: modality, body part and plane against each model's domain.

No Qt, no torch. Used to pick a model when a series opens (a remembered model that does not fit
the series gives way to one that does) and to mark the others in the model picker
("not for this series: <reason>"); they stay choosable, and a call on a series outside a model's
domain comes back as a not-applicable result with its reasons (checked by the classifier itself
before every call), never as a dialog.

The body part comes from the series and study descriptions (the headers' BodyPartExamined is not
read by ``viewer.io``): only clear words count ("knee", "brain", "abdomen", ...); when none is
found the body part is not held against any model.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from viewer.modules.ai.state import ModelCard

__all__ = ["body_part_hint", "choose_model", "unfit_reasons"]

_BODY_WORDS = (("KNEE", re.compile(r"\bknee|\bmenisc|\bacl\b|\bpatell", re.I)),
               ("BRAIN", re.compile(r"\bbrain|\bhead\b|\bneuro|\bcerebr|\bskull|\bcranial", re.I)),
               ("ABDOMEN", re.compile(r"\babdom|\bpancrea|\bliver|\bhepat|\brenal|\bkidney", re.I)),
               ("CHEST", re.compile(r"\bchest|\bthorax|\blung|\bthoracic", re.I)))
_BODY_NAMES = {"KNEE": "knee", "BRAIN": "brain", "ABDOMEN": "abdomen", "CHEST": "chest"}
_ALIASES = {"HEAD": "BRAIN", "SKULL": "BRAIN", "LIVER": "ABDOMEN", "LEG": "KNEE",
            "EXTREMITY": "KNEE"}


def body_part_hint(*descriptions: str) -> str:
    """"KNEE", "BRAIN", "ABDOMEN", "CHEST" when the descriptions name exactly one of them, else ""."""
    text = " ".join(d for d in descriptions if d)
    found = [part for part, pattern in _BODY_WORDS if pattern.search(text)]
    return found[0] if len(found) == 1 else ""


def unfit_reasons(card: ModelCard, modality: str, orientation: str, body_part: str = ""
                  ) -> tuple[str, ...]:
    """Why ``card``'s model does not fit a series of ``modality`` ("MR", "CT", ...),
    ``orientation`` ("axial", "sagittal", "coronal", "oblique", "unknown") and ``body_part``
    (from :func:`body_part_hint`, "" = unknown); () when it fits or nothing can be said."""
    dom: dict[str, Any] = card.domain or {}
    reasons: list[str] = []
    want = str(dom.get("modality") or card.modality or "").upper()
    got = (modality or "").upper()
    if want and got and got != want:
        reasons.append(f"reads {want}; this series is {got}")
    parts = [_ALIASES.get(str(p).upper(), str(p).upper()) for p in dom.get("body_parts", []) if p]
    if body_part and parts and body_part.upper() not in parts:
        names = " or ".join(_BODY_NAMES.get(p, p.lower()) for p in parts)
        reasons.append(f"reads {names} images; this series looks like "
                       f"{_BODY_NAMES.get(body_part, body_part.lower())}")
    planes = [str(p).lower() for p in dom.get("planes", []) if p]
    o = (orientation or "").lower()
    if planes and o in ("axial", "sagittal", "coronal", "oblique") and o not in planes:
        what = "exams of " if card.level == "exam" else ""
        reasons.append(f"reads {what}{' or '.join(planes)} slices; this series is {o}")
    return tuple(reasons)


def choose_model(cards: Iterable[ModelCard], modality: str, orientation: str, body_part: str,
                 current: str, preferred: Sequence[str] = ()) -> str:
    """The model to use for a series: ``current`` when it fits, else the first fitting model in
    ``preferred`` order then in card order, else ``current`` (no model fits: the reader sees the
    not-applicable result and its reasons). Exam models are chosen only for a knee-like series
    (the knee exam starts on its own when a knee study is found)."""
    cards = list(cards)
    by_name = {c.name: c for c in cards}

    def fits(card: ModelCard) -> bool:
        if card.level == "exam" and body_part != "KNEE":
            return False
        return not unfit_reasons(card, modality, orientation, body_part)

    if current in by_name and fits(by_name[current]):
        return current
    order = [by_name[n] for n in preferred if n in by_name]
    order += [c for c in cards if c not in order]
    return next((c.name for c in order if fits(c)), current)

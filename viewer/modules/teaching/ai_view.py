"""What the quiz panel shows of a case's AI result once revealed: the plain :class:`AiView`
record, made from a :class:`~viewer.modules.teaching.ai.CaseAI` by :func:`ai_view`.

Plain data only: the panel never sees torch or the :mod:`inference` records themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from viewer.core.overlay import map_strength

if TYPE_CHECKING:  # teaching widgets never load inference
    from inference.results import Pointing
    from viewer.modules.teaching.ai import CaseAI


@dataclass(frozen=True)
class AiView:
    """What the panel shows of the AI once revealed (plain data)."""

    model: str = ""
    predicted: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)
    methods: tuple[str, ...] = ()
    pointing: dict[str, str] = field(default_factory=dict)   # method -> "hit (15 px), inside mask"
    demo_statement: str = ""
    error: str = ""
    pending: bool = False
    #: "Outside this model's domain: <reasons>" when the key slice is out of domain: then there
    #: is no answer, no probabilities and no map to show ("" otherwise).
    notice: str = ""
    #: method -> "faint or not drawn, as the model found little sign of tumour here (its
    #: evidence is 12 % of a weak tumour's)" for maps weaker than the model's reference.
    strength: dict[str, str] = field(default_factory=dict)


def pointing_text(p: Pointing) -> str:
    """Where the map's strongest spot lies, in a teacher's words (the pointing game)."""
    if p.inside:
        return "its strongest spot is on the lesion"
    if p.hit:
        return f"its strongest spot is next to the lesion (within {p.tolerance_px:.0f} pixels)"
    return "its strongest spot is away from the lesion"


def strength_text(target: str, strength: float | None) -> str:
    """A faint map in a teacher's words, from its ``strength``
    (:func:`viewer.core.overlay.map_strength`): why there is little or nothing to see on it;
    "" when it is as strong as a weak finding's or scaled to its own maximum (None)."""
    if strength is None or strength >= 1:
        return ""
    return (f"faint or not drawn, as the model found little sign of {target} here "
            f"(its evidence is {strength:.0%} of a weak {target}'s)")


def percent(p: float) -> str:
    """One rounding for every probability a student sees (title, bars, presenter): "99.7 %"."""
    return f"{100.0 * float(p):.1f} %"


def ai_view(ai: CaseAI | None) -> AiView:
    """Plain panel data of a case's AI result (None = still computing)."""
    if ai is None:
        return AiView(pending=True)
    if ai.error:
        return AiView(model=ai.model, error=ai.error)
    if not ai.applicable:
        return AiView(model=ai.model, demo_statement=ai.demo_statement, notice=ai.domain_notice)
    strength = {m: strength_text(e.target, map_strength(e.map, e.reference))
                for m, e in ai.explanations.items()}
    return AiView(ai.model, ai.predicted, dict(ai.probabilities), tuple(ai.maps),
                  {m: pointing_text(p) for m, p in ai.pointing.items()}, ai.demo_statement,
                  strength={m: t for m, t in strength.items() if t})

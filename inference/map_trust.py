"""Which heat maps a model's card vouches for: the pointing game per label and plane measured on
held-out phantoms (``inference.evaluate``), and the rule that a map pointing at the finding in
fewer than :data:`TRUST_AIM` of the cases is shown as "not trustworthy".

Torch-free: the viewer reads the figures from the manifest's ``metrics.maps.per_label_plane``
({method: {label: {plane: {"pointing_game": float, "n": int}}}}) written by
``python -m inference.evaluate --task knee --write-manifest``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Share of held-out cases whose map maximum must lie on (or within the tolerance of) the
#: finding for the map of that label and plane to be shown without a warning.
TRUST_AIM = 0.75


def untrusted_planes(metrics: Mapping[str, Any], method: str, label: str) -> dict[str, float]:
    """{plane: pointing game} of the planes whose ``method`` map for ``label`` fell short of
    :data:`TRUST_AIM` on held-out phantoms; {} when the figures are absent (nothing measured)."""
    table = ((metrics.get("maps") or {}).get("per_label_plane") or {}).get(method) or {}
    planes = table.get(label) or {}
    out: dict[str, float] = {}
    for plane, row in planes.items():
        value = row.get("pointing_game") if isinstance(row, Mapping) else None
        if isinstance(value, (int, float)) and value < TRUST_AIM:
            out[str(plane)] = float(value)
    return out


def untrusted_summary(metrics: Mapping[str, Any]) -> list[str]:
    """One phrase per (method, label) with untrusted planes, e.g. "Grad-CAM for meniscal tear
    on coronal (0.08)"; [] when every measured map reaches the aim or nothing was measured."""
    names = {"gradcam": "Grad-CAM", "hirescam": "HiResCAM", "occlusion": "occlusion"}
    table = (metrics.get("maps") or {}).get("per_label_plane") or {}
    out = []
    for method, labels in table.items():
        for label in labels or {}:
            bad = untrusted_planes(metrics, method, label)
            if bad:
                where = ", ".join(f"{p} ({v:.2f})" for p, v in bad.items())
                out.append(f"{names.get(method, method)} for {label} on {where}")
    return out

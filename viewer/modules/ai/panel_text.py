"""Rich text of the inference panel: the model card (domain, metrics, calibration ECE, intended
use, demo statement) and the knee exam table (per plane, with the planes outside the model's
domain named). Plain functions of the torch-free records; no widgets."""
from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from inference.map_trust import TRUST_AIM, untrusted_planes, untrusted_summary
from inference.results import Prediction
from viewer.modules.ai.state import KneeResult, ModelCard

__all__ = ["calibration_text", "card_html", "domain_text", "knee_html", "knee_planes_out", "look_text",
           "size_text", "transfer_text"]


def calibration_text(card: ModelCard) -> str:
    """"Calibration: ECE 0.007 after temperature scaling (0.012 before, T 1.06, 400 validation
    images)" from the manifest's ``metrics.calibration``; "not measured" when absent."""
    cal = card.calibration
    after, before = cal.get("ece_after"), cal.get("ece_before")
    if not isinstance(after, (int, float)):
        return "Calibration: not measured"
    extra = []
    if isinstance(before, (int, float)):
        extra.append(f"{before:.3f} before")
    if isinstance(cal.get("temperature"), (int, float)):
        extra.append(f"T {cal['temperature']:.2f}")
    if isinstance(cal.get("n_val"), int):
        extra.append(f"{cal['n_val']} validation images")
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"Calibration: ECE {after:.3f} after temperature scaling{tail}"


def _bands(rows: Any) -> str:
    parts = []
    for row in rows if isinstance(rows, list) else []:
        lo, hi = row.get("diameter_share", (None, None)) if isinstance(row, Mapping) else (None, None)
        sens, n = row.get("sensitivity"), row.get("n")
        if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)) or not n:
            continue
        band = f"under {100 * hi:.0f} %" if lo == 0 else (
            f"{100 * lo:.0f} % and over" if hi >= 1 else f"{100 * lo:.0f}-{100 * hi:.0f} %")
        parts.append(f"{band} {sens:.2f} (n {n})" if isinstance(sens, (int, float)) else f"{band} – (n {n})")
    return ", ".join(parts)


def _own_and_independent(metrics: Mapping[str, Any], key: str, render: Callable[[Any], str],
                         heading: str) -> str:
    """"<heading>: own phantoms ...; independent generator ..." from ``metrics[key]`` and the
    independent block's, each rendered by ``render``; "" when neither has a row."""
    own = render(metrics.get(key))
    other = metrics.get("independent_generator")
    independent = render(other.get(key)) if isinstance(other, Mapping) else ""
    parts = [f"own phantoms {own}" if own else "",
             f"independent generator {independent}" if independent else ""]
    shown = "; ".join(p for p in parts if p)
    return f"{heading}: {shown}" if shown else ""


def size_text(metrics: Mapping[str, Any]) -> str:
    """"Lesions found, by size (share of the field of view across; 3 % of 350 mm is about 10 mm):
    own phantoms under 3 % 0.33 (n 6), ...; independent generator ..." from the manifest's
    ``metrics.sensitivity_by_size`` (and its independent block's); "" for a model without it."""
    return _own_and_independent(metrics, "sensitivity_by_size", _bands, "Lesions found, by size (share "
                                "of the field of view across; 3 % of 350 mm is about 10 mm)")


def _looks(rows: Any) -> str:
    parts = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, Mapping):
            continue
        name, sens, n = row.get("look"), row.get("sensitivity"), row.get("n")
        if isinstance(name, str) and isinstance(sens, (int, float)) and isinstance(n, int) and n:
            parts.append(f"{name} {sens:.2f} (n {n})")
    return ", ".join(parts)


def look_text(metrics: Mapping[str, Any]) -> str:
    """"Lesions found, by appearance: own phantoms cystic 0.96 (n 53), ...; independent generator
    ..." from the manifest's ``metrics.sensitivity_by_look`` (and its independent block's); ""
    for a model without it."""
    return _own_and_independent(metrics, "sensitivity_by_look", _looks, "Lesions found, by appearance")


def _sample_size(block: Mapping[str, Any]) -> str:
    """", n 400" from a metrics block's ``n``; "" when it has none."""
    n = block.get("n")
    return f", n {n}" if isinstance(n, int) else ""


def transfer_text(metrics: Mapping[str, Any]) -> str:
    """"On an independent phantom generator (never trained on, n 300): accuracy 0.733, ROC AUC
    0.924, confident wrong calls without a notice 4.3 %" from the manifest's
    ``metrics.independent_generator``: how far the model carries beyond its own training
    phantoms; "" for a model without that block."""
    other = metrics.get("independent_generator") if isinstance(metrics, Mapping) else None
    if not isinstance(other, Mapping):
        return ""
    parts = [f"{name} {other[key]:.3f}" for key, name in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC"))
             if isinstance(other.get(key), (int, float))]
    view = other.get("reader_view")
    wrong = view.get("confident_wrong_unflagged") if isinstance(view, Mapping) else None
    if isinstance(wrong, (int, float)):
        parts.append(f"confident wrong calls without a notice {100 * wrong:.1f} %")
    if not parts:
        return ""
    return (f"On an independent phantom generator (never trained on{_sample_size(other)}): "
            + ", ".join(parts))


def domain_text(card: ModelCard) -> str:
    """"Reads: MR · brain · axial slices" from the card's domain; "" when unknown."""
    dom = card.domain or {}
    parts = [str(dom.get("modality") or card.modality or "")]
    parts += [", ".join(str(p).lower() for p in dom.get("body_parts", []) if p)]
    planes = [str(p) for p in dom.get("planes", []) if p]
    if planes:
        parts.append((" + ".join(planes) + " stacks") if card.level == "exam"
                     else " or ".join(planes) + " slices")
    parts = [p for p in parts if p]
    return "Reads: " + " · ".join(parts) if parts else ""


def _own_phantoms(metrics: Mapping[str, Any]) -> str:
    """" (held-out phantoms, varied-faint generator, n 400)" from the manifest's
    ``metrics.generator`` and ``n``; "" when the manifest does not say."""
    gen = metrics.get("generator")
    if not isinstance(gen, str) or not gen:
        return ""
    return f" (held-out phantoms, {gen} generator{_sample_size(metrics)})"


def card_html(card: ModelCard) -> str:
    """The model card as rich text: task, classes, backbone, metrics, intended use."""
    e = html.escape
    rows = [f"<b>{e(card.name)}</b> {e(card.version)} · {e(card.task)} · {e(card.modality)}"
            f" · {'exam' if card.level == 'exam' else 'per slice'}",
            f"Classes: {e(', '.join(card.classes))}",
            f"Backbone: {e(card.backbone)}" + (f", {card.input_size} px input" if card.input_size else "")]
    if domain_text(card):
        rows.append(e(domain_text(card)))
    if card.metrics:
        shown = []
        for key, value in list(card.metrics.items())[:6]:
            if isinstance(value, float):
                shown.append(f"{e(str(key))} {value:.3g}")
            elif isinstance(value, (int, str)):
                shown.append(f"{e(str(key))} {e(str(value))}")
        if shown:
            rows.append(f"Metrics{e(_own_phantoms(card.metrics))}: " + ", ".join(shown))
    else:
        rows.append("Metrics: not measured")
    rows.append(e(calibration_text(card)))
    for text in (transfer_text(card.metrics), size_text(card.metrics), look_text(card.metrics)):
        if text:
            rows.append(e(text))
    untrusted = untrusted_summary(card.metrics)
    if untrusted:
        rows.append(f"<b>Maps not trustworthy</b> (they point at the finding in fewer than "
                    f"{TRUST_AIM:.0%} of held-out phantom cases): {e('; '.join(untrusted))}")
    if card.intended_use:
        rows.append(f"Intended use: {e(card.intended_use)}")
    if card.demo and card.demo_statement:
        rows.append(f"<i>{e(card.demo_statement)}</i>")
    return "<br>".join(rows)


def knee_planes_out(pred: Prediction) -> dict[str, list[str]]:
    """{plane: its reasons} for the exam's planes the applicability check put out of domain
    (reasons that name a plane: "sagittal stack unlike the training data ...")."""
    reasons = pred.applicability.reasons if pred.applicability else ()
    out: dict[str, list[str]] = {}
    for plane in (*pred.per_plane, "sagittal", "coronal", "axial"):
        hits = [r for r in reasons if r.lower().startswith(plane)]
        if hits and plane not in out:
            out[plane] = hits
    return out


def knee_html(knee: KneeResult, metrics: Mapping[str, Any] | None = None) -> str:
    """Per label: fused probability, each plane's probability and its contribution to the fused
    logit (fusion weight x plane logit); missing planes stated; planes outside the model's
    domain named (their column marked ⚠) with their reasons; planes whose Grad-CAM map for the
    explained label the model card does not vouch for (``metrics``: the manifest's, see
    ``inference.map_trust``) named as "map not trustworthy"."""
    pred = knee.prediction
    planes = list(pred.per_plane)
    bad = knee_planes_out(pred)
    head = "".join(f"<th>{p[:3]}{' ⚠' if p in bad else ''}</th>" for p in planes)
    rows = []
    for label, p in pred.probabilities.items():
        cells = "".join(
            f"<td>{pred.per_plane[pl].get(label, float('nan')):.2f}"
            f" <small>({pred.contributions.get(label, {}).get(pl, 0.0):+.2f})</small></td>"
            for pl in planes)
        rows.append(f"<tr><td>{html.escape(label)}</td><td><b>{p:.2f}</b></td>{cells}</tr>")
    missing = (f"<br><b>Missing plane{'s' if len(knee.missing) > 1 else ''}: "
               f"{', '.join(knee.missing)}</b> — fused from {', '.join(planes)} only."
               if knee.missing else "")
    out = "".join(f"<br><b>⚠ {html.escape(p)} plane outside this model's domain:</b> "
                  f"{html.escape('; '.join(r))}" for p, r in bad.items())
    if not pred.applicable and not bad:
        out = f"<br><b>⚠ {html.escape(pred.applicability.summary)}</b>"
    weak = untrusted_planes(metrics or {}, "gradcam", knee.target)
    trust = "".join(f"<br><b>⚠ Map not trustworthy on {html.escape(p)}</b> for "
                    f"“{html.escape(knee.target)}”: it pointed at the finding in {v:.0%} of "
                    f"held-out phantom cases (aim {TRUST_AIM:.0%}); read that plane's map as "
                    "unreliable." for p, v in weak.items())
    return (f"<table cellspacing=3><tr><th>label</th><th>fused</th>{head}</tr>{''.join(rows)}"
            f"</table><small>plane P (contribution to the fused logit)</small>{missing}{out}"
            f"<br>Grad-CAM for “{html.escape(knee.target)}” on each plane's slices.{trust}")

"""An MR image's weighting from its acquisition parameters, and the check of MR calls against it.

The sequence physics says what an image can be: a spin echo with a short TR and TE is
T1-weighted, one with a long TR and TE T2-weighted; an inversion recovery whose TI nulls CSF at
its TR is a FLAIR; an echo-planar, diffusion, STIR or proton-density acquisition is none of the
four contrasts the brain models read. ``weighting_of`` says so in words from
:class:`viewer.io.acquisition.MRAcquisition`, or "" (unknown) when the parameters are absent or
do not decide it (a balanced steady-state or low-flip gradient echo, a research sequence).

``judge`` applies it to a prediction, after the model's own domain and feature checks:

* the tumour and contrast models read T1, T1 post-contrast, T2 and T2-FLAIR images: an image of
  another weighting is outside their domain ("echo-planar acquisition (TR 2200 ms, TE 30 ms);
  this model reads T1, T2 and FLAIR images");
* the contrast model's call must agree with the acquisition: a "T2" call on a T1-weighted
  gradient echo is not shown as a call ("its call (T2) contradicts the acquisition: T1-weighted
  gradient echo (TR 300 ms, TE 2.5 ms, flip 80°)"). A T1-weighted image with a contrast agent
  recorded must be called T1 post-contrast; without one, T1 and T1 post-contrast both agree
  (many post-contrast series do not record the agent).

Qt-free and torch-free (the batch module and the command line use it too).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from viewer.io.acquisition import MRAcquisition

#: The contrasts the brain MR models were trained on (inference.recipes CLASSES["contrast"]).
MR_CONTRASTS = ("T1", "T1 post-contrast", "T2", "T2-FLAIR")
#: Tasks whose models read only those contrasts.
BRAIN_MR_TASKS = ("tumour", "contrast")
#: CSF T1 (ms), nearly the same at every field strength: the FLAIR inversion time nulls it.
CSF_T1_MS = 4000.0
_NO_AGENT = {"", "NONE", "NO", "N/A", "NA", "0"}
_DIFFUSION_TYPES = {"DIFFUSION", "ADC", "TRACEW", "TRACE", "FA", "EADC", "EXP", "DWI"}
#: ImageType / FrameType values of images that show no tissue contrast (phase, field maps).
_MAP_TYPES = {"P", "PHASE", "FIELD_MAP", "B0", "B0_MAP", "PHASE_MAP", "VELOCITY"}
_ENHANCED = {"T1": "T1", "T2": "T2", "FLUID_ATTENUATED": "T2-FLAIR", "PROTON_DENSITY": "proton-density",
             "DIFFUSION": "diffusion-weighted", "FLOW_ENCODED": "flow-encoded",
             "PERFUSION": "perfusion", "T2_STAR": "T2*-weighted", "ANGIO": "angiography",
             "FLUID_ATTENUATED_T1": "T1"}


@dataclass(frozen=True)
class Weighting:
    """``kind``: "T1", "T2", "T2-FLAIR", "other" (none of the four contrasts) or "" (unknown).
    ``post_contrast``: a contrast agent is recorded. ``words``: what the acquisition is, with
    its parameters, for a reader ("T1-weighted gradient echo (TR 300 ms, TE 2.5 ms, flip 80°)")."""

    kind: str = ""
    post_contrast: bool = False
    words: str = ""

    def agrees(self, label: str) -> bool:
        """Whether a contrast call ``label`` (one of :data:`MR_CONTRASTS`) fits this weighting."""
        if self.kind == "T1":
            return label == "T1 post-contrast" if self.post_contrast else label in MR_CONTRASTS[:2]
        if self.kind in ("T2", "T2-FLAIR"):
            return label == self.kind
        return True


UNKNOWN = Weighting()


def _ms(value: float | None) -> str:
    return f"{value:.3g}" if value is not None and value < 10 else f"{value:.0f}"


def _params(a: MRAcquisition) -> str:
    parts = [f"{name} {_ms(v)} ms" for name, v in (("TR", a.tr), ("TE", a.te), ("TI", a.ti))
             if v is not None]
    if a.flip is not None and "GR" in a.sequence:
        parts.append(f"flip {a.flip:.0f}°")
    return f" ({', '.join(parts)})" if parts else ""


def _flair_null(tr: float | None) -> float:
    """TI (ms) that nulls CSF at repetition time ``tr`` (long-TR limit without one)."""
    if tr is None or tr <= 0:
        return CSF_T1_MS * math.log(2.0)
    return CSF_T1_MS * math.log(2.0 / (1.0 + math.exp(-tr / CSF_T1_MS)))


def _inversion(a: MRAcquisition, params: str) -> Weighting:
    ti, te = a.ti, a.te
    if ti is None:
        return UNKNOWN
    if ti < 300:
        return Weighting("other", False, f"STIR, a fat-nulling inversion recovery{params}")
    null = _flair_null(a.tr)
    if te is not None and te >= 60 and 0.6 * null <= ti <= 1.4 * null:
        return Weighting("T2-FLAIR", False, f"FLAIR, an inversion recovery nulling CSF{params}")
    if te is not None and te < 30:     # MPRAGE, T1-FLAIR: CSF dark, no T2 weighting
        return Weighting("T1", False, f"T1-weighted inversion recovery{params}")
    return UNKNOWN


def _gradient_echo(a: MRAcquisition, params: str) -> Weighting:
    tr, te, flip = a.tr, a.te, a.flip
    if te is not None and te >= 15:
        return Weighting("other", False, f"T2*-weighted gradient echo{params}")
    if tr is None or te is None or flip is None:
        return UNKNOWN
    if tr < 15 and flip >= 40:          # balanced steady state (T2/T1): not judged
        return UNKNOWN
    if (tr < 50 and flip >= 8) or (tr >= 50 and flip >= 40):
        return Weighting("T1", False, f"T1-weighted gradient echo{params}")
    return UNKNOWN


def _spin_echo(a: MRAcquisition, params: str) -> Weighting:
    tr, te = a.tr, a.te
    if tr is None or te is None:
        return UNKNOWN
    if tr < 1000 and te < 35:
        return Weighting("T1", False, f"T1-weighted spin echo{params}")
    if tr >= 1800 and te >= 60:
        return Weighting("T2", False, f"T2-weighted spin echo{params}")
    if tr >= 1800 and te < 40:
        return Weighting("other", False, f"proton-density-weighted spin echo{params}")
    return UNKNOWN


def weighting_of(a: MRAcquisition | None) -> Weighting:
    """The weighting the acquisition parameters say, :data:`UNKNOWN` when they do not decide it."""
    if a is None or a.empty:
        return UNKNOWN
    params = _params(a)
    agent = a.agent.strip().upper() not in _NO_AGENT
    w = UNKNOWN
    enhanced = _ENHANCED.get(a.contrast)
    if set(a.image_type) & _MAP_TYPES:
        kind = "field map" if set(a.image_type) & {"FIELD_MAP", "B0", "B0_MAP"} else "phase image"
        w = Weighting("other", False, f"{kind} ({', '.join(sorted(set(a.image_type) & _MAP_TYPES))} "
                                      f"in the image type), not an anatomical image")
    elif enhanced in ("T1", "T2", "T2-FLAIR"):
        name = "FLAIR" if enhanced == "T2-FLAIR" else f"{enhanced}-weighted"
        w = Weighting(enhanced, False, f"{name} acquisition{params}, Acquisition Contrast {a.contrast}")
    elif enhanced:
        w = Weighting("other", False, f"{enhanced} acquisition{params}, Acquisition Contrast {a.contrast}")
    elif (a.b_value or 0) > 0 or set(a.image_type) & _DIFFUSION_TYPES:
        w = Weighting("other", False, f"diffusion-weighted acquisition{params}")
    elif "EP" in a.sequence:
        w = Weighting("other", False,
                      f"echo-planar acquisition{params}, as used for diffusion, perfusion or fMRI")
    elif "IR" in a.sequence or (a.ti or 0) > 0:
        w = _inversion(a, params)
    elif "GR" in a.sequence:
        w = _gradient_echo(a, params)
    elif "SE" in a.sequence:
        w = _spin_echo(a, params)
    if w.kind == "T1" and agent:
        w = replace(w, post_contrast=True, words=f"{w.words}, contrast agent {a.agent.strip()} recorded")
    return w


def _reads(task: str) -> str:
    return "T1, T1 post-contrast, T2 and T2-FLAIR images" if task in BRAIN_MR_TASKS else ""


def contradiction(weighting: Weighting, label: str) -> str:
    """Why a contrast call ``label`` (a slice's, or a series vote) cannot stand against the
    acquisition; "" when it agrees or the weighting does not decide it."""
    if weighting.agrees(label):
        return ""
    return f"its call ({label}) contradicts the acquisition: {weighting.words}"


def judge(prediction: Any, weighting: Weighting, task: str) -> Any:
    """``prediction`` (an ``inference`` Prediction) with the acquisition's verdict added to its
    applicability: not applicable, with the reason in words, when the image's weighting is none
    of the contrasts the model reads or (contrast model) when its call contradicts the
    acquisition. Other tasks and unknown weightings leave it as it is."""
    if task not in BRAIN_MR_TASKS or not weighting.kind or prediction.applicability is None:
        return prediction
    reason = ""
    if weighting.kind == "other":
        reason = f"{weighting.words}; this model reads {_reads(task)}"
    elif task == "contrast":
        reason = contradiction(weighting, prediction.predicted)
    if not reason:
        return prediction
    a = prediction.applicability
    return replace(prediction, applicability=replace(a, applicable=False, reasons=(*a.reasons, reason)))


def judge_explanation(explanation: Any, weighting: Weighting, spec: Any) -> Any:
    """``explanation`` (an ``inference`` Explanation) with :func:`judge` applied to its
    prediction; the same object when the verdict changes nothing."""
    judged = judge(explanation.prediction, weighting, getattr(spec, "task", ""))
    return explanation if judged is explanation.prediction else replace(explanation, prediction=judged)


def judge_all(predictions: list[Any], acquisition: MRAcquisition | None, task: str) -> list[Any]:
    """:func:`judge` for each prediction of one series (``acquisition``: the series')."""
    w = weighting_of(acquisition)
    return [judge(p, w, task) for p in predictions]

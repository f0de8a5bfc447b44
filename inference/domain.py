"""The model's domain (what it was trained on) and the checks of an input against it (numpy only).

A manifest's ``domain`` block says what a model reads::

    {"modality": "MR", "body_parts": ["BRAIN"], "planes": ["axial"],
     "input": {"min_side": 32, "min_long_side": 72, "colour": false, "hu_range": null}}

``min_long_side``: a slice whose longer side has fewer pixels would be enlarged by more than
:data:`MAX_ENLARGEMENT` onto the model's input grid; the interpolation blurs it, and blur raises
false calls (tumour model, healthy phantom slices blurred by 1 model pixel: called "tumour" 11 %
of the time instead of 7 %), so such a slice is outside the domain.

``planes`` are slice planes for slice models ("axial", "sagittal", "coronal") and the exam's
planes for the knee exam model. Manifests without the block get one from their ``modality``,
``input.body_part`` and ``input.orientation`` (default axial) by :func:`domain_block`.

:func:`domain_reasons` returns the reasons (sentences a radiologist acts on) why an input lies
outside the domain, and notes on what could not be checked. The out-of-distribution score from
the model's features is ``inference.trust``; both end in one
:class:`inference.results.Applicability`, made by ``Classifier`` before every call.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from inference.value_stats import SortedValues

KNOWN_PLANES = ("axial", "sagittal", "coronal")
#: The most a slice is enlarged onto a model's input grid before it is refused (4/3: a 72 px
#: slice for a 96 px model; a 64 x 64 EPI tile would be enlarged 1.5 times).
MAX_ENLARGEMENT = 4 / 3
#: DICOM BodyPartExamined spellings -> the body part a model names.
BODY_ALIASES = {"HEAD": "BRAIN", "SKULL": "BRAIN", "BRAIN": "BRAIN", "ABDOMEN": "ABDOMEN",
                "LIVER": "ABDOMEN", "CHEST": "CHEST", "KNEE": "KNEE", "LEG": "KNEE",
                "EXTREMITY": "KNEE"}
_MODALITY_WORDS = {"MR": "MR", "CT": "CT", "CR": "radiograph", "DX": "radiograph", "US": "ultrasound",
                   "PT": "PET", "NM": "nuclear medicine", "MG": "mammogram", "OT": "other"}


def domain_block(spec: Any) -> dict[str, Any]:
    """The spec's ``domain`` block, filled from its other fields where the manifest is silent."""
    given = dict(getattr(spec, "domain", {}) or {})
    body = str(spec.input.get("body_part", "") or "")
    if spec.level == "exam":
        planes = list(spec.planes)
    else:
        planes = [str(spec.input.get("orientation", "axial"))]
    size = int(spec.input.get("size", 64) or 64)
    out: dict[str, Any] = {"modality": spec.modality, "body_parts": [body] if body else [],
                           "planes": planes,
                           "input": {"min_side": max(16, size // 3),
                                     "min_long_side": int(np.ceil(size / MAX_ENLARGEMENT)), "colour": False}}
    for key, value in given.items():
        out[key] = {**out["input"], **value} if key == "input" else value
    return out


def _plane_words(planes: list[str]) -> str:
    return " or ".join(planes)


#: The percentiles of the pixel values the domain check reads (1st and 99th).
VALUE_PERCENTILES = (1.0, 99.0)


def _values_reasons(vals: SortedValues, model_modality: str, declared: str | None) -> list[str]:
    """Reasons from the pixel values alone (dynamic range; HU vs MR signal)."""
    reasons: list[str] = []
    if vals.size == 0:
        return reasons
    lo, hi = (float(v) for v in vals.percentiles(VALUE_PERCENTILES).values())
    mod = model_modality.upper()
    if mod == "MR" and declared is None and vals.min < -500:
        reasons.append("CT image (pixel values in Hounsfield units, air at -1000); this model reads MR")
    if mod == "CT" and declared is None and lo > -200:
        reasons.append("pixel values do not look like CT Hounsfield units (no air below -200 HU): an MR "
                       "image or CT without its rescale; this model reads CT in HU")
    if mod == "CT" and hi > 4000:
        reasons.append(f"pixel values up to {hi:.0f} exceed any tissue in Hounsfield units "
                       "(wrong rescale?); this model reads CT in HU")
    if hi > lo:
        top = vals.share_at_max()
        if top > 0.3:
            reasons.append(f"{100 * top:.0f} % of the pixels are saturated at the maximum value "
                           "(wrong windowing or a burnt-in display image)")
    distinct = vals.distinct()
    if distinct <= 1:
        reasons.append("the image is uniform (one value everywhere): there is nothing to classify")
    elif distinct <= 8:
        reasons.append(f"only {distinct} grey levels (a mask, label map or display image, "
                       "not a scan)")
    return reasons


def domain_reasons(spec: Any, image: Any, modality: str | None = None,
                   orientation: str | None = None, body_part: str | None = None,
                   values: SortedValues | None = None,
                   ) -> tuple[list[str], list[str]]:
    """(reasons, notes) for ``image`` against the spec's domain.

    image: (H, W) slice for slice models or {plane: (S, H, W)} for exam models (already checked
    for shape by ``inference.checks.check_input``). modality: DICOM Modality when known;
    orientation: the slice plane as the viewer names it ("axial", "sagittal", "coronal",
    "oblique", "unknown"; None = not given); body_part: DICOM BodyPartExamined when known.
    Reasons make the input not applicable; notes say what could not be checked.
    ``values``: the slice's finite pixel values already sorted
    (``inference.classifier.prepare_input`` shares one sort with the normalisation).
    """
    dom = domain_block(spec)
    reasons: list[str] = []
    notes: list[str] = []
    want_mod = str(dom.get("modality", "") or "")
    if modality and want_mod and modality.strip().upper() != want_mod.upper():
        got = modality.strip().upper()
        reasons.append(f"{_MODALITY_WORDS.get(got, got)} image; this model reads {want_mod.upper()}")
    parts = [str(p).upper() for p in dom.get("body_parts", []) if p]
    if body_part and body_part.strip() and parts:
        got = BODY_ALIASES.get(body_part.strip().upper(), body_part.strip().upper())
        if got not in parts:
            reasons.append(f"{body_part.strip().lower()} image; this model reads "
                           f"{' or '.join(p.lower() for p in parts)} images")
    planes = [str(p).lower() for p in dom.get("planes", [])]
    if spec.level == "exam":
        stacks = image if isinstance(image, Mapping) else {}
        for plane, stack in stacks.items():
            vals = SortedValues.of(np.asarray(stack))
            reasons += [f"{plane} stack: {r}" for r in _values_reasons(vals, want_mod, modality)]
        return reasons, notes
    a = np.asarray(image)
    if orientation is not None and planes:
        o = orientation.strip().lower()
        if o in (*KNOWN_PLANES, "oblique") and o not in planes:
            reasons.append(f"{o} slice; this model reads {_plane_words(planes)} slices")
        elif o not in planes:
            notes.append(f"slice plane unknown; this model reads {_plane_words(planes)} slices only")
    min_side = int(dom.get("input", {}).get("min_side", 16))
    if a.ndim == 2 and min(a.shape) < min_side:
        reasons.append(f"the slice is only {a.shape[0]} x {a.shape[1]} pixels; this model reads "
                       f"slices of at least {min_side} pixels a side (a crop or an icon?)")
    elif a.ndim == 2 and max(a.shape) < (min_long := int(dom.get("input", {}).get("min_long_side", 0))):
        reasons.append(f"the slice is only {a.shape[0]} x {a.shape[1]} pixels; this model reads slices of at "
                       f"least {min_long} pixels along the longer side (a smaller one is enlarged onto its "
                       "input grid, and the blur raises false calls)")
    reasons += _values_reasons(values if values is not None else SortedValues.of(a), want_mod,
                               modality)
    return reasons, notes


__all__ = ["BODY_ALIASES", "KNOWN_PLANES", "MAX_ENLARGEMENT", "VALUE_PERCENTILES", "domain_block",
           "domain_reasons"]

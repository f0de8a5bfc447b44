"""Calls under changes a scanner makes and a reader ignores (``inference.evaluate``).

Reconstruction kernels, slice thickness and interpolation make one scanner's slice softer or
sharper than another's; none of that changes whether a lesion is there. This module scores a
detector on the held-out phantoms as drawn, blurred (a Gaussian of 1 model pixel) and edge-enhanced
(an unsharp mask, amount 0.7 over 1 model pixel): sensitivity, false-positive rate and ROC AUC for
each. A detector whose false-positive rate climbs on softer slices has learned "smooth image:
finding" from its training generator; ``--augment sharpness`` (``inference.augment``) trains that
away.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

from inference.metrics import binary_metrics

#: model pixels: the blur's sigma and the unsharp mask's radius
SIGMA_PX = 1.0
#: the unsharp mask's amount: u + amount * (u - blur(u))
SHARPEN = 0.7


def soften(image: np.ndarray, input_size: int, sigma_px: float = SIGMA_PX) -> np.ndarray:
    """``image`` blurred by ``sigma_px`` pixels of a model input ``input_size`` across."""
    return ndi.gaussian_filter(image.astype(np.float32), sigma_px * max(image.shape) / input_size)


def sharpen(image: np.ndarray, input_size: int, amount: float = SHARPEN) -> np.ndarray:
    """``image`` edge-enhanced: an unsharp mask of radius one model pixel."""
    img = image.astype(np.float32)
    return img + amount * (img - soften(img, input_size))


def robustness_report(clf: Any, samples: list[Any], drawn: list[Any] | None = None) -> dict[str, Any]:
    """Sensitivity, false-positive rate and ROC AUC of a detector (class 1: its finding) on
    ``samples`` (phantoms with a ``target``) as drawn, blurred and edge-enhanced, with the share of
    calls refused as outside the model's domain and of healthy slices called positive without
    that notice. ``drawn``: the predictions on the samples as drawn, when the caller has them."""
    size = int(clf.spec.input["size"])
    finding = clf.spec.classes[1]
    y = np.array([int(s.target) for s in samples])
    changes = {"as drawn": None,
               f"blurred ({SIGMA_PX:g} px)": lambda im: soften(im, size),
               f"edge-enhanced ({SHARPEN:g})": lambda im: sharpen(im, size)}
    out: dict[str, Any] = {}
    for name, change in changes.items():
        if change is None:
            preds = drawn if drawn is not None else clf.predict_batch([s.image for s in samples])
        else:
            preds = clf.predict_batch([change(np.asarray(s.image)) for s in samples])
        p = np.array([r.probabilities[finding] for r in preds])
        m = binary_metrics(y, p)
        shown = np.array([bool(r.applicable) for r in preds])
        out[name] = {"sensitivity": m["sensitivity"], "false_positive_rate": 1.0 - m["specificity"],
                     "false_positives_shown": float(((p >= 0.5) & shown)[y == 0].mean()),
                     "roc_auc": m["roc_auc"], "refused": float(1.0 - shown.mean())}
    return {"changes": out, "n": int(len(y)),
            "note": f"blur: Gaussian sigma {SIGMA_PX:g} model pixel; edge enhancement: unsharp mask, "
                    f"amount {SHARPEN:g}, radius {SIGMA_PX:g} model pixel; refused: not applicable; "
                    "false positives shown: healthy slices called positive without an out-of-domain notice"}


def robustness_lines(report: dict[str, Any]) -> list[str]:
    """One line per change, for ``inference.evaluate``'s table."""
    return [f"{'robustness':>18}: {name}: sensitivity {r['sensitivity']:.2f}, false positives "
            f"{r['false_positive_rate']:.2f} ({r['false_positives_shown']:.2f} without a notice), "
            f"ROC AUC {r['roc_auc']:.3f}, refused {r['refused']:.2f}"
            for name, r in report["changes"].items()]

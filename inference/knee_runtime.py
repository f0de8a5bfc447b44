"""Knee exam prediction and explanation (multi-plane, multi-label) for ``Classifier``.

An exam is {plane: (S, H, W)} float32; each plane is resampled to the manifest's ``n_slices``
slices at ``size`` px. Probabilities are sigmoids of the fused logits; maps are per plane
(S, H, W) on the source stacks.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from inference.checks import check_input
from inference.preprocess import Geometry, stack_to_slices, stack_to_tensor

if TYPE_CHECKING:
    from inference.predict import Classifier, Explanation, Prediction


def _prepare(clf: Classifier, exam: Mapping[str, np.ndarray], spacing: Any, modality: str | None,
             body_part: str | None = None):
    warnings = check_input(clf.spec, exam, modality, None, body_part)
    n = int(clf.spec.input.get("n_slices", 24))
    prepared: dict[str, tuple[torch.Tensor, Geometry, np.ndarray, int]] = {}
    for plane in clf.spec.planes:
        if plane in exam:
            stack = np.asarray(exam[plane], dtype=np.float32)
            finite = np.isfinite(stack)
            if not finite.all():
                stack = np.where(finite, stack, stack[finite].min()).astype(np.float32)
            x, geom, idx = stack_to_tensor(stack, clf.spec.input, n, spacing)
            prepared[plane] = (x, geom, idx, stack.shape[0])
    return prepared, warnings


def _prediction(clf: Classifier, prepared: Mapping[str, Any], warnings: list[str]) -> Prediction:
    from inference.predict import Prediction

    labels = clf.spec.classes
    with torch.inference_mode():
        logits = clf.module.plane_logits({p: v[0][None].to(clf.device) for p, v in prepared.items()})
        fused, contrib = clf.module.fuse(logits)
    probs = {lab: float(v) for lab, v in zip(labels, torch.sigmoid(fused[0]).tolist())}
    per_plane = {p: {lab: float(v) for lab, v in zip(labels, torch.sigmoid(lg[0]).tolist())}
                 for p, lg in logits.items()}
    contributions = {lab: {p: float(c[0, k]) for p, c in contrib.items()} for k, lab in enumerate(labels)}
    positive = [lab for lab in labels if probs[lab] >= 0.5]
    predicted = max(positive, key=probs.__getitem__) if positive else "normal"
    return Prediction(clf.spec.name, probs, predicted, tuple(warnings), per_plane,
                      tuple(prepared), contributions, demo=clf.spec.demo)


def predict(clf: Classifier, exam: Any, spacing: Any, modality: str | None,
            body_part: str | None = None) -> Prediction:
    """Fused per-label probabilities of a knee exam."""
    prepared, warnings = _prepare(clf, exam, spacing, modality, body_part)
    return _prediction(clf, prepared, warnings)


def iter_explain(clf: Classifier, exam: Any, method: str, target: str | int | None,
                 cancelled: Callable[[], bool] | None, spacing: Any, modality: str | None,
                 options: dict[str, Any]) -> Iterator[Explanation]:
    """Per-plane maps {plane: (S, H, W)} for one label.

    Grad-CAM: per slice on each plane's CNN, with per-slice importance. Occlusion: a patch is
    replaced (by its blurred copy) on every slice of the plane at once, giving one in-plane map
    (H, W) per plane, repeated over the slices; importance is then the Grad-CAM one.
    """
    from inference.explain.gradcam import gradcam
    from inference.explain.occlusion import occlusion
    from inference.predict import Explanation

    prepared, warnings = _prepare(clf, exam, spacing, modality)
    pred = _prediction(clf, prepared, warnings)
    labels = list(clf.spec.classes)
    if target is None:
        target = pred.predicted if pred.predicted in labels else labels[0]
    k = target if isinstance(target, int) else labels.index(target) if target in labels else -1
    if not 0 <= k < len(labels):
        raise ValueError(f"{target!r} is not a label of the {clf.spec.name} model; choose one of {labels}")
    maps: dict[str, np.ndarray] = {}
    importance: dict[str, np.ndarray] = {}
    for plane, (x, geom, idx, n_src) in prepared.items():
        if cancelled is not None and cancelled():
            return
        net = clf.module.planes[plane]
        xd = x.to(clf.device)
        cam, imp = gradcam(net, xd, net.target_layer, k, return_importance=True)
        per_src = np.array([float(imp[int(np.argmin(np.abs(idx - s)))]) for s in range(n_src)], np.float32)
        importance[plane] = per_src
        if method == "gradcam":
            maps[plane] = stack_to_slices(cam, geom, idx, n_src)
        else:
            s, size = xd.shape[0], xd.shape[-1]

            def forward(b: torch.Tensor, net: torch.nn.Module = net, s: int = s) -> torch.Tensor:
                return torch.sigmoid(net(b.view(b.shape[0], s, 1, size, size)))

            passes, sigma = clf.occlusion_settings(dict(options))
            opts = {k: v for k, v in options.items() if k not in ("patch", "stride", "passes")}
            if sigma is not None:
                opts.setdefault("blur_sigma", sigma)
            omap = occlusion(forward, xd.view(1, s, size, size), k, patch=passes[-1][0],
                             stride=passes[-1][1], **opts)
            maps[plane] = stack_to_slices(omap[None].repeat(s, 1, 1), geom, idx, n_src)
    yield Explanation(maps, method, labels[k], clf.spec.name, pred, importance=importance,
                      options=dict(options))

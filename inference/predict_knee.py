"""``KneeExamClassifier``: the knee exam model (multi-plane, multi-label) as a ``Classifier``.

An exam is {plane: (S, H, W)} float32; each plane is resampled to the manifest's ``n_slices``
slices at ``size`` px. Probabilities are sigmoids of the fused logits; maps are per plane
(S, H, W) on the source stacks.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from inference.checks import check_input
from inference.classifier import NO_OOD, Classifier, Domain, finite_image
from inference.domain import domain_reasons
from inference.explain.gradcam import gradcam
from inference.explain.occlusion import occlusion, smooth_to_stride
from inference.preprocess import Geometry, stack_to_slices, stack_to_tensor
from inference.results import Applicability, Explanation, Prediction
from inference.trust import pooled_features

Prepared = dict[str, tuple[torch.Tensor, Geometry, np.ndarray, int]]


class KneeExamClassifier(Classifier):
    """A knee exam model (manifest ``input.level`` "exam"): ``predict`` / ``explain`` take
    {plane: (S, H, W)} exams; ``module`` has ``plane_logits``, ``fuse`` and ``planes``."""

    def _prepare_exam(self, exam: Mapping[str, np.ndarray], modality: str | None,
                      spacing: tuple[float, float] | None = None,
                      body_part: str | None = None) -> tuple[Prepared, list[str], Domain]:
        warnings = check_input(self.spec, exam, modality, None, body_part)
        domain = domain_reasons(self.spec, exam, modality, None, body_part)
        n = int(self.spec.input.get("n_slices", 24))
        prepared: Prepared = {}
        for plane in self.spec.planes:
            if plane in exam:
                stack = finite_image(exam[plane])
                x, geom, idx = stack_to_tensor(stack, self.spec.input, n, spacing)
                prepared[plane] = (x, geom, idx, stack.shape[0])
        return prepared, warnings, domain

    def _exam_applicability(self, domain: Domain, distances: dict[str, float]) -> Applicability:
        """Domain check plus one out-of-distribution test per plane (each plane's threshold);
        the record's distance / threshold are those of the plane furthest past its threshold."""
        if self.ood is None:
            return Applicability(not domain[0], tuple(domain[0]), None, None, (*domain[1], NO_OOD))
        reasons = list(domain[0])
        worst: tuple[float, float, float] | None = None
        for plane, d in distances.items():
            t = self.ood.thresholds.get(plane)
            if t is None:
                continue
            if worst is None or d / t > worst[0]:
                worst = (d / t, d, t)
            if not np.isfinite(d) or d > t:
                reasons.append(f"{plane} stack unlike the training data (distance {d:.3g}, "
                               f"threshold {t:.3g})")
        return Applicability(not reasons, tuple(reasons), None if worst is None else worst[1],
                             None if worst is None else worst[2], tuple(domain[1]))

    def _exam_prediction(self, prepared: Prepared, warnings: Sequence[str], domain: Domain) -> Prediction:
        labels = self.spec.classes
        logits: dict[str, torch.Tensor] = {}
        distances: dict[str, float] = {}
        with torch.inference_mode():
            for p, v in prepared.items():
                if self.ood is None or p not in self.ood.thresholds:
                    logits[p] = self.module.planes[p](v[0][None].to(self.device))
                    continue
                with pooled_features(self.module.planes[p]) as seen:
                    logits[p] = self.module.planes[p](v[0][None].to(self.device))
                feats = seen[-1].mean(0, keepdim=True)            # (S, D) slices -> (1, D)
                distances[p] = float(self.ood.distance(feats, p)[0])
            fused, contrib = self.module.fuse(logits)
        fused = fused.float().cpu()
        probs = {lab: float(v) for lab, v in zip(labels, torch.sigmoid(fused[0] / self.temperature).tolist())}
        raw = ({} if self.temperature == 1.0 else
               {lab: float(v) for lab, v in zip(labels, torch.sigmoid(fused[0]).tolist())})
        per_plane = {p: {lab: float(v) for lab, v in zip(labels, torch.sigmoid(lg[0]).tolist())}
                     for p, lg in logits.items()}
        contributions = {lab: {p: float(c[0, k]) for p, c in contrib.items()}
                         for k, lab in enumerate(labels)}
        positive = [lab for lab in labels if probs[lab] >= 0.5]
        predicted = max(positive, key=probs.__getitem__) if positive else "normal"
        return Prediction(self.spec.name, probs, predicted, tuple(warnings), per_plane,
                          tuple(prepared), contributions, demo=self.spec.demo,
                          applicability=self._exam_applicability(domain, distances),
                          temperature=self.temperature, uncalibrated=raw)

    def predict(self, image: Any, *, spacing: tuple[float, float] | None = None,
                modality: str | None = None, orientation: str | None = None,
                body_part: str | None = None) -> Prediction:
        """Fused per-label probabilities of a knee exam {plane: (S, H, W)}."""
        prepared, warnings, domain = self._prepare_exam(image, modality, spacing, body_part)
        return self._exam_prediction(prepared, warnings, domain)

    def predict_batch(self, images: Sequence[Any], *, spacing: tuple[float, float] | None = None,
                      modality: str | None = None, batch_size: int = 16,
                      orientation: str | None = None, body_part: str | None = None) -> list[Prediction]:
        """Predictions for several exams, one after the other."""
        return [self.predict(im, spacing=spacing, modality=modality, body_part=body_part) for im in images]

    def iter_explain(self, image: Any, method: str = "occlusion", target: str | int | None = None, *,
                     cancelled: Callable[[], bool] | None = None,
                     spacing: tuple[float, float] | None = None, modality: str | None = None,
                     mask: np.ndarray | None = None, faithfulness: bool = False,
                     orientation: str | None = None, body_part: str | None = None,
                     **options: Any) -> Iterator[Explanation]:
        """Per-plane maps {plane: (S, H, W)} for one label (one final Explanation, no scores:
        ``mask`` and ``faithfulness`` are accepted for a common signature and ignored).

        Grad-CAM: per slice on each plane's CNN, with per-slice importance. Occlusion: a patch is
        replaced (by its blurred copy) on every slice of the plane at once, giving one in-plane
        map (H, W) per plane, repeated over the slices; importance is then the Grad-CAM one.
        """
        if method not in ("gradcam", "occlusion"):
            raise ValueError(f"unknown explanation method {method!r}; choose gradcam or occlusion")
        prepared, warnings, domain = self._prepare_exam(image, modality, spacing, body_part)
        pred = self._exam_prediction(prepared, warnings, domain)
        labels = list(self.spec.classes)
        if target is None:
            target = pred.predicted if pred.predicted in labels else labels[0]
        k = target if isinstance(target, int) else labels.index(target) if target in labels else -1
        if not 0 <= k < len(labels):
            raise ValueError(f"{target!r} is not a label of the {self.spec.name} model; "
                             f"choose one of {labels}")
        maps: dict[str, np.ndarray] = {}
        importance: dict[str, np.ndarray] = {}
        for plane, (x, geom, idx, n_src) in prepared.items():
            if cancelled is not None and cancelled():
                return
            net = self.module.planes[plane]
            xd = x.to(self.device)
            cam, imp = gradcam(net, xd, net.target_layer, k, return_importance=True)
            importance[plane] = np.array([float(imp[int(np.argmin(np.abs(idx - s)))])
                                          for s in range(n_src)], np.float32)
            if method == "gradcam":
                maps[plane] = stack_to_slices(cam, geom, idx, n_src)
            else:
                maps[plane] = self._plane_occlusion(net, xd, geom, idx, n_src, k, options)
        yield Explanation(maps, method, labels[k], self.spec.name, pred, importance=importance,
                          options=dict(options))

    def _plane_occlusion(self, net: torch.nn.Module, xd: torch.Tensor, geom: Geometry,
                         idx: np.ndarray, n_src: int, k: int, options: dict[str, Any]) -> np.ndarray:
        s, size = xd.shape[0], xd.shape[-1]

        def forward(b: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(net(b.view(b.shape[0], s, 1, size, size)))

        passes, sigma = self.occlusion_settings(dict(options))
        opts = {key: v for key, v in options.items() if key not in ("patch", "stride", "passes", "smooth")}
        if sigma is not None:
            opts.setdefault("blur_sigma", sigma)
        omap = occlusion(forward, xd.view(1, s, size, size), k, patch=passes[-1][0],
                         stride=passes[-1][1], **opts)
        if options.get("smooth", True):      # as Classifier.iter_explain shows occlusion maps
            omap = smooth_to_stride(omap, passes[-1][1])
        return stack_to_slices(omap[None].repeat(s, 1, 1), geom, idx, n_src)

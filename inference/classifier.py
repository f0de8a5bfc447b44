"""``Classifier``: a loaded slice model with predict / predict_batch / explain / iter_explain.

Images are float32 (H, W) slices in physical units (HU for CT). Explanation maps come back in the
input's pixel geometry, raw values kept; final maps arrive with their scores
(:func:`inference.explain.faithfulness.score_map`). Multi-plane exam models are subclasses
(:class:`inference.predict_knee.KneeExamClassifier`); :func:`inference.predict.load_model` picks
the class from the manifest.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from inference.checks import check_input
from inference.domain import domain_reasons
from inference.explain import fast_forward as ff
from inference.explain.faithfulness import score_map
from inference.explain.gradcam import gradcam
from inference.explain.hirescam import hirescam
from inference.explain.occlusion import iter_occlusion, smooth_to_stride
from inference.preprocess import Geometry, percentile_bounds, to_slice, to_tensor
from inference.registry import ModelSpec, load_ood
from inference.results import Applicability, Explanation, MapScores, Prediction
from inference.trust import OODScorer, pooled_features
from inference.value_stats import SortedValues

METHODS = ("gradcam", "hirescam", "occlusion")
NO_OOD = "no out-of-distribution statistics for this model (domain checks only)"
#: (reasons, notes) of the domain check of one input.
Domain = tuple[list[str], list[str]]


def finite_image(image: np.ndarray) -> np.ndarray:
    """float32 copy of ``image`` with NaN / inf replaced by the lowest finite value."""
    a = np.asarray(image, dtype=np.float32)
    finite = np.isfinite(a)
    if not finite.all():
        a = np.where(finite, a, a[finite].min()).astype(np.float32)
    return a


def prepare_input(spec: ModelSpec, image: np.ndarray, spacing: tuple[float, float] | None,
                  modality: str | None, orientation: str | None = None, body_part: str | None = None,
                  ) -> tuple[torch.Tensor, Geometry, list[str], Domain]:
    """The one preparation of an (H, W) slice for a slice model: input checks (``InputError``
    when refused), domain check, model tensor of the finite image and its geometry. Used by
    ``Classifier.predict`` / ``explain`` and by the batch readers, so both give the same inputs.
    One sort of the pixel values serves the domain check and a percentile normalisation."""
    warnings = check_input(spec, image, modality, orientation, body_part)
    a = np.asarray(image, dtype=np.float32)
    all_finite = a.ndim == 2 and a.size > 0 and bool(np.isfinite(a).all())
    fin = a if all_finite else finite_image(a)
    stats = values = None
    if all_finite:
        values = SortedValues.of(fin)
        stats = values.percentiles(percentile_bounds(spec.input) or ())
    domain = domain_reasons(spec, image, modality, orientation, body_part, values)
    x, geom = to_tensor(fin, spec.input, spacing, stats)
    return x, geom, warnings, domain


class Classifier:
    """A loaded model: ``spec`` (ModelSpec), ``module`` (eval mode, on ``device``),
    ``temperature`` (calibration, 1.0 when none) and ``ood`` (out-of-distribution scorer from the
    statistics stored with the weights, None when the model has none)."""

    def __init__(self, spec: ModelSpec, module: torch.nn.Module, device: torch.device) -> None:
        self.spec = spec
        self.module = module.eval().to(device)
        # Channels-last activations: the convolutions of these small-channel models run about
        # 1.5x faster on CPU (make bench: bench_explain/bench_batch); values are unchanged.
        self._channels_last = any(isinstance(m, torch.nn.Conv2d) for m in self.module.modules())
        if self._channels_last:
            self.module.to(memory_format=torch.channels_last)
        self.device = device
        self.temperature = spec.temperature
        tensors = load_ood(spec)
        self.ood = None if tensors is None else OODScorer(tensors, spec.ood.get("thresholds", {}))
        # The folded copy predictions run through, built now, while the model loads (a torch.fx
        # trace of about a second for the larger models, not in the first prediction).
        ff.fast_forward(self.module)

    # ----------------------------------------------------------------- inputs
    def _prepare(self, image: np.ndarray, spacing: tuple[float, float] | None, modality: str | None,
                 orientation: str | None = None, body_part: str | None = None,
                 ) -> tuple[torch.Tensor, Geometry, list[str], Domain]:
        return prepare_input(self.spec, image, spacing, modality, orientation, body_part)

    def _probs(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits.float(), dim=-1)

    def _run(self, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(logits (B, K), pooled features (B, D) or None without statistics) on the device."""
        if self._channels_last and xb.dim() == 4:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            # The BatchNorm-folded copy (explain.fast_forward): one pass over the activations
            # fewer per layer, the same logits and features up to float32 rounding.
            if self.ood is None:
                return ff.fast_forward(self.module)(xb), None
            net, owner, layer = ff.fast_forward_tap(self.module, str(self.spec.ood.get("layer", "pool")))
            with pooled_features(owner, layer) as seen:
                logits = net(xb)
            return logits, seen[-1]

    def applicability(self, domain: Domain, distance: float | None, group: str = "slice",
                      what: str = "image") -> Applicability:
        """The Applicability record from the domain check and an out-of-distribution distance."""
        reasons, notes = list(domain[0]), list(domain[1])
        threshold = None
        if self.ood is None or distance is None:
            notes.append(NO_OOD)
            distance = None
        else:
            threshold = self.ood.thresholds[group]
            if not np.isfinite(distance) or distance > threshold:
                reasons.append(f"{what} unlike the training data (distance {distance:.3g}, "
                               f"threshold {threshold:.3g})")
        return Applicability(not reasons, tuple(reasons), distance, threshold, tuple(notes))

    def _make(self, logits: torch.Tensor, feats: torch.Tensor | None, warnings: Sequence[str],
              domain: Domain) -> Prediction:
        """The Prediction of one item: calibrated probabilities and the applicability check."""
        return self._make_many(logits[None], None if feats is None else feats[None],
                               [warnings], [domain])[0]

    def _make_many(self, logits: torch.Tensor, feats: torch.Tensor | None,
                   warnings: Sequence[Sequence[str]], domains: Sequence[Domain]) -> list[Prediction]:
        """``_make`` for a batch: (B, K) logits and (B, D) features, one softmax and one
        distance computation for the whole batch."""
        logits = logits.float().cpu()
        probs = self._probs(logits / self.temperature).tolist()
        raw = None if self.temperature == 1.0 else self._probs(logits).tolist()
        distances: list[float | None] = [None] * len(probs)
        if self.ood is not None and feats is not None:
            distances = [float(d) for d in self.ood.distance(feats.float())]
        out: list[Prediction] = []
        for j, row in enumerate(probs):
            p = {c: float(v) for c, v in zip(self.spec.classes, row)}
            unc = {} if raw is None else {c: float(v) for c, v in zip(self.spec.classes, raw[j])}
            out.append(Prediction(self.spec.name, p, max(p, key=p.__getitem__), tuple(warnings[j]),
                                  demo=self.spec.demo,
                                  applicability=self.applicability(domains[j], distances[j]),
                                  temperature=self.temperature, uncalibrated=unc))
        return out

    def _target_index(self, target: str | int | None, prediction: Prediction) -> int:
        classes = list(self.spec.classes)
        if target is None:
            target = prediction.predicted if prediction.predicted in classes else classes[0]
        if isinstance(target, int):
            if not 0 <= target < len(classes):
                raise ValueError(f"class index {target} out of range for {classes}")
            return target
        if target not in classes:
            raise ValueError(f"{target!r} is not a class of the {self.spec.name} model; "
                             f"choose one of {classes}")
        return classes.index(target)

    # ------------------------------------------------------------- prediction
    def predict(self, image: Any, *, spacing: tuple[float, float] | None = None,
                modality: str | None = None, orientation: str | None = None,
                body_part: str | None = None) -> Prediction:
        """Calibrated class probabilities for an (H, W) slice, with the applicability check of
        the slice (``orientation``: "axial", "sagittal", "coronal", "oblique" or "unknown" as the
        viewer names the plane; ``modality`` / ``body_part``: from the header when known)."""
        x, _, warnings, domain = self._prepare(image, spacing, modality, orientation, body_part)
        logits, feats = self._run(x[None].to(self.device))
        return self._make(logits[0], None if feats is None else feats[0], warnings, domain)

    def predict_batch(self, images: Sequence[Any], *, spacing: tuple[float, float] | None = None,
                      modality: str | None = None, batch_size: int = 16,
                      orientation: str | None = None, body_part: str | None = None) -> list[Prediction]:
        """Predictions for many slices (a series sweep), run ``batch_size`` at a time."""
        prepared = [self._prepare(im, spacing, modality, orientation, body_part) for im in images]
        if not prepared:
            return []
        return self.predict_prepared(torch.stack([c[0] for c in prepared]), [c[2] for c in prepared],
                                     [c[3] for c in prepared], batch_size)

    def predict_prepared(self, x: torch.Tensor | np.ndarray, warnings: Sequence[Sequence[str]],
                         domains: Sequence[Domain], batch_size: int = 16) -> list[Prediction]:
        """Predictions for model inputs already prepared as ``predict`` prepares them (``x``:
        (N, 1, size, size) from ``model_input``; ``warnings`` and ``domains``: per input, from
        ``inference.checks.check_input`` and ``inference.domain.domain_reasons``). The batch
        engine prepares inputs in worker processes and calls this in the model process."""
        x = torch.as_tensor(np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x)
        out: list[Prediction] = []
        for i in range(0, len(x), batch_size):
            logits, feats = self._run(x[i:i + batch_size].to(self.device))
            out += self._make_many(logits, feats, warnings[i:i + batch_size], domains[i:i + batch_size])
        return out

    # ----------------------------------------------------------- explanation
    def forward_probs(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """(B, 1, size, size) -> (B, K) probabilities (for occlusion and faithfulness scores):
        the calibrated probabilities the reader sees beside the map (temperature applied), so a
        deletion note's "unblurred 0.07" is the bar's 7 %.

        Runs the BatchNorm-folded inference copy of the module (``explain.fast_forward``): same
        values as ``self.module`` in eval mode up to float32 rounding; no hooks, no gradients.
        """
        net = ff.fast_forward(self.module)
        temperature = float(getattr(self, "temperature", 1.0) or 1.0)

        def forward(b: torch.Tensor) -> torch.Tensor:
            return self._probs(net(b.to(self.device)) / temperature)
        return forward

    def occlusion_settings(
            self, options: dict[str, Any] | None = None) -> tuple[tuple[tuple[int, int], ...], float | None]:
        """Occlusion passes ((patch, stride), ...) and baseline blur (model px): the caller's
        options (``patch``/``stride`` or ``passes``; consumed) over the manifest's over defaults."""
        options = {} if options is None else options
        size = int(self.spec.input["size"])
        conf = dict(self.spec.explain.get("occlusion", {}))
        conf.update({k: options.pop(k) for k in ("patch", "stride", "passes") if k in options})
        if "patch" in conf and "passes" not in options:
            patch = int(conf["patch"])
            passes: tuple[tuple[int, int], ...] = ((patch, int(conf.get("stride", max(1, patch // 2)))),)
        else:
            passes = tuple((int(p), int(s)) for p, s in conf.get(
                "passes", ((size // 4, size // 8), (size // 8, size // 16))))
        sigma = conf.get("blur_sigma")
        return passes, None if sigma is None else float(sigma)

    def forward_scores(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """(B, 1, size, size) -> (B, K) log-odds log(p / (1 - p)) per class (for occlusion).

        Unlike probabilities, log-odds do not saturate near 1, so a confident model's score still
        drops measurably when the evidence is occluded. Runs the BatchNorm-folded inference copy
        of the module (``explain.fast_forward``), like ``forward_probs``.
        """
        net = ff.fast_forward(self.module)

        def forward(b: torch.Tensor) -> torch.Tensor:
            z = net(b.to(self.device)).float()
            k = z.shape[-1]
            others = z.unsqueeze(1).expand(-1, k, -1).masked_fill(torch.eye(k, dtype=torch.bool,
                                                                             device=z.device), float("-inf"))
            return z - torch.logsumexp(others, dim=-1)      # z_k - log sum_{j != k} exp(z_j)
        return forward

    def model_input(self, image: np.ndarray, spacing: tuple[float, float] | None = None,
                    ) -> tuple[torch.Tensor, Geometry]:
        """The (1, size, size) model tensor of an (H, W) slice and where the slice sits in it,
        prepared exactly as ``predict`` and ``explain`` prepare it (non-finite pixels filled)."""
        return to_tensor(finite_image(image), self.spec.input, spacing)

    def explain(self, image: Any, method: str = "gradcam", target: str | int | None = None, *,
                spacing: tuple[float, float] | None = None, modality: str | None = None,
                mask: np.ndarray | None = None, faithfulness: bool = False,
                orientation: str | None = None, body_part: str | None = None,
                **options: Any) -> Explanation:
        """Heat map for ``target`` (default: the predicted class) by ``method``, in slice pixels,
        with its scores (see ``iter_explain``)."""
        last = None
        for last in self.iter_explain(image, method, target, spacing=spacing, modality=modality,
                                      mask=mask, faithfulness=faithfulness, orientation=orientation,
                                      body_part=body_part, **options):
            pass
        assert last is not None
        return last

    def iter_explain(self, image: Any, method: str = "occlusion", target: str | int | None = None, *,
                     cancelled: Callable[[], bool] | None = None,
                     spacing: tuple[float, float] | None = None, modality: str | None = None,
                     mask: np.ndarray | None = None, faithfulness: bool = False,
                     orientation: str | None = None, body_part: str | None = None,
                     **options: Any) -> Iterator[Explanation]:
        """Explanations from coarse to fine (occlusion passes); the last one has ``final=True``
        and its ``scores``: pointing game and energy in the mask when ``mask`` (bool (H, W)
        ground truth of this slice) holds a lesion, deletion AUC and the random-map baseline
        when ``faithfulness`` is True (about a hundred more forward passes; skipped once
        ``cancelled()``). Every explanation's ``prediction`` carries the applicability check.

        Stops early (without a final map) when ``cancelled()`` returns True. Other ``options``
        go to the method (``relu`` for Grad-CAM; ``patch``, ``stride``, ``passes``,
        ``baseline``, ``blur_sigma``, ``batch_size`` for occlusion, and ``smooth``: True (default)
        shows each pass smoothed to its stride, ``explain.occlusion.smooth_to_stride``; False
        keeps Captum's stride-sized blocks).
        """
        if method not in METHODS:
            raise ValueError(f"unknown explanation method {method!r}; choose one of {METHODS}")
        x, geom, warnings, domain = self._prepare(image, spacing, modality, orientation, body_part)
        xb = x[None].to(self.device)
        logits, feats = self._run(xb)
        pred = self._make(logits[0], None if feats is None else feats[0], warnings, domain)
        k = self._target_index(target, pred)
        name = self.spec.classes[k]
        if method in ("gradcam", "hirescam"):
            fn = gradcam if method == "gradcam" else hirescam
            cam = fn(self.module, xb, self.spec.target_layer, k, relu=options.get("relu", True))[0]
            steps: Iterator[Any] = iter([(cam, True, 0)])
            passes: tuple[tuple[int, int], ...] = ()
            opts = dict(options)
        else:
            passes, sigma = self.occlusion_settings(options)
            options.setdefault("blur_sigma", sigma)
            options.setdefault("refine", str(self.spec.explain.get("occlusion", {}).get("refine", "full")))
            smooth = bool(options.pop("smooth", True))
            steps = (((smooth_to_stride(st.map, st.stride) if smooth else st.map), st.final, st.pass_index)
                     for st in iter_occlusion(self.forward_scores(), xb, k, passes=passes,
                                              cancelled=cancelled, **options))
            opts = {"passes": passes, **options, "smooth": smooth}
        for grid_map, final, index in steps:
            exp = Explanation(to_slice(grid_map, geom), method, name, self.spec.name, pred,
                              final=final, pass_index=index, passes=max(1, len(passes)),
                              options=opts, reference=self.spec.map_reference(method, name))
            if final:
                exp = replace(exp, scores=self._scores(image, exp, spacing, mask,
                                                       faithfulness, cancelled))
            yield exp

    def _scores(self, image: np.ndarray, exp: Explanation, spacing: tuple[float, float] | None,
                mask: np.ndarray | None, faithfulness: bool,
                cancelled: Callable[[], bool] | None) -> MapScores:
        deletion = faithfulness and not (cancelled is not None and cancelled())
        return score_map(self, image, exp.map, exp.target, mask=mask, spacing=spacing,
                         deletion=deletion)

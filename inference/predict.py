"""Classifiers: ``load_model(name)`` -> ``Classifier`` with predict / predict_batch / explain / iter_explain.

Images are float32 (H, W) slices in physical units (HU for CT), or for the knee exam model a dict
{plane: (S, H, W)}. Explanation maps come back in the input's pixel geometry, raw values kept.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from inference import knee_runtime
from inference.checks import check_input
from inference.devices import select_device
from inference.errors import InputError, ModelLoadError
from inference.models import build_model
from inference.preprocess import Geometry, to_slice, to_tensor
from inference.registry import ModelSpec, get_spec, list_models, load_state

METHODS = ("gradcam", "occlusion")


@dataclass(frozen=True)
class Prediction:
    """Class probabilities for one slice or exam.

    ``predicted``: the most probable class (knee: the most probable label at or above 0.5,
    else "normal"). Knee only: ``per_plane`` {plane: {label: p}}, ``planes_used``,
    ``contributions`` {label: {plane: fusion weight * plane logit}}.
    """

    model: str
    probabilities: dict[str, float]
    predicted: str
    warnings: tuple[str, ...] = ()
    per_plane: dict[str, dict[str, float]] = field(default_factory=dict)
    planes_used: tuple[str, ...] = ()
    contributions: dict[str, dict[str, float]] = field(default_factory=dict)
    demo: bool = False


@dataclass(frozen=True)
class Explanation:
    """A heat map for ``target``: float32 (H, W) on the input slice (knee: {plane: (S, H, W)}).

    ``importance``: knee only, {plane: (S,)} per-slice Grad-CAM importance. ``final`` is False for
    the coarse early maps of ``iter_explain``; ``pass_index`` / ``passes`` say how far it got.
    """

    map: Any
    method: str
    target: str
    model: str
    prediction: Prediction
    importance: dict[str, np.ndarray] | None = None
    final: bool = True
    pass_index: int = 0
    passes: int = 1
    options: dict[str, Any] = field(default_factory=dict)


def _clean(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image, dtype=np.float32)
    finite = np.isfinite(a)
    if not finite.all():
        a = np.where(finite, a, a[finite].min()).astype(np.float32)
    return a


class Classifier:
    """A loaded model: ``spec`` (ModelSpec), ``module`` (eval mode, on ``device``)."""

    def __init__(self, spec: ModelSpec, module: torch.nn.Module, device: torch.device) -> None:
        self.spec = spec
        self.module = module.eval().to(device)
        self.device = device

    # ----------------------------------------------------------------- inputs
    def _prepare(self, image: np.ndarray, spacing: tuple[float, float] | None, modality: str | None,
                 orientation: str | None = None, body_part: str | None = None,
                 ) -> tuple[torch.Tensor, Geometry, list[str]]:
        warnings = check_input(self.spec, image, modality, orientation, body_part)
        x, geom = to_tensor(_clean(image), self.spec.input, spacing)
        return x, geom, warnings

    def _probs(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits.float(), dim=-1)

    def _make(self, probs: torch.Tensor, warnings: Sequence[str]) -> Prediction:
        p = {c: float(v) for c, v in zip(self.spec.classes, probs.tolist())}
        return Prediction(self.spec.name, p, max(p, key=p.__getitem__), tuple(warnings), demo=self.spec.demo)

    def _target_index(self, target: str | int | None, prediction: Prediction) -> int:
        classes = list(self.spec.classes)
        if target is None:
            target = prediction.predicted if prediction.predicted in classes else classes[0]
        if isinstance(target, int):
            if not 0 <= target < len(classes):
                raise ValueError(f"class index {target} out of range for {classes}")
            return target
        if target not in classes:
            raise ValueError(f"{target!r} is not a class of the {self.spec.name} model; choose one of {classes}")
        return classes.index(target)

    # ------------------------------------------------------------- prediction
    def predict(self, image: Any, *, spacing: tuple[float, float] | None = None,
                modality: str | None = None, orientation: str | None = None,
                body_part: str | None = None) -> Prediction:
        """Class probabilities for an (H, W) slice (knee: {plane: (S, H, W)} exam)."""
        if self.spec.level == "exam":
            return knee_runtime.predict(self, image, spacing, modality, body_part)
        x, _, warnings = self._prepare(image, spacing, modality, orientation, body_part)
        with torch.inference_mode():
            probs = self._probs(self.module(x[None].to(self.device)))[0].cpu()
        return self._make(probs, warnings)

    def predict_batch(self, images: Sequence[Any], *, spacing: tuple[float, float] | None = None,
                      modality: str | None = None, batch_size: int = 16) -> list[Prediction]:
        """Predictions for many slices (a series sweep), run ``batch_size`` at a time."""
        if self.spec.level == "exam":
            return [self.predict(im, spacing=spacing, modality=modality) for im in images]
        prepared = [self._prepare(im, spacing, modality) for im in images]
        out: list[Prediction] = []
        for i in range(0, len(prepared), batch_size):
            chunk = prepared[i:i + batch_size]
            x = torch.stack([c[0] for c in chunk]).to(self.device)
            with torch.inference_mode():
                probs = self._probs(self.module(x)).cpu()
            out += [self._make(pr, c[2]) for pr, c in zip(probs, chunk)]
        return out

    # ----------------------------------------------------------- explanation
    def forward_probs(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """(B, 1, size, size) -> (B, K) probabilities (for occlusion and faithfulness scores).

        Runs the BatchNorm-folded inference copy of the module (``explain.fast_forward``): same
        values as ``self.module`` in eval mode up to float32 rounding; no hooks, no gradients.
        """
        from inference.explain.fast_forward import fast_forward

        net = fast_forward(self.module)

        def forward(b: torch.Tensor) -> torch.Tensor:
            return self._probs(net(b.to(self.device)))
        return forward

    def occlusion_settings(self, options: dict[str, Any] | None = None) -> tuple[tuple[tuple[int, int], ...], float | None]:
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
        from inference.explain.fast_forward import fast_forward

        net = fast_forward(self.module)

        def forward(b: torch.Tensor) -> torch.Tensor:
            z = net(b.to(self.device)).float()
            k = z.shape[-1]
            others = z.unsqueeze(1).expand(-1, k, -1).masked_fill(torch.eye(k, dtype=torch.bool,
                                                                             device=z.device), float("-inf"))
            return z - torch.logsumexp(others, dim=-1)      # z_k - log sum_{j != k} exp(z_j)
        return forward

    def explain(self, image: Any, method: str = "gradcam", target: str | int | None = None, *,
                spacing: tuple[float, float] | None = None, modality: str | None = None,
                **options: Any) -> Explanation:
        """Heat map for ``target`` (default: the predicted class) by ``method``, in slice pixels."""
        last = None
        for last in self.iter_explain(image, method, target, spacing=spacing, modality=modality, **options):
            pass
        assert last is not None
        return last

    def iter_explain(self, image: Any, method: str = "occlusion", target: str | int | None = None, *,
                     cancelled: Callable[[], bool] | None = None,
                     spacing: tuple[float, float] | None = None, modality: str | None = None,
                     **options: Any) -> Iterator[Explanation]:
        """Explanations from coarse to fine (occlusion passes); the last one has ``final=True``.

        Stops early (without a final map) when ``cancelled()`` returns True.
        """
        if method not in METHODS:
            raise ValueError(f"unknown explanation method {method!r}; choose one of {METHODS}")
        if self.spec.level == "exam":
            yield from knee_runtime.iter_explain(self, image, method, target, cancelled, spacing,
                                                 modality, options)
            return
        from inference.explain.gradcam import gradcam
        from inference.explain.occlusion import iter_occlusion

        x, geom, warnings = self._prepare(image, spacing, modality)
        xb = x[None].to(self.device)
        with torch.inference_mode():
            pred = self._make(self._probs(self.module(xb))[0].cpu(), warnings)
        k = self._target_index(target, pred)
        name = self.spec.classes[k]
        if method == "gradcam":
            cam = gradcam(self.module, xb, self.spec.target_layer, k, relu=options.get("relu", True))[0]
            yield Explanation(to_slice(cam, geom), method, name, self.spec.name, pred, options=dict(options))
            return
        passes, sigma = self.occlusion_settings(options)
        options.setdefault("blur_sigma", sigma)
        steps = iter_occlusion(self.forward_scores(), xb, k, passes=passes, cancelled=cancelled, **options)
        for step in steps:
            yield Explanation(to_slice(step.map, geom), method, name, self.spec.name, pred,
                              final=step.final, pass_index=step.pass_index, passes=len(passes),
                              options={"passes": passes, **options})


def load_model(name: str, device: str | torch.device | None = None,
               manifest_path: str | None = None) -> Classifier:
    """Load a registered model (or the manifest at ``manifest_path``) onto ``device``.

    Raises ModelLoadError naming the file when the manifest or the weights cannot be used.
    """
    spec = get_spec(name, manifest_path)
    state = load_state(spec)
    try:
        module = build_model(spec.task, spec.architecture, spec.classes, spec.planes or ("sagittal", "coronal", "axial"))
        module.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{spec.weights_path}: the weights do not fit the architecture in "
                             f"{spec.manifest_path} ({str(exc).splitlines()[0]})") from exc
    return Classifier(spec, module, select_device(device))


def describe_models() -> list[dict[str, Any]]:
    """One summary dict per model (for ``slicewise models --json``)."""
    out = []
    for name in list_models():
        s = get_spec(name)
        out.append({"name": s.name, "version": s.version, "task": s.task, "modality": s.modality,
                    "classes": list(s.classes), "backbone": s.backbone, "input_size": s.input.get("size"),
                    "weights": str(s.weights_path), "sha256": s.sha256, "demo": s.demo,
                    "demo_statement": s.demo_statement, "metrics": s.metrics,
                    "intended_use": s.intended_use})
    return out


__all__ = ["Classifier", "Explanation", "InputError", "ModelLoadError", "Prediction",
           "describe_models", "load_model"]

"""Out-of-distribution statistics and calibration of a classifier, fitted on its own data.

* **Out-of-distribution score** (Lee et al. 2018, "A simple unified framework for detecting
  out-of-distribution samples"): the model's pooled penultimate features (the output of its
  global pooling layer, ``pool``), class-conditional means and one shared covariance fitted on
  training data; the score of an image is its Mahalanobis distance to the nearest class mean.
  The threshold is a high percentile (default 99th) of the distances of *validation* images, so
  about 1 % of in-domain images are refused. The knee exam model gets one statistic per plane
  (features averaged over the plane's slices; one class: the labels are not exclusive).
* **Temperature scaling** (Guo et al. 2017): one scalar T dividing the logits, fitted by LBFGS on
  the validation negative log-likelihood (softmax for slice models, sigmoid of the fused logits
  for the knee exam).

Statistics are stored in a second safetensors file beside the weights (``<name>.ood.safetensors``,
its sha256 in the manifest's ``ood`` block; never pickle), the temperature and the expected
calibration errors in the manifest's ``calibration`` block and ``metrics.calibration``.
Feature tensors are (N, D); logits (N, K).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor, nn

from inference.metrics import ece_binary_labels, expected_calibration_error

FEATURE_LAYER = "pool"
#: Models whose head max-pools (small-lesion detectors): the statistics read the last conv
#: layer's output averaged over the image instead. A max-pooled feature keeps only each channel's
#: strongest response, which a knee or a brain can both produce; the average describes the whole
#: image (tumour demo model, held-out brain vs knee phantoms: ROC AUC 0.95 -> 1.00).
AVERAGED_LAYER = "backbone"


def feature_layer(model: nn.Module) -> str:
    """The layer whose output (averaged over space when it has any) the statistics read."""
    names = dict(model.named_modules())
    if isinstance(names.get("pool"), nn.AdaptiveMaxPool2d) and AVERAGED_LAYER in names:
        return AVERAGED_LAYER
    return FEATURE_LAYER
PERCENTILE = 99.0
SHRINKAGE = 0.05
ECE_BINS = 15
#: Temperatures are not fitted below 1: on separable validation phantoms the NLL keeps falling as
#: T -> 0, which would make an already over-confident demo model sharper still.
MIN_TEMPERATURE = 1.0
MAX_TEMPERATURE = 20.0


# ------------------------------------------------------------------------------ features
@contextmanager
def pooled_features(module: nn.Module, layer: str = FEATURE_LAYER) -> Iterator[list[Tensor]]:
    """Collect ``module.<layer>``'s outputs as (B, D) float32 during forward passes: feature maps
    (B, C, H, W) averaged over H and W (a global average pool; the same values for a layer that
    already pooled to 1 x 1), anything else flattened.

    The hook handle is removed on exit (also after an exception).
    """
    target = dict(module.named_modules()).get(layer)
    if target is None:
        raise ValueError(f"the model has no layer {layer!r} to take out-of-distribution features from")
    seen: list[Tensor] = []

    def hook(_m: nn.Module, _i: object, out: Tensor) -> None:
        out = out.detach()
        seen.append((out.mean(dim=(2, 3)) if out.dim() == 4 else out.flatten(1)).float())

    handle = target.register_forward_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def slice_features(module: nn.Module, x: Tensor, batch_size: int = 64) -> tuple[Tensor, Tensor]:
    """(logits (N, K), features (N, D)) of a slice model on model inputs x (N, 1, h, w), CPU."""
    logits, feats = [], []
    module.eval()
    with torch.inference_mode(), pooled_features(module, feature_layer(module)) as seen:
        for i in range(0, len(x), batch_size):
            logits.append(module(x[i:i + batch_size]).float().cpu())
            feats.append(seen.pop().cpu())
    return torch.cat(logits), torch.cat(feats)


def knee_features(module: nn.Module, x: Mapping[str, Tensor], batch_size: int = 4,
                  ) -> tuple[Tensor, dict[str, Tensor]]:
    """(fused logits (N, L), {plane: features (N, D)} averaged over each exam's slices) of a
    knee exam model on {plane: (N, S, 1, h, w)}."""
    n = len(next(iter(x.values())))
    fused: list[Tensor] = []
    feats: dict[str, list[Tensor]] = {p: [] for p in x}
    module.eval()
    with torch.inference_mode():
        for i in range(0, n, batch_size):
            logits = {}
            for p, v in x.items():
                with pooled_features(module.planes[p]) as seen:
                    logits[p] = module.planes[p](v[i:i + batch_size])
                b, s = v[i:i + batch_size].shape[:2]
                feats[p].append(seen.pop().view(b, s, -1).mean(1).cpu())
            fused.append(module.fuse(logits)[0].float().cpu())
    return torch.cat(fused), {p: torch.cat(f) for p, f in feats.items()}


# ------------------------------------------------------------------------------ statistics
def fit_gaussian(feats: Tensor, labels: Tensor | None, shrinkage: float = SHRINKAGE,
                 ) -> tuple[Tensor, Tensor]:
    """Class means (K, D) and the shared precision matrix (D, D) of ``feats`` (N, D).

    ``labels``: class index per row, or None for one class. The tied covariance is shrunk
    towards its mean variance (``(1 - a) S + a tr(S)/D I``) so it stays invertible when N is
    not much larger than D.
    """
    f = feats.double()
    y = torch.zeros(len(f), dtype=torch.long) if labels is None else labels.long()
    classes = sorted(int(c) for c in torch.unique(y))
    means = torch.stack([f[y == c].mean(0) for c in classes])
    centred = f - means[torch.searchsorted(torch.tensor(classes), y)]
    cov = centred.T @ centred / max(1, len(f) - len(classes))
    d = cov.shape[0]
    cov = (1 - shrinkage) * cov + shrinkage * torch.trace(cov) / d * torch.eye(d, dtype=cov.dtype)
    return means.float(), torch.linalg.inv(cov).float()


def mahalanobis(feats: Tensor, means: Tensor, precision: Tensor) -> Tensor:
    """Distance (N,) of each row of ``feats`` (N, D) to the nearest of ``means`` (K, D)."""
    diff = feats.double()[:, None, :] - means.double()[None]            # (N, K, D)
    d2 = torch.einsum("nkd,de,nke->nk", diff, precision.double(), diff)
    return d2.clamp_min(0).min(1).values.sqrt().float()


# ------------------------------------------------------------------------------ calibration
def fit_temperature(logits: Tensor, y: Tensor, multilabel: bool = False) -> float:
    """Temperature T minimising the NLL of ``logits / T`` on (logits (N, K), y) by LBFGS,
    kept within [MIN_TEMPERATURE, MAX_TEMPERATURE] (never sharpening; see MIN_TEMPERATURE).

    y: class indices (N,) for softmax models, 0/1 targets (N, K) for ``multilabel`` sigmoids.
    """
    z = logits.detach().double()
    t = y.detach().double() if multilabel else y.detach().long()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def nll() -> Tensor:
        scaled = z / log_t.exp()
        return (F.binary_cross_entropy_with_logits(scaled, t) if multilabel
                else F.cross_entropy(scaled, t))

    def closure() -> Tensor:
        opt.zero_grad()
        loss = nll()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return float(log_t.detach().exp().clamp(MIN_TEMPERATURE, MAX_TEMPERATURE))


def calibration_errors(logits: Tensor, y: Tensor, temperature: float, multilabel: bool = False,
                       ) -> tuple[float, float]:
    """(ECE before, ECE after) temperature scaling, 15 bins (knee: mean over labels)."""
    if multilabel:
        before = torch.sigmoid(logits).numpy()
        after = torch.sigmoid(logits / temperature).numpy()
        return (ece_binary_labels(y.numpy(), before, ECE_BINS),
                ece_binary_labels(y.numpy(), after, ECE_BINS))
    before = torch.softmax(logits, -1).numpy()
    after = torch.softmax(logits / temperature, -1).numpy()
    return (expected_calibration_error(before, y.numpy(), ECE_BINS),
            expected_calibration_error(after, y.numpy(), ECE_BINS))


# ------------------------------------------------------------------------------ fitting
def fit_trust(task: str, model: nn.Module, x_fit: Any, y_fit: Tensor, x_val: Any, y_val: Tensor,
              percentile: float = PERCENTILE, x_temperature: Any = None,
              ) -> tuple[dict[str, Tensor], dict[str, Any], dict[str, Any]]:
    """Out-of-distribution statistics and temperature of a trained ``model``.

    x_fit / x_val: model inputs (N, 1, h, w), knee {plane: (N, S, 1, h, w)}; y: class indices
    (knee: (N, L) 0/1). Statistics come from the fitting (training) data, the thresholds and
    the temperature from the validation data; ``x_temperature``: the same validation items for
    the temperature where ``x_val`` carries appearance changes that only the domain check should
    see (default ``x_val``). Returns (tensors for the statistics file, the manifest's ``ood``
    block without file / sha256, its ``calibration`` block).
    """
    knee = task == "knee"
    tensors: dict[str, Tensor] = {}
    thresholds: dict[str, float] = {}
    val_q: dict[str, dict[str, float]] = {}
    if knee:
        _, feats_fit = knee_features(model, x_fit)
        logits_val, feats_val = knee_features(model, x_val)
        groups = {p: (feats_fit[p], None, feats_val[p]) for p in feats_fit}
    else:
        _, f_fit = slice_features(model, x_fit)
        logits_val, f_val = slice_features(model, x_val)
        groups = {"slice": (f_fit, y_fit, f_val)}
    for group, (ff, yy, fv) in groups.items():
        means, precision = fit_gaussian(ff, yy)
        tensors[f"{group}.means"], tensors[f"{group}.precision"] = means, precision
        dist = mahalanobis(fv, means, precision).numpy()
        thresholds[group] = float(np.percentile(dist, percentile))
        val_q[group] = {"median": float(np.median(dist)), "max": float(dist.max())}
    if x_temperature is not None:
        features = knee_features if knee else slice_features
        logits_val = features(model, x_temperature)[0]
    temperature = fit_temperature(logits_val, y_val, multilabel=knee)
    before, after = calibration_errors(logits_val, y_val, temperature, multilabel=knee)
    ood = {"method": "Mahalanobis distance of the pooled penultimate features (averaged over the "
                     "image for max-pooling heads) to the nearest class mean, shared covariance "
                     "(Lee et al. 2018)"
                     + ("; one statistic per plane, features averaged over the slices" if knee else ""),
           "layer": FEATURE_LAYER if knee else feature_layer(model), "thresholds": thresholds,
           "percentile": percentile,
           "validation_distance": val_q, "n_fit": len(y_fit), "n_val": len(y_val),
           "shrinkage": SHRINKAGE}
    calibration = {"method": "temperature scaling (Guo et al. 2017), LBFGS on the validation NLL"
                             + (" of the fused per-label sigmoids" if knee else ""),
                   "temperature": round(temperature, 5), "min_temperature": MIN_TEMPERATURE,
                   "ece_before": before, "ece_after": after,
                   "ece_bins": ECE_BINS, "n_val": len(y_val)}
    return tensors, ood, calibration


def write_trust(spec: Any, tensors: dict[str, Tensor], ood: dict[str, Any],
                calibration: dict[str, Any], fitted_on: str) -> Any:
    """Write ``<name>.ood.safetensors`` beside the spec's manifest and the manifest with its
    ``ood``, ``calibration`` and ``metrics.calibration`` blocks; returns the new ModelSpec."""
    from dataclasses import replace

    from inference.domain import domain_block
    from inference.registry import sha256_file, write_manifest

    assert spec.manifest_path is not None
    folder = Path(spec.manifest_path).parent
    path = folder / f"{Path(spec.weights).stem}.ood.safetensors"
    save_file({k: v.contiguous().cpu() for k, v in tensors.items()}, str(path),
              metadata={"model": spec.name, "kind": "out-of-distribution statistics"})
    path.chmod(0o644)
    ood = {"file": path.name, "sha256": sha256_file(path), **ood, "fitted_on": fitted_on}
    calibration = {**calibration, "fitted_on": fitted_on}
    metrics = {**spec.metrics, "calibration": {k: calibration[k] for k in
                                               ("temperature", "ece_before", "ece_after", "ece_bins",
                                                "n_val")}}
    new = replace(spec, ood=ood, calibration=calibration, metrics=metrics,
                  domain=domain_block(spec))
    write_manifest(new, spec.manifest_path)
    return new


# ------------------------------------------------------------------------------ runtime
class OODScorer:
    """Mahalanobis distances of new inputs from the stored statistics of one model.

    ``groups``: {"slice": (means, precision)} or {plane: (means, precision)} for the knee.
    """

    def __init__(self, tensors: Mapping[str, Tensor], thresholds: Mapping[str, float]) -> None:
        self.groups = {g: (tensors[f"{g}.means"], tensors[f"{g}.precision"]) for g in thresholds}
        self.thresholds = {g: float(t) for g, t in thresholds.items()}

    def distance(self, feats: Tensor, group: str = "slice") -> Tensor:
        """Distances (N,) of features (N, D) for ``group``."""
        means, precision = self.groups[group]
        return mahalanobis(feats.cpu(), means, precision)


__all__ = ["AVERAGED_LAYER", "FEATURE_LAYER", "OODScorer", "calibration_errors", "feature_layer",
           "fit_gaussian", "fit_temperature", "fit_trust", "knee_features", "mahalanobis",
           "pooled_features", "slice_features", "write_trust"]

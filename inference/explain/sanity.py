"""Sanity checks for saliency maps (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

A map that barely changes when the model's weights are randomised explains the image, not the
model. ``randomised_copy`` makes the randomised model (whole or cascading from a layer) and
``rank_correlation`` compares the maps before and after (Spearman; near 1 is a bad sign).
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor, nn

from .base import resolve_layer

__all__ = ["rank_correlation", "randomised_copy"]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    ranks = np.empty(values.size, dtype=np.float64)
    boundaries = np.flatnonzero(np.diff(sorted_vals)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [values.size]))
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return ranks


def rank_correlation(map_a: np.ndarray | Tensor, map_b: np.ndarray | Tensor) -> float:
    """Spearman rank correlation of two maps of the same shape (ties get average ranks).

    Returns 0.0 when either map is constant (no ranking to compare).
    """
    a = (map_a.detach().float().cpu().numpy() if isinstance(map_a, Tensor) else np.asarray(map_a)).ravel()
    b = (map_b.detach().float().cpu().numpy() if isinstance(map_b, Tensor) else np.asarray(map_b)).ravel()
    if a.shape != b.shape:
        raise ValueError(f"Maps must have the same number of pixels; got {a.size} and {b.size}.")
    ra, rb = _ranks(a.astype(np.float64)), _ranks(b.astype(np.float64))
    ra -= ra.mean()
    rb -= rb.mean()
    denom = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    if denom == 0:
        return 0.0
    return float((ra * rb).sum() / denom)


def _reinitialise(module: nn.Module) -> None:
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()  # type: ignore[operator]
        return
    for param in module.parameters(recurse=False):
        with torch.no_grad():
            if param.dim() > 1:
                nn.init.kaiming_uniform_(param, a=5**0.5)
            else:
                nn.init.normal_(param, std=0.02)


def randomised_copy(module: nn.Module, *, seed: int = 0, cascade_from: str | None = None) -> nn.Module:
    """A deep copy of ``module`` with re-initialised (random) weights; ``module`` is untouched.

    ``cascade_from=None`` randomises every layer. With a layer name (as in
    ``named_modules()``), that layer and every layer registered after it, i.e. from it to the
    output for the usual sequential architectures, are randomised and the earlier layers keep
    their trained weights (Adebayo's cascading randomisation). The global RNG state is left as
    it was; ``seed`` makes the copy reproducible.
    """
    clone = copy.deepcopy(module)
    named = list(clone.named_modules())
    if cascade_from is None:
        start = 0
    else:
        names = [n for n, _ in named]
        if cascade_from not in names or cascade_from == "":
            resolve_layer(clone, cascade_from)  # raises a ValueError naming close layers
        start = names.index(cascade_from)
    chosen = named[start:]  # the named layer's sub-modules follow it in registration order
    cuda = sorted({p.device.index or 0 for p in clone.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        for _, sub in chosen:
            _reinitialise(sub)
    return clone

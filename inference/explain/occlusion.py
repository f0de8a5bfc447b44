"""Occlusion sensitivity (Zeiler & Fergus 2014), batched and progressive.

A square patch slides over the image; at each position the patch is replaced by a baseline
and the drop of the target score is recorded. The map value at a pixel is the mean, over the
patches covering it, of ``score(original) - score(occluded)``: the attribution Captum's
``Occlusion`` computes with ``sliding_window_shapes=(C, patch, patch)`` and
``strides=(C, stride, stride)``. Window positions match Captum too: ``ceil((H - patch) /
stride) + 1`` positions per axis starting at 0, the last one clipped at the image edge, so
every pixel is covered.

Baselines: ``"blur"`` (default) fills the patch with the same region of a strongly
Gaussian-blurred copy of the image, computed once: it removes a lesion's detail but keeps
local intensity, so the patch itself does not look like a lesion (see DESIGN.md, measured
pointing game 1.0 vs 0.12-0.41 for constant fills). ``"zero"``, ``"mean"`` (per-channel image
mean) and a number (constant) are the alternatives.

Maps are float32 CPU ``(H, W)`` (rows, columns) in the input's pixel grid, raw score units.

Captum's map is constant on ``stride``-sized blocks (squares on screen). ``smooth_to_stride``
turns it into what the stride can resolve and no more: a box filter one stride wide, which makes
the block values ramp linearly between block centres (bilinear interpolation of the window
grid, as Grad-CAM's layer grid is upsampled). The classifier shows that smoothed map by default
(``smooth=False`` keeps Captum's blocks).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .base import baseline_image

__all__ = ["OcclusionStep", "occlusion", "iter_occlusion", "smooth_to_stride", "window_starts"]

Forward = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class OcclusionStep:
    """One progressive result of ``iter_occlusion``.

    ``map``: float32 CPU (H, W) attribution after pass ``pass_index`` (0 = coarsest) made with
    ``patch`` / ``stride`` px. ``done`` / ``total``: perturbed images evaluated so far / planned
    for the whole run (``total`` may shrink after the coarse pass in adaptive mode).
    ``final``: True on the last pass's map.
    """

    map: Tensor
    pass_index: int
    patch: int
    stride: int
    done: int
    total: int
    final: bool


def window_starts(size: int, patch: int, stride: int) -> list[int]:
    """Start offsets of the windows along one axis of ``size`` px, as Captum places them."""
    if patch <= 0 or stride <= 0:
        raise ValueError(f"Patch and stride must be positive; got patch {patch}, stride {stride}.")
    if patch >= size:
        return [0]
    if stride > patch:
        raise ValueError(f"Stride {stride} px is larger than the patch {patch} px: pixels would be skipped.")
    count = math.ceil((size - patch) / stride) + 1
    return [i * stride for i in range(count)]


def _windows(h: int, w: int, patch: int, stride: int) -> list[tuple[int, int]]:
    return [(y, x) for y in window_starts(h, patch, stride) for x in window_starts(w, patch, stride)]


def _scores(forward: Forward, batch: Tensor, target: int) -> Tensor:
    out = forward(batch)
    if out.dim() != 2 or not -out.shape[1] <= target < out.shape[1]:
        raise ValueError(
            f"forward must return scores of shape (batch, classes) including class {target}; "
            f"got shape {tuple(out.shape)}."
        )
    return out[:, target].float()


def _masks(windows: Sequence[tuple[int, int]], patch: int, h: int, w: int, device: torch.device) -> Tensor:
    """Boolean (B, 1, H, W) masks, True inside each window (clipped at the edges)."""
    starts = torch.tensor(windows, device=device, dtype=torch.long).view(-1, 2)
    rows = torch.arange(h, device=device)
    cols = torch.arange(w, device=device)
    in_y = (rows >= starts[:, :1]) & (rows < starts[:, :1] + patch)
    in_x = (cols >= starts[:, 1:]) & (cols < starts[:, 1:] + patch)
    return (in_y[:, :, None] & in_x[:, None, :]).unsqueeze(1)


def _map_from_drops(drops: dict[tuple[int, int], float], patch: int, h: int, w: int) -> Tensor:
    """Mean of the score drops of the windows covering each pixel, float32 (H, W)."""
    total = torch.zeros(h, w, dtype=torch.float64)
    count = torch.zeros(h, w, dtype=torch.float64)
    for (y, x), drop in drops.items():
        total[y : y + patch, x : x + patch] += drop
        count[y : y + patch, x : x + patch] += 1.0
    return (total / count.clamp_min(1.0)).float()


def _window_means(values: Tensor, windows: Sequence[tuple[int, int]], patch: int) -> Tensor:
    """Mean of ``values`` (H, W) inside each window, float64 (len(windows),)."""
    integral = torch.nn.functional.pad(values.double().cumsum(0).cumsum(1), (1, 0, 1, 0))
    h, w = values.shape
    out = torch.empty(len(windows), dtype=torch.float64)
    for i, (y, x) in enumerate(windows):
        y1, x1 = min(y + patch, h), min(x + patch, w)
        area = (y1 - y) * (x1 - x)
        out[i] = (integral[y1, x1] - integral[y, x1] - integral[y1, x] + integral[y, x]) / area
    return out


def smooth_to_stride(grid_map: Tensor, stride: int) -> Tensor:
    """Box filter ``stride`` px wide along rows and columns (edges replicated): an occlusion map
    made with that stride, its blocks turned into linear ramps between block centres. Keeps the
    map's mean inside the image and its value range (a weighted average of neighbours)."""
    if stride <= 1:
        return grid_map
    m = grid_map.detach().float().cpu()[None, None]
    lo, hi = (stride - 1) // 2, stride // 2
    m = torch.nn.functional.pad(m, (lo, hi, lo, hi), mode="replicate")
    m = torch.nn.functional.avg_pool2d(m, (stride, 1), stride=1)
    m = torch.nn.functional.avg_pool2d(m, (1, stride), stride=1)
    return m[0, 0]


def iter_occlusion(
    forward: Forward,
    x: Tensor,
    target: int,
    *,
    passes: Sequence[tuple[int, int]] = ((32, 16), (16, 8)),
    baseline: str | float = "blur",
    batch_size: int = 32,
    refine: str = "full",
    cancelled: Callable[[], bool] | None = None,
    blur_sigma: float | None = None,
    adaptive_fraction: float = 0.25,
    channels_last: bool = True,
) -> Iterator[OcclusionStep]:
    """Occlusion maps from coarse to fine: one ``OcclusionStep`` per pass of ``passes``.

    ``forward``: maps (B, C, H, W) to scores (B, K) (logits or probabilities; the caller
    decides); it runs under ``torch.inference_mode``. ``x``: (1, C, H, W). ``passes``:
    ``(patch, stride)`` in px, coarsest first. Windows already evaluated by an earlier pass with
    the same patch size and position are reused, not recomputed.
    ``refine="full"``: every pass evaluates all its windows (exact, Captum-equivalent).
    ``refine="adaptive"``: pass k > 0 evaluates only the windows whose mean value in pass k-1's
    map ranks in the top ``adaptive_fraction`` of its windows (at least one); the drop of each
    other window is estimated as ``a * (mean of pass k-1's map over the window)`` with ``a``
    fitted by least squares on the evaluated windows, so the whole map keeps one scale.
    ``cancelled`` is polled between batches; when it returns True the generator stops quietly
    (the last yielded map stays valid). ``blur_sigma`` (px) defaults to half the largest patch.
    ``channels_last`` feeds the batches in channels-last memory layout (faster convolutions on
    CPU; same values).
    """
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"Occlusion explains one image of shape (1, C, H, W); got {tuple(x.shape)}.")
    if not passes:
        raise ValueError("Give at least one (patch, stride) pass.")
    if refine not in ("full", "adaptive"):
        raise ValueError(f"refine must be 'full' or 'adaptive'; got {refine!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    _, _, h, w = x.shape
    sigma = blur_sigma if blur_sigma is not None else max(p for p, _ in passes) / 2.0
    is_cancelled = cancelled or (lambda: False)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format

    with torch.inference_mode():
        x = x.detach()
        base = baseline_image(x, baseline, blur_sigma=sigma)
        original = _scores(forward, x.contiguous(memory_format=memory_format), target)[0]
        plans = [_windows(h, w, p, s) for p, s in passes]
        cache: dict[tuple[int, int, int], float] = {}
        planned = len({(p, *win) for (p, _), wins in zip(passes, plans) for win in wins})
        done = 0
        previous: Tensor | None = None
        for index, ((patch, stride), windows) in enumerate(zip(passes, plans)):
            todo = [win for win in windows if (patch, *win) not in cache]
            skipped: list[tuple[int, int]] = []
            if refine == "adaptive" and previous is not None and todo:
                means = _window_means(previous, todo, patch)
                keep = max(1, math.ceil(adaptive_fraction * len(todo)))
                order = torch.argsort(means, descending=True).tolist()
                chosen = set(order[:keep])
                skipped = [win for i, win in enumerate(todo) if i not in chosen]
                todo = [win for i, win in enumerate(todo) if i in chosen]
                planned -= len(skipped)
            for start in range(0, len(todo), batch_size):
                if is_cancelled():
                    return
                chunk = todo[start : start + batch_size]
                masks = _masks(chunk, patch, h, w, x.device)
                batch = torch.where(masks, base, x).contiguous(memory_format=memory_format)
                drops = (original - _scores(forward, batch, target)).double().cpu().tolist()
                for win, drop in zip(chunk, drops):
                    cache[(patch, *win)] = drop
                done += len(chunk)
            drops_here = {win: cache[(patch, *win)] for win in windows if (patch, *win) in cache}
            if skipped:
                assert previous is not None
                evaluated = list(drops_here)
                m = _window_means(previous, evaluated, patch)
                d = torch.tensor([drops_here[win] for win in evaluated], dtype=torch.float64)
                denom = float((m * m).sum())
                scale = float((m * d).sum()) / denom if denom > 0 else 0.0
                for win, mean in zip(skipped, _window_means(previous, skipped, patch).tolist()):
                    drops_here[win] = scale * mean
            previous = _map_from_drops(drops_here, patch, h, w)
            final = index == len(passes) - 1
            yield OcclusionStep(previous, index, patch, stride, done, planned, final)
            if not final and is_cancelled():
                return


def occlusion(
    forward: Forward,
    x: Tensor,
    target: int,
    *,
    patch: int = 16,
    stride: int = 8,
    baseline: str | float = "blur",
    batch_size: int = 32,
    blur_sigma: float | None = None,
) -> Tensor:
    """Occlusion map (H, W) float32 CPU of ``target`` for ``x`` (1, C, H, W), one pass.

    Same semantics as ``iter_occlusion`` with ``passes=((patch, stride),)``.
    """
    steps = iter_occlusion(
        forward, x, target, passes=((patch, stride),), baseline=baseline,
        batch_size=batch_size, blur_sigma=blur_sigma,
    )
    result = None
    for step in steps:
        result = step.map
    assert result is not None
    return result

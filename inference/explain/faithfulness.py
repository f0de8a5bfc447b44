"""Scores that say whether a heat map is faithful to the model or to the anatomy.

* ``deletion_auc`` / ``insertion_auc`` (Petsiuk et al. 2018, RISE): remove (or add) pixels in
  order of decreasing saliency and integrate the target probability over the fraction of
  pixels changed. A faithful map gives a low deletion AUC and a high insertion AUC.
* ``pointing_game`` (Zhang et al. 2016): is the map's maximum on the lesion (within a
  tolerance in pixels)? State the tolerance with the figure (15 px at a 224 px input is usual).
* ``energy_in_mask``: share of the map's positive mass inside the lesion mask.
* ``random_baseline``: the same deletion score for 5 seeded random smooth maps of the map's size,
  and how many times better than them the map is (``vs_random``; > 1 is better than random).
* ``score_map``: every score of one slice map as a :class:`inference.results.MapScores`; the
  single place where the viewer, the teaching module and ``inference.evaluate`` get map scores,
  with ONE definition of each setting (``pointing_tolerance``, ``DELETION_STEPS``).

Maps and masks are (H, W) (rows, columns) in the input's pixel grid; ``x`` is (1, C, H, W).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from inference.preprocess import place
from inference.results import MapScores, Pointing

from .base import baseline_image

__all__ = ["DELETION_STEPS", "POINTING_TOLERANCE_RULE", "RANDOM_MAPS", "deletion_auc", "energy_in_mask",
           "insertion_auc", "pointing", "pointing_game", "pointing_tolerance", "random_baseline",
           "random_smooth_map", "score_map"]

#: Pointing-game tolerance: 15 px at a 224 px field of view (Zhang et al. 2016), i.e. 15 / 224 of
#: the slice's longer side (which fills the model input), whatever the model's input size.
POINTING_TOLERANCE_224 = 15.0
POINTING_TOLERANCE_RULE = "15 px at a 224 px field of view, scaled to the slice (max(H, W) / 224 * 15 px)"
#: Steps of the deletion / insertion curves (21 points from 0 to 100 % of the pixels).
DELETION_STEPS = 20
#: Random smooth maps the deletion score of every final map is compared with, and their seed.
RANDOM_MAPS = 5
RANDOM_SEED = 0
NO_MASK = "no ground-truth mask for this series"
NO_LESION = "ground truth: no lesion on this slice"

Forward = Callable[[Tensor], Tensor]


def _as_numpy(a: np.ndarray | Tensor) -> np.ndarray:
    if isinstance(a, Tensor):
        return a.detach().float().cpu().numpy()
    return np.asarray(a)


def _saliency_order(saliency: np.ndarray | Tensor, h: int, w: int) -> Tensor:
    """Flat pixel indices from most to least salient (ties keep row-major order)."""
    sal = torch.as_tensor(_as_numpy(saliency), dtype=torch.float32)
    if sal.dim() != 2:
        raise ValueError(f"The saliency map must be 2-D (H, W); got shape {tuple(sal.shape)}.")
    if tuple(sal.shape) != (h, w):
        raise ValueError(
            f"The saliency map is {tuple(sal.shape)} but the image is {(h, w)}; "
            "upsample the map to the input grid first."
        )
    sal = torch.nan_to_num(sal, nan=float("-inf"))
    return torch.argsort(sal.flatten(), descending=True, stable=True)


def _curve_auc(forward: Forward, x: Tensor, saliency: np.ndarray | Tensor, target: int,
               **curve_options) -> float:
    """Trapezoid area under ``_curve`` (same keyword options)."""
    fractions, values = _curve(forward, x, saliency, target, **curve_options)
    return float(np.sum((values[1:] + values[:-1]) * np.diff(fractions)) / 2.0)


def _curve(
    forward: Forward,
    x: Tensor,
    saliency: np.ndarray | Tensor,
    target: int,
    *,
    steps: int,
    baseline: str | float,
    batch_size: int,
    insert: bool,
    blur_sigma: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(fraction of pixels changed, target probability) at ``steps + 1`` points."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"Expected one image of shape (1, C, H, W); got {tuple(x.shape)}.")
    if steps < 1:
        raise ValueError(f"steps must be at least 1; got {steps}.")
    _, _, h, w = x.shape
    order = _saliency_order(saliency, h, w).to(x.device)
    sigma = blur_sigma if blur_sigma is not None else max(h, w) / 16.0
    counts = [round(k * h * w / steps) for k in range(steps + 1)]
    # rank[p] = position of pixel p in the saliency order
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=x.device)
    rank = rank.view(1, 1, h, w)
    probs: list[float] = []
    with torch.inference_mode():
        x = x.detach()
        base = baseline_image(x, baseline, blur_sigma=sigma)
        start_img, end_img = (base, x) if insert else (x, base)
        for first in range(0, len(counts), batch_size):
            chunk = torch.tensor(counts[first : first + batch_size], device=x.device).view(-1, 1, 1, 1)
            changed = rank < chunk  # (B, 1, H, W): pixels already removed / inserted
            batch = torch.where(changed, end_img, start_img)
            out = forward(batch)
            if out.dim() != 2 or not -out.shape[1] <= target < out.shape[1]:
                raise ValueError(
                    f"forward must return probabilities of shape (batch, classes); got {tuple(out.shape)}."
                )
            probs.extend(out[:, target].float().cpu().tolist())
    fractions = np.asarray(counts, dtype=np.float64) / (h * w)
    return fractions, np.asarray(probs, dtype=np.float64)


def deletion_auc(
    forward: Forward,
    x: Tensor,
    saliency: np.ndarray | Tensor,
    target: int,
    *,
    steps: int = 32,
    baseline: str | float = "blur",
    batch_size: int = 32,
    blur_sigma: float | None = None,
) -> float:
    """Area under the target-probability curve as the most salient pixels are removed first.

    ``forward`` must return probabilities (B, K) (e.g. ``softmax(model(b), 1)``), so the AUC
    lies in [0, 1]; lower is better. Removed pixels take the ``baseline`` value (``"blur"``:
    Gaussian blur with ``blur_sigma`` px, default max(H, W) / 16; ``"zero"``, ``"mean"`` or a
    number). ``steps + 1`` points from 0 to 100 % of the pixels, evaluated ``batch_size`` at a time.
    """
    return _curve_auc(
        forward, x, saliency, target, steps=steps, baseline=baseline,
        batch_size=batch_size, insert=False, blur_sigma=blur_sigma,
    )


def insertion_auc(
    forward: Forward,
    x: Tensor,
    saliency: np.ndarray | Tensor,
    target: int,
    *,
    steps: int = 32,
    baseline: str | float = "blur",
    batch_size: int = 32,
    blur_sigma: float | None = None,
) -> float:
    """Area under the target-probability curve as the most salient pixels are restored first.

    Starts from the ``baseline`` image and puts original pixels back in saliency order;
    ``forward`` must return probabilities; higher is better. Arguments as ``deletion_auc``.
    """
    return _curve_auc(
        forward, x, saliency, target, steps=steps, baseline=baseline,
        batch_size=batch_size, insert=True, blur_sigma=blur_sigma,
    )


def _check_pair(saliency: np.ndarray | Tensor, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sal = _as_numpy(saliency).astype(np.float64)
    m = np.asarray(mask).astype(bool)
    if sal.ndim != 2 or sal.shape != m.shape:
        raise ValueError(f"Map {sal.shape} and mask {m.shape} must be 2-D and the same shape (H, W).")
    return sal, m


def pointing_game(saliency: np.ndarray | Tensor, mask: np.ndarray, tolerance_px: float = 15.0) -> bool:
    """True when the map's maximum lies within ``tolerance_px`` (Euclidean px) of the mask.

    ``tolerance_px=0`` asks for the maximum exactly inside the mask. A flat map (no maximum,
    or only NaN) points nowhere and returns False. Raises ``ValueError`` for an empty mask.
    """
    sal, m = _check_pair(saliency, mask)
    if not m.any():
        raise ValueError("The mask is empty: the pointing game needs a region to point at.")
    finite = np.where(np.isfinite(sal), sal, -np.inf)
    if not np.isfinite(finite).any() or np.nanmax(finite) == np.nanmin(finite):
        return False
    y, x = np.unravel_index(int(np.argmax(finite)), finite.shape)
    if m[y, x]:
        return True
    ys, xs = np.nonzero(m)
    distance = np.sqrt(np.min((ys - y) ** 2 + (xs - x) ** 2))
    return bool(distance <= tolerance_px)


def energy_in_mask(saliency: np.ndarray | Tensor, mask: np.ndarray) -> float:
    """Sum of the map's positive values inside ``mask`` / sum of all its positive values.

    In [0, 1]; 0.0 when the map has no positive value.
    """
    sal, m = _check_pair(saliency, mask)
    positive = np.clip(np.nan_to_num(sal, nan=0.0), 0.0, None)
    total = positive.sum()
    if total <= 0:
        return 0.0
    return float(positive[m].sum() / total)


def pointing_tolerance(shape: Sequence[int]) -> float:
    """The pointing-game tolerance in pixels of an (H, W) slice: 15 px at 224 px, scaled."""
    return POINTING_TOLERANCE_224 * max(int(shape[0]), int(shape[1])) / 224.0


def pointing(saliency: np.ndarray | Tensor, mask: np.ndarray) -> Pointing:
    """Pointing game of an (H, W) map on an (H, W) mask with the one tolerance
    (:func:`pointing_tolerance`), and whether the maximum is exactly inside the mask."""
    tol = pointing_tolerance(np.shape(saliency))
    return Pointing(pointing_game(saliency, mask, tol), pointing_game(saliency, mask, 0.0), float(tol))


def random_smooth_map(shape: Sequence[int], seed: int, sigma: float | None = None) -> np.ndarray:
    """A seeded random smooth map float32 (H, W): white noise blurred with ``sigma`` px
    (default max(H, W) / 16, the blob size of a coarse saliency map), shifted to a minimum of
    0 so that, placed on the model grid, it never ranks the zero padding above the image."""
    from .base import gaussian_blur

    h, w = int(shape[0]), int(shape[1])
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(1, 1, h, w, generator=gen)
    smooth = gaussian_blur(noise, sigma if sigma is not None else max(h, w) / 16.0)[0, 0]
    return (smooth - smooth.min()).numpy()


def _drop(fractions: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """(deletion AUC, AUC drop = unperturbed probability - AUC) of one deletion curve."""
    auc = float(np.sum((values[1:] + values[:-1]) * np.diff(fractions)) / 2.0)
    return auc, float(values[0]) - auc


#: The least probability that deleting (blurring) the whole input must take away for the deletion
#: score to say anything about a map: below it every map, faithful or random, scores alike.
MIN_DELETION_EFFECT = 0.1


def random_baseline(forward: Forward, x: Tensor, saliency: np.ndarray | Tensor, target: int,
                    random_maps: Sequence[np.ndarray], *, steps: int = DELETION_STEPS,
                    batch_size: int = 32) -> dict[str, Any]:
    """Deletion score of ``saliency`` (H, W) against random maps of the same size, one image x.

    Every map is scored by the same deletion curve (blurred-patch deletion, ``steps`` steps,
    on the model's input grid). The *AUC drop* of a map is p0 - deletion AUC, the area between
    the unperturbed target probability p0 and the deletion curve: how much probability the
    map's most salient pixels take away, early. ``vs_random`` = the map's AUC drop / the mean
    AUC drop of the random maps: "x times better than random"; > 1 means deleting the map's
    pixels removes the target probability faster than deleting random smooth blobs; <= 1 (or a
    negative value) means the map is no better than random. None when the random maps take no
    probability away at all (p0 - AUC <= 0.001: the ratio is undefined). ``better_than_random``
    is True only when the map's deletion AUC is also below every random map's. When blurring the
    whole image takes less than :data:`MIN_DELETION_EFFECT` of the probability away, deletion
    cannot judge any map: no random maps are scored and the note says so.

    Returns {"deletion_auc", "random_deletion_aucs" (tuple), "vs_random", "better_than_random",
    "note"} (note: words for a reader, "" when better than random).
    """
    f, v = _curve(forward, x, saliency, target, steps=steps, baseline="blur",
                  batch_size=batch_size, insert=False, blur_sigma=None)
    auc, drop = _drop(f, v)
    if float(v[0]) - float(v[-1]) < MIN_DELETION_EFFECT:
        # Blurring the whole image leaves the probability where it was: deletion cannot tell a
        # faithful map from a random one here, so it makes no claim either way.
        return {"deletion_auc": auc, "random_deletion_aucs": (), "vs_random": None,
                "better_than_random": None,
                "note": (f"not measurable by deletion: blurring the whole slice does not lower "
                         f"this class's probability ({v[0]:.2f} unblurred, {v[-1]:.2f} blurred), "
                         f"so there is nothing a map could take away")}
    rand = [_drop(*_curve(forward, x, r, target, steps=steps, baseline="blur",
                          batch_size=batch_size, insert=False, blur_sigma=None)) for r in random_maps]
    r_aucs = tuple(a for a, _ in rand)
    r_drop = float(np.mean([d for _, d in rand])) if rand else 0.0
    ratio = drop / r_drop if r_drop > 1e-3 else None
    better = bool(rand) and ratio is not None and ratio > 1.0 and auc < min(r_aucs)
    if not rand:
        note = ""
    elif ratio is None:
        note = ("not comparable with random maps: deleting random regions does not lower the "
                "model's probability for this class")
    elif better:
        note = f"{ratio:.1f} times better than random maps"
    else:
        note = (f"no better than random: deletion AUC {auc:.2f} against {min(r_aucs):.2f}-"
                f"{max(r_aucs):.2f} for {len(r_aucs)} random smooth maps")
    return {"deletion_auc": auc, "random_deletion_aucs": r_aucs, "vs_random": ratio,
            "better_than_random": better if rand else None, "note": note}


def score_map(clf: Any, image: np.ndarray, heat: np.ndarray, target: str | int, *,
              mask: np.ndarray | None = None, spacing: tuple[float, float] | None = None,
              deletion: bool = True, insertion: bool = False,
              steps: int = DELETION_STEPS, random_maps: int = RANDOM_MAPS) -> MapScores:
    """Scores of ``heat`` (float32 (H, W) in the pixel geometry of ``image``) for ``target``.

    ``clf`` is a slice :class:`inference.classifier.Classifier`; ``image`` the (H, W) slice in
    physical units it explained, with its (row, column) ``spacing`` in mm. Deletion / insertion
    AUCs run on the model's input grid: the map is placed there as the slice was (same resize and
    padding; the padding takes the value 0). ``mask``: bool (H, W) ground truth or None;
    pointing game and energy in the mask are computed when it holds a lesion. With
    ``deletion`` the map is also compared with ``random_maps`` seeded random smooth maps of the
    same (H, W) size placed the same way (:func:`random_baseline`).
    """
    heat = np.asarray(heat, dtype=np.float32)
    if heat.shape != np.shape(image)[:2]:
        raise ValueError(f"The map {heat.shape} must be in the slice's pixel geometry {np.shape(image)[:2]}.")
    point = energy = None
    note = ""
    if mask is None:
        note = NO_MASK
    elif not np.asarray(mask).any():
        note = NO_LESION
    else:
        point, energy = pointing(heat, mask), energy_in_mask(heat, mask)
    auc_del = auc_ins = None
    if deletion or insertion:
        classes = list(clf.spec.classes)
        k = target if isinstance(target, int) else classes.index(target)
        x, geom = clf.model_input(image, spacing)
        xb = x[None].to(clf.device)
        sal = place(np.nan_to_num(heat), geom)[0]
        forward = clf.forward_probs()
        base: dict[str, Any] = {}
        with torch.inference_mode():
            if deletion:
                rnd = [place(random_smooth_map(heat.shape, RANDOM_SEED + i), geom)[0]
                       for i in range(random_maps)]
                base = random_baseline(forward, xb, sal, k, rnd, steps=steps)
                auc_del = base["deletion_auc"]
            if insertion:
                auc_ins = insertion_auc(forward, xb, sal, k, steps=steps)
        if base:
            return MapScores(auc_del, auc_ins, point, energy, note,
                             random_deletion_aucs=base["random_deletion_aucs"],
                             vs_random=base["vs_random"],
                             better_than_random=base["better_than_random"],
                             random_note=base["note"])
    return MapScores(auc_del, auc_ins, point, energy, note)

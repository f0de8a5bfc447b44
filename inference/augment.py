"""Training augmentations (``python -m inference.train --augment basic|appearance``).

``basic``: a random horizontal flip per image and one random shift per batch.
``appearance``: ``basic`` plus, per image, what changes between scanners but not the finding: a
small rotation and zoom, a gamma curve, contrast and brightness, blur and noise; for training on
images from several scanners (``--data``). Measured on the tumour demo model (varied phantoms,
8 000 images, 30 epochs): it did not close the gap to the independent generator (lesions missed
there 0.46 with ``basic``, 0.48 with ``appearance``), so the demo recipes keep ``basic``.
``sharpness``: ``basic`` plus, per image and whatever its label, a Gaussian blur or an unsharp
mask, as reconstruction kernels, slice thickness and interpolation differ between scanners. A
detector trained on phantoms whose lesions are smoother than the tissue they replace learns
"smooth image: finding": trained with ``basic``, the CT lesion detector called 99 % of its healthy
held-out phantoms blurred by one model pixel positive, the tumour detector 28 % (README, "A
blurred slice is not a lesion").

``regional``: ``sharpness`` where a region (the lesion, dilated and feathered; on a healthy slice
another phantom's lesion mask) and the rest of the slice each get their own change in half of the
images: a lesion sharper or softer than the tissue around it, and a healthy patch softer or
sharper than its surroundings, so that neither is a hint. The tumour detector found its own
training lesions pasted into the independent generator's sharper heads 0.58 of the time against
0.87 at home, and 0.75 once those heads were softened by a pixel, which read as "it learnt the
lesion's edge against a softer background". Measured, that reading was wrong: the shipped tumour
model fine-tuned with ``regional`` still found its lesions in the independent heads 0.58 of the
time and called the independent generator no better (README, "Where the transfer gap lies"), so
the demo recipes do not use it. It needs the phantoms' lesion masks (``inference.train`` on
phantoms).

``random-conv``: ``sharpness`` plus, in half of the images, the grey levels remapped by a small
convolutional net with random weights drawn afresh for each image (global intensity non-linear
augmentation, GIN: Ouyang et al., "Causality-inspired single-source domain generalization for
medical image segmentation", IEEE TMI 2023), mixed with the image in a random share: shapes and
edges stay where they are while how bright each tissue is, and how it relates to its
neighbours, changes; the lesion stays a lesion, its grey level relative to the tissue around it
no longer identifies it. Air stays air (what the net makes of a black image is taken away).
Mask-safe: it moves nothing. Measured on the tumour demo model (the two-convolution weights fine-tuned
with it on varied-head, 8 epochs at lr 3e-4): independent generator 0.840 / AUC 0.906 before,
0.830 / 0.913 after (n 400), own phantoms 0.920 -> 0.905: it did not help, and the demo recipes
do not use it (README, "Faint tumours").

Inputs are model tensors (N, C, H, W) normalised as ``(u - mean) / std`` with ``u`` in [0, 1]
(``inference.preprocess.to_tensor``); the appearance changes work on ``u`` and keep it in [0, 1].
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from inference.preprocess import blur

KINDS = ("basic", "appearance", "sharpness", "regional", "random-conv")
#: kinds whose non-geometric part leaves masks alone (usable with the focus penalty's masks)
MASK_SAFE = ("basic", "sharpness", "regional", "random-conv")
#: kinds that need each training image's region (:func:`regional_sharpness`)
NEEDS_REGIONS = ("regional",)
#: kinds whose models are fitted and checked on the global sharpness changes (:func:`as_trained`)
SHARPNESS_KINDS = ("sharpness", "regional", "random-conv")


def basic(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Horizontal flip (per image, p 0.5) and a shift of up to 4 px (per batch)."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = torch.where(flip.view(-1, *[1] * (x.dim() - 1)), x.flip(-1), x)
    dy, dx = (int(v) for v in torch.randint(-4, 5, (2,), generator=gen))
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def _chance(n: int, p: float, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=gen) < p


def _rotate_zoom(u: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n = u.shape[0]
    angle = _uniform(n, -20.0, 20.0, gen) * math.pi / 180.0
    zoom = _uniform(n, 0.85, 1.2, gen)
    keep = ~_chance(n, 0.8, gen)
    angle = torch.where(keep, torch.zeros_like(angle), angle)
    zoom = torch.where(keep, torch.ones_like(zoom), zoom)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n)], 1),
                         torch.stack([sin, cos, torch.zeros(n)], 1)], 1)
    grid = F.affine_grid(theta, list(u.shape), align_corners=False)
    return F.grid_sample(u, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def appearance(x: torch.Tensor, gen: torch.Generator, mean: float, std: float) -> torch.Tensor:
    """``basic`` plus per-image rotation/zoom, gamma, contrast/brightness, blur and noise."""
    n = x.shape[0]
    view = (-1,) + (1,) * (x.dim() - 1)
    u = (x * std + mean).clamp(0.0, 1.0)
    u = _rotate_zoom(u, gen)
    gamma = torch.exp(_uniform(n, -0.4, 0.4, gen))
    gamma = torch.where(_chance(n, 0.8, gen), gamma, torch.ones(n))
    u = u.clamp_min(0.0) ** gamma.view(view)
    gain = torch.where(_chance(n, 0.5, gen), _uniform(n, 0.8, 1.2, gen), torch.ones(n))
    offset = torch.where(_chance(n, 0.5, gen), _uniform(n, -0.08, 0.08, gen), torch.zeros(n))
    u = (u - 0.5) * gain.view(view) + 0.5 + offset.view(view)
    sigma = torch.where(_chance(n, 0.4, gen), _uniform(n, 0.3, 1.3, gen), torch.zeros(n))
    u = torch.where((sigma > 0).view(view), blur(u, sigma), u)
    noise = torch.where(_chance(n, 0.5, gen), _uniform(n, 0.0, 0.05, gen), torch.zeros(n))
    u = u + noise.view(view) * torch.randn(u.shape, generator=gen)
    u = u.clamp(0.0, 1.0)
    return basic((u - mean) / std, gen)


def _sharpness_change(u: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Per image of ``u`` (values in [0, 1]): blurred (Gaussian, sigma 0.3-1.6 px, p 0.45),
    edge-enhanced (unsharp mask ``u + a (u - blur(u, 1))``, a 0.3-1.0, p 0.25) or left as it is."""
    n = u.shape[0]
    view = (-1,) + (1,) * (u.dim() - 1)
    pick = torch.rand(n, generator=gen)
    sigma = _uniform(n, 0.3, 1.6, gen)
    amount = _uniform(n, 0.3, 1.0, gen)
    blurred = blur(u, torch.where(pick < 0.45, sigma, torch.ones(n)))
    soft = pick < 0.45
    sharp = (pick >= 0.45) & (pick < 0.7)
    u = torch.where(soft.view(view), blurred, u)
    return torch.where(sharp.view(view), u + amount.view(view) * (u - blurred), u)


def sharpness_only(x: torch.Tensor, gen: torch.Generator, mean: float, std: float) -> torch.Tensor:
    """Per image, the whole slice blurred, edge-enhanced or left as it is (:func:`_sharpness_change`);
    values kept in [0, 1]."""
    u = (x * std + mean).clamp(0.0, 1.0)
    return (_sharpness_change(u, gen).clamp(0.0, 1.0) - mean) / std


def random_conv(u: torch.Tensor, gen: torch.Generator, p: float = 0.5, hidden: int = 4,
                layers: int = 3) -> torch.Tensor:
    """Per image of ``u`` (N, 1, H, W, values in [0, 1]), with probability ``p``: ``a |g(u) - g(0)|
    + (1 - a) u`` where ``g`` is a net of ``layers`` 3x3 convolutions (``hidden`` channels, leaky
    ReLU between them, edges replicated) whose weights and biases are drawn from normal
    distributions for each image, ``|g(u) - g(0)|`` scaled to the image's own norm, ``a`` uniform
    in [0, 1]. The biases make it remap flat tissue's grey level too (a bias-free net of this
    kind is positively homogeneous: it would scale every flat region alike and change edges
    only); taking ``g(0)`` away keeps air black. Values kept in [0, 1]."""
    n, c, h, w = u.shape
    widths = [c] + [hidden] * (layers - 1) + [c]
    params = [(torch.randn((n * cout, cin, 3, 3), generator=gen) / math.sqrt(cin * 9),
               0.5 * torch.randn(n * cout, generator=gen)) for cin, cout in zip(widths[:-1], widths[1:])]

    def net(v: torch.Tensor) -> torch.Tensor:
        v = v.reshape(1, n * c, h, w)
        for i, (weight, bias) in enumerate(params):
            v = F.conv2d(F.pad(v, (1, 1, 1, 1), mode="replicate"), weight, bias, groups=n)
            if i < layers - 1:
                v = F.leaky_relu(v, 0.2)
        return v.reshape(n, c, h, w)

    g = (net(u) - net(torch.zeros_like(u))).abs()
    view = (-1, 1, 1, 1)
    g = g * (u.flatten(1).norm(dim=1) / g.flatten(1).norm(dim=1).clamp_min(1e-6)).view(view)
    a = _uniform(n, 0.0, 1.0, gen).view(view)
    mixed = (a * g + (1.0 - a) * u).clamp(0.0, 1.0)
    return torch.where(_chance(n, p, gen).view(view), mixed, u)


def global_changes(kind: str, x: torch.Tensor, gen: torch.Generator, mean: float,
                   std: float) -> torch.Tensor:
    """The whole-slice appearance changes of a mask-safe ``kind`` (none for ``basic``):
    :func:`sharpness_only` for ``sharpness``, and :func:`random_conv` after it for
    ``random-conv``."""
    if kind not in ("sharpness", "random-conv"):
        return x
    x = sharpness_only(x, gen, mean, std)
    if kind == "random-conv":
        x = (random_conv((x * std + mean).clamp(0.0, 1.0), gen) - mean) / std
    return x


def feathered(region: torch.Tensor, grow: int = 2, sigma: float = 1.0) -> torch.Tensor:
    """A binary region (N, 1, H, W) grown by ``grow`` px and softened by a Gaussian of ``sigma``
    px: where a regional change blends into the rest of the slice, so the seam is no edge."""
    grown = F.max_pool2d(region.float(), 2 * grow + 1, stride=1, padding=grow)
    return blur(grown, torch.full((region.shape[0],), sigma)).clamp(0.0, 1.0)


def regional_sharpness(x: torch.Tensor, region: torch.Tensor, gen: torch.Generator, mean: float,
                       std: float, p: float = 0.5) -> torch.Tensor:
    """Per image: with probability ``p`` the ``region`` (N, 1, H, W, weights in [0, 1]) and the rest
    each get their own sharpness change (drawn independently, either may be none), else the whole
    slice gets one (as :func:`sharpness_only`); values kept in [0, 1]."""
    n = x.shape[0]
    view = (-1,) + (1,) * (x.dim() - 1)
    u = (x * std + mean).clamp(0.0, 1.0)
    inside = _sharpness_change(u, gen)
    outside = _sharpness_change(u, gen)
    split = _chance(n, p, gen).view(view)
    w = region.to(u.dtype)
    u = torch.where(split, w * inside + (1.0 - w) * outside, inside)
    return (u.clamp(0.0, 1.0) - mean) / std


def as_trained(kind: str, x: Any, mean: float, std: float, seed: int = 0) -> Any:
    """``x`` with the appearance changes of ``kind`` that a model was trained to ignore, drawn
    once (fixed ``seed``): what ``inference.trust`` fits the out-of-distribution statistics and
    thresholds on, so that a softer or sharper slice of a model trained with ``sharpness`` is in
    its domain. Other kinds (and knee stacks) come back as they are."""
    if kind not in SHARPNESS_KINDS or not isinstance(x, torch.Tensor):
        return x
    return sharpness_only(x, torch.Generator().manual_seed(seed), mean, std)


def as_trained_note(kind: str) -> str:
    """What :func:`as_trained` did, for the manifest's ``fitted_on`` ("" when nothing)."""
    return ("; items given the sharpness changes of training (the temperature: the validation items "
            "as drawn)" if kind in SHARPNESS_KINDS else "")


def augment(kind: str, x: torch.Tensor, gen: torch.Generator, mean: float = 0.0,
            std: float = 1.0) -> torch.Tensor:
    """Apply augmentation ``kind`` (one of :data:`KINDS`) to a training batch."""
    if kind == "basic":
        return basic(x, gen)
    if kind == "appearance":
        return appearance(x, gen, mean, std)
    if kind in ("sharpness", "random-conv"):
        return basic(global_changes(kind, x, gen, mean, std), gen)
    if kind in NEEDS_REGIONS:
        raise ValueError(f"augmentation {kind!r} needs each image's region: use regional_sharpness")
    raise ValueError(f"unknown augmentation {kind!r}; choose one of {KINDS}")

"""Evidence outside the body as a training penalty (``python -m inference.train --focus W``).

A lesion detector trained on phantoms can learn to count the edges of the scalp, the skin or the
air as evidence for its finding: its calls stay right on its own generator, but its maps glow
along the scalp of heads drawn differently (measured on a tumour net with two convolutions per
stage: 20-24 % of the finding map outside the head on the independent generator, against 1-3 %
for the shipped net). The penalty is the share of the finding's class activation map (Zhou et
al. 2016: the last feature map weighted by the finding's row of the linear layer; for a
max-pooling head this is the map Grad-CAM draws, which reads the same rectified features) that lies
outside the training phantom's body mask, averaged over the batch. ``W`` weighs it against the
cross-entropy ("right for the right reasons", Ross et al. 2017, with a map in place of the input
gradients).

Only the features learn from it: the map's total is a constant in the gradient (the share can
only fall by taking evidence out of the air, not by adding evidence inside the body, which would
push healthy slices towards the finding) and so is the linear layer's row. It needs the
phantom's body mask, so it applies to the lesion detectors (tumour, ct-lesion) on phantoms.

A second term (``--point W``) asks the same of a phantom that has a finding: the share of its
finding map farther from the lesion than the pointing-game tolerance. The detector then has to
find the finding where it is, not in what tends to come with it on its own generator (an edge, a
mass effect, a contrast the generator happens to draw with lesions): GAIN-style guidance (Li et
al. 2018) with the generator's own lesion masks. Here the map's total is part of the gradient
and an empty map counts as wholly away: a finding's map may grow at its lesion (what a positive
call needs), and the term cannot be paid by switching the map off (with a constant total, a
first attempt did just that and never left chance). It is checked where it matters, on the
independent generator that shares no drawing code with the training one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from inference.models.pooled import PooledLinear

#: Tasks whose phantoms carry a body mask and whose model has a pooled linear head.
TASKS = ("tumour", "ct-lesion")
#: The class whose map is kept inside the body: the finding.
FINDING = 1


def inside_share(body: Tensor, grid: tuple[int, int]) -> Tensor:
    """(N, 1, H, W) body mask (1 inside) -> (N, h, w) share of each feature cell inside the body."""
    return F.adaptive_avg_pool2d(body, grid)[:, 0]


def near(mask: Tensor, radius_px: float) -> Tensor:
    """(N, 1, H, W) lesion mask -> 1 within ``radius_px`` (Euclidean) of it, else 0: the cells where
    a map's maximum counts as a hit in the pointing game."""
    r = int(radius_px)
    yy, xx = torch.meshgrid(torch.arange(-r, r + 1), torch.arange(-r, r + 1), indexing="ij")
    disc = ((yy ** 2 + xx ** 2) <= radius_px ** 2).to(mask.dtype)[None, None]
    return (F.conv2d((mask > 0).to(mask.dtype), disc, padding=r) > 0).to(mask.dtype)


def _share_outside(cam: Tensor, region: Tensor) -> Tensor:
    """(N, h, w) map, (N, 1, H, W) region -> (N,) share of the map outside the region (the total is
    a constant in the gradient; 0 for an empty map)."""
    outside = (cam * (1.0 - inside_share(region, tuple(cam.shape[-2:])))).sum((1, 2))
    total = cam.sum((1, 2)).detach()
    return torch.where(total > 0, outside / total.clamp_min(1e-6), torch.zeros_like(outside))


def logits_and_shares(model: PooledLinear, x: Tensor, body: Tensor, lesion: Tensor | None = None,
                      finding: int = FINDING) -> tuple[Tensor, Tensor, Tensor]:
    """The model's logits for ``x``, the batch mean of the finding map's share outside ``body`` and,
    over the items whose ``lesion`` region (e.g. :func:`near` the lesion) is not empty, the mean
    share outside that region (0 when there is none). Gradients: see the module docstring."""
    feats = model.backbone(x)
    logits = model.fc(model.dropout(model.pool(feats).flatten(1)))
    cam = torch.relu(torch.einsum("nkhw,k->nhw", feats, model.fc.weight[finding].detach()))
    outside_body = _share_outside(cam, body).mean()
    away = torch.zeros((), dtype=cam.dtype)
    if lesion is not None:
        has = lesion.flatten(1).amax(1) > 0
        if bool(has.any()):
            hit = cam[has] * inside_share(lesion[has], tuple(cam.shape[-2:]))
            away = (1.0 - hit.sum((1, 2)) / (cam[has].sum((1, 2)) + 1e-6)).mean()
    return logits, outside_body, away

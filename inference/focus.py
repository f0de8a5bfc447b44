"""Evidence outside the body as a training penalty (``python -m inference.train --focus W``).

A lesion detector trained on phantoms can learn to count the edges of the scalp, the skin or the
air as evidence for its finding: its calls stay right on its own generator, but its maps glow
along the scalp of heads drawn differently (measured on a tumour net with two convolutions per
stage: 20-24 % of the finding map outside the head on the independent generator, against 1-3 %
for the shipped net). The penalty is the share of the finding's class activation map (Zhou et
al. 2016: the last feature map weighted by the finding's row of the linear layer; for a
max-pooling head this is the map Grad-CAM draws, up to the last BatchNorm and ReLU) that lies
outside the training phantom's body mask, averaged over the batch. ``W`` weighs it against the
cross-entropy ("right for the right reasons", Ross et al. 2017, with a map in place of the input
gradients).

Only the features learn from it: the map's total is a constant in the gradient (the share can
only fall by taking evidence out of the air, not by adding evidence inside the body, which would
push healthy slices towards the finding) and so is the linear layer's row. It needs the
phantom's body mask, so it applies to the lesion detectors (tumour, ct-lesion) on phantoms.
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


def logits_and_outside_share(model: PooledLinear, x: Tensor, body: Tensor,
                             finding: int = FINDING) -> tuple[Tensor, Tensor]:
    """The model's logits for ``x`` and the batch mean of the finding map's share outside ``body``
    (value: the share; gradient: only through the evidence outside, see the module docstring)."""
    feats = model.backbone(x)
    logits = model.fc(model.dropout(model.pool(feats).flatten(1)))
    cam = torch.relu(torch.einsum("nkhw,k->nhw", feats, model.fc.weight[finding].detach()))
    outside = (cam * (1.0 - inside_share(body, tuple(feats.shape[-2:])))).sum((1, 2))
    total = cam.sum((1, 2)).detach()
    share = torch.where(total > 0, outside / total.clamp_min(1e-6), torch.zeros_like(outside))
    return logits, share.mean()

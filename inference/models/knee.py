"""Knee MRI (MRNet-style): per plane a 2D CNN on each slice, a bidirectional LSTM over the slice
features, a linear layer per label; planes fused per label by logistic regression.

The fusion coefficients are buffers (``fusion_weight`` (labels, planes), ``fusion_bias`` (labels,))
so they ship inside the safetensors file. Any subset of planes works: the fused logit of label k is
``bias_k + sum over used planes p of weight_kp * logit_kp``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from inference.models.backbones import Backbone


class KneePlaneNet(nn.Module):
    """One plane: (S, 1, H, W) slices of one exam (or (B, S, 1, H, W)) -> (B, labels) logits."""

    def __init__(self, backbone: Backbone, n_labels: int = 3, hidden: int = 64, pool: str = "avg") -> None:
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"unknown pooling {pool!r}; choose avg or max")
        self.cnn = backbone.module
        # max pooling keeps small findings (a torn ligament in a few pixels) from being averaged away
        self.pool = nn.AdaptiveAvgPool2d(1) if pool == "avg" else nn.AdaptiveMaxPool2d(1)
        self.lstm = nn.LSTM(backbone.channels, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, n_labels)
        self.target_layer = f"cnn.{backbone.last_conv}"

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            x = x.unsqueeze(0)
        b, s = x.shape[:2]
        feats = self.pool(self.cnn(x.flatten(0, 1))).flatten(1).view(b, s, -1)
        out, _ = self.lstm(feats)
        return self.fc(out.max(dim=1).values)


class KneeNet(nn.Module):
    """{plane: (B, S, 1, H, W)} -> fused (B, labels) logits; per-plane nets in ``planes``."""

    def __init__(self, backbones: Mapping[str, Backbone], n_labels: int = 3, hidden: int = 64,
                 pool: str = "avg") -> None:
        super().__init__()
        self.plane_names: tuple[str, ...] = tuple(backbones)
        self.planes = nn.ModuleDict({p: KneePlaneNet(b, n_labels, hidden, pool)
                                     for p, b in backbones.items()})
        self.register_buffer("fusion_weight",
                             torch.ones(n_labels, len(self.plane_names)) / len(self.plane_names))
        self.register_buffer("fusion_bias", torch.zeros(n_labels))

    def target_layer(self, plane: str) -> str:
        """Grad-CAM layer inside ``planes[plane]`` (relative to that plane's net)."""
        return self.planes[plane].target_layer

    def plane_logits(self, exam: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Per-plane logits (B, labels) for the planes present in ``exam``."""
        unknown = set(exam) - set(self.plane_names)
        if unknown:
            raise ValueError(f"unknown knee plane(s) {sorted(unknown)}; expected {self.plane_names}")
        return {p: self.planes[p](x) for p, x in exam.items()}

    def fuse(self, logits: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Fused logits (B, labels) and per-plane contributions {plane: (B, labels) weight*logit}."""
        contrib = {p: self.fusion_weight[:, self.plane_names.index(p)] * lg for p, lg in logits.items()}
        fused = self.fusion_bias + torch.stack(list(contrib.values())).sum(0)
        return fused, contrib

    def forward(self, exam: Mapping[str, Tensor]) -> Tensor:
        return self.fuse(self.plane_logits(exam))[0]

    def set_fusion(self, weight: Sequence[Sequence[float]], bias: Sequence[float]) -> None:
        """Set the logistic-regression fusion coefficients (labels x planes, labels)."""
        with torch.no_grad():
            self.fusion_weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
            self.fusion_bias.copy_(torch.as_tensor(bias, dtype=torch.float32))

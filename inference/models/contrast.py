"""MR contrast classifier: backbone trunk (seed: ResNet-50), GAP, Dense 1024 + ReLU + Dropout, softmax."""
from __future__ import annotations

from torch import Tensor, nn

from inference.models.backbones import Backbone


class ContrastNet(nn.Module):
    """(N, 1, H, W) normalised MR slice -> (N, K) logits over contrast classes."""

    def __init__(self, backbone: Backbone, n_classes: int = 4, hidden: int = 1024,
                 dropout: float = 0.5, freeze: int = 0) -> None:
        super().__init__()
        self.backbone = backbone.module
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Linear(backbone.channels, hidden), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(hidden, n_classes))
        self.target_layer = f"backbone.{backbone.last_conv}"
        self.freeze(freeze)

    def freeze(self, n: int) -> None:
        """Freeze the first ``n`` child layers of the backbone (for fine-tuning from ImageNet)."""
        for i, child in enumerate(self.backbone.children()):
            for p in child.parameters():
                p.requires_grad_(i >= n)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.pool(self.backbone(x)).flatten(1))

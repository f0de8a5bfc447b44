"""A backbone, global pooling, dropout and one linear layer: the head the tumour and CT lesion
classifiers share."""
from __future__ import annotations

from torch import Tensor, nn

from inference.models.backbones import Backbone


class PooledLinear(nn.Module):
    """(N, 1, H, W) normalised slice -> (N, n_classes) logits.

    ``pool`` is "avg" or "max" global pooling of the backbone's last feature map; Grad-CAM's
    ``target_layer`` is the backbone's last convolution.
    """

    def __init__(self, backbone: Backbone, n_classes: int = 2, dropout: float = 0.0,
                 pool: str = "avg") -> None:
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"unknown pooling {pool!r}; choose avg or max")
        self.backbone = backbone.module
        self.pool = nn.AdaptiveAvgPool2d(1) if pool == "avg" else nn.AdaptiveMaxPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(backbone.channels, n_classes)
        self.target_layer = f"backbone.{backbone.last_conv}"

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.dropout(self.pool(self.backbone(x)).flatten(1)))

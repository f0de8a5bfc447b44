"""Brain-MRI tumour classifier: a backbone (seed: VGG-16, 1-channel first conv), pooling, one linear layer."""
from __future__ import annotations

from torch import Tensor, nn

from inference.models.backbones import Backbone


class TumourNet(nn.Module):
    """(N, 1, H, W) normalised MR slice -> (N, 2) logits [no tumour, tumour]."""

    def __init__(self, backbone: Backbone, n_classes: int = 2, dropout: float = 0.0, pool: str = "avg") -> None:
        super().__init__()
        self.backbone = backbone.module
        if pool not in ("avg", "max"):
            raise ValueError(f"unknown pooling {pool!r}; choose avg or max")
        self.pool = nn.AdaptiveAvgPool2d(1) if pool == "avg" else nn.AdaptiveMaxPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(backbone.channels, n_classes)
        self.target_layer = f"backbone.{backbone.last_conv}"

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.dropout(self.pool(self.backbone(x)).flatten(1)))

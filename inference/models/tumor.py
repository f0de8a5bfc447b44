"""Brain-MRI tumour classifier: a backbone (seed: VGG-16, 1-channel first conv), pooling, one linear layer."""
from __future__ import annotations

from inference.models.backbones import Backbone
from inference.models.pooled import PooledLinear


class TumourNet(PooledLinear):
    """(N, 1, H, W) normalised MR slice -> (N, 2) logits [no tumour, tumour]."""

    def __init__(self, backbone: Backbone, n_classes: int = 2, dropout: float = 0.0,
                 pool: str = "avg") -> None:
        super().__init__(backbone, n_classes, dropout, pool)

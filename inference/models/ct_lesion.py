"""CT lesion classifier: a compact CNN (conv / max-pool blocks), dropout, linear, 2-way softmax,
on HU windowed input."""
from __future__ import annotations

from inference.models.backbones import Backbone
from inference.models.pooled import PooledLinear


class CTLesionNet(PooledLinear):
    """(N, 1, H, W) windowed CT slice -> (N, 2) logits [no lesion, lesion]."""

    def __init__(self, backbone: Backbone, n_classes: int = 2, dropout: float = 0.3,
                 pool: str = "avg") -> None:
        super().__init__(backbone, n_classes, dropout, pool)

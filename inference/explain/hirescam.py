"""HiResCAM (Draelos & Carin 2020) on a named layer: element-wise gradient x activation,
summed over channels.

Grad-CAM averages each channel's gradient over the grid before weighting the activation, which
can move the map away from where the model's score actually came from; HiResCAM keeps the
gradient at every position, ``sum_c dS/dA_c(h, w) * A_c(h, w)``, which for a model ending in
global average pooling and a linear layer equals the class activation map exactly.

Gradients come from ``torch.autograd.grad`` on the target activation only (the same helper as
Grad-CAM, ``gradcam._layer_activation_and_grad``); hooks, training and ``requires_grad`` flags
are restored on exit. Maps are float32 CPU ``(N, h, w)`` on the layer's grid (rows, columns),
raw; upsampling to the slice is the caller's (``inference.preprocess.to_slice``).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import Target
from .gradcam import _check_input, _layer_activation_and_grad

__all__ = ["hirescam"]


def hirescam(module: nn.Module, x: Tensor, target_layer: str, target: Target, *,
             relu: bool = True, channels_last: bool = True) -> Tensor:
    """HiResCAM map of ``target`` for each item of ``x`` (N, C, H, W) on ``target_layer``'s grid.

    Arguments as :func:`inference.explain.gradcam.gradcam`. Returns ``sum_c dS/dA_c * A_c``
    as float32 CPU ``(N, h, w)``, ReLU'd when ``relu``.
    """
    _check_input(x)
    activation, grad = _layer_activation_and_grad(module, x, target_layer, target, channels_last)
    if activation.dim() != 4:
        raise ValueError(f"Layer {target_layer!r} returns shape {tuple(activation.shape)}, not a "
                         "(N, C, h, w) feature map; choose a convolution block.")
    cam_map = (grad * activation).sum(dim=1)
    if relu:
        cam_map = torch.relu(cam_map)
    return cam_map.detach().float().cpu()

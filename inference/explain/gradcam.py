"""Grad-CAM (Selvaraju et al. 2017) and classic CAM (Zhou et al. 2016) on a named layer.

Gradients come from ``torch.autograd.grad`` on the target activation only: parameters are
frozen for the call and the activation is re-rooted as a leaf in a forward hook, so autograd
records and differentiates only the part of the network after the target layer. The model's
training flags, its parameters' ``requires_grad`` flags and its hooks are restored on exit,
also when the call raises.

Maps are on the target layer's grid ``(N, h, w)`` (rows, columns), float32 on the CPU, raw
(not normalised); upsampling to the slice is the caller's job (``inference.preprocess``).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import (
    Target,
    capture_activation,
    eval_mode,
    frozen_parameters,
    resolve_layer,
    target_score,
)

__all__ = ["gradcam", "cam"]


def _check_input(x: Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(f"Expected an image batch of shape (N, C, H, W); got shape {tuple(x.shape)}.")


def _layer_activation_and_grad(
    module: nn.Module, x: Tensor, target_layer: str, target: Target, channels_last: bool
) -> tuple[Tensor, Tensor]:
    """The target layer's activation ``A`` and ``d score / d A``, both ``(N, C', h, w)``."""
    layer = resolve_layer(module, target_layer)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with (
        eval_mode(module),
        frozen_parameters(module),
        torch.inference_mode(False),
        torch.enable_grad(),
        capture_activation(layer, as_leaf=True) as capture,
    ):
        output = module(x)
        activation = capture.last
        score = target_score(output, target)
        if not score.requires_grad:
            raise RuntimeError(
                f"The model's output does not depend on layer {target_layer!r}; "
                "choose a layer that lies on the path to the classifier output."
            )
        (grad,) = torch.autograd.grad(score, activation)
        capture.clear()
    return activation.detach(), grad


def gradcam(
    module: nn.Module,
    x: Tensor,
    target_layer: str,
    target: Target,
    *,
    relu: bool = True,
    return_importance: bool = False,
    channels_last: bool = True,
) -> Tensor | tuple[Tensor, Tensor]:
    """Grad-CAM map of ``target`` for each item of ``x`` on ``target_layer``'s grid.

    ``x``: (N, C, H, W) on the module's device. ``target_layer``: a dotted name from
    ``module.named_modules()``. ``target``: class index into the output's last dimension, or a
    callable mapping the model output to scores (any shape, summed). The model runs in eval mode.

    Returns the raw CAM ``sum_c mean_hw(dS/dA_c) * A_c`` as float32 CPU ``(N, h, w)``, ReLU'd
    when ``relu``. With ``return_importance`` also ``(N,)`` per-item importance
    ``sum_{c,h,w} dS/dA * A`` (first-order estimate of how much item n's activation adds to the
    score; signed). For a sequence model that takes the S slices of one exam as ``x`` (S, C, H, W)
    and returns one prediction, the maps are per slice and the importance ranks the slices.
    ``channels_last`` feeds ``x`` in channels-last memory layout (same values; about 25 %
    faster convolutions on CPU, measured on VGG-16).
    Raises ``ValueError`` (unknown layer or class) and ``RuntimeError`` (layer not used).
    """
    _check_input(x)
    activation, grad = _layer_activation_and_grad(module, x, target_layer, target, channels_last)
    if activation.dim() != 4:
        raise ValueError(
            f"Layer {target_layer!r} returns shape {tuple(activation.shape)}, not a (N, C, h, w) "
            "feature map; choose a convolution block."
        )
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam_map = (weights * activation).sum(dim=1)
    importance = (grad * activation).sum(dim=(1, 2, 3)) if return_importance else None
    if relu:
        cam_map = torch.relu(cam_map)
    cam_map = cam_map.detach().float().cpu()
    if importance is not None:
        return cam_map, importance.detach().float().cpu()
    return cam_map


def cam(
    module: nn.Module,
    x: Tensor,
    target_layer: str,
    fc_weight: Tensor,
    target: int,
    *,
    relu: bool = True,
) -> Tensor:
    """Classic CAM for a global-average-pool + linear head: ``sum_c W[target, c] * A_c``.

    ``fc_weight``: the linear head's weight (K, C') acting on the pooled ``target_layer``
    output. No gradients are needed. Returns float32 CPU ``(N, h, w)`` on the layer's grid.
    """
    _check_input(x)
    layer = resolve_layer(module, target_layer)
    if fc_weight.dim() != 2 or not -fc_weight.shape[0] <= target < fc_weight.shape[0]:
        raise ValueError(
            f"fc_weight must be (classes, channels) and target a valid class; got "
            f"{tuple(fc_weight.shape)} and {target}."
        )
    with eval_mode(module), torch.inference_mode(), capture_activation(layer, as_leaf=False) as cap:
        module(x)
        activation = cap.last
        if activation.dim() != 4 or activation.shape[1] != fc_weight.shape[1]:
            raise ValueError(
                f"Layer {target_layer!r} gives shape {tuple(activation.shape)}, which does not "
                f"match a head with {fc_weight.shape[1]} input channels."
            )
        w = fc_weight[target].to(activation.dtype).to(activation.device)
        cam_map = torch.einsum("c,nchw->nhw", w, activation)
        cap.clear()
    if relu:
        cam_map = torch.relu(cam_map)
    return cam_map.float().cpu()

"""Backbone builders (torchvision, built offline with ``weights=None``) and the 1-channel conv.

A backbone returns a ``nn.Module`` mapping (N, 1, H, W) -> (N, C, h, w) feature maps plus its
channel count C and the dotted name (relative to the backbone) of its last convolution, used
as the Grad-CAM target layer.

Names: ``vgg16`` and ``resnet50`` (seed), ``resnet18``, and ``vgg-narrow`` (a small VGG-style
net whose block widths and convolutions per block are settings; for demo weights).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

BACKBONES: tuple[str, ...] = ("vgg16", "resnet50", "resnet18", "vgg-narrow")


@dataclass(frozen=True)
class Backbone:
    """A feature extractor with its output channels and last-conv name (relative)."""

    module: nn.Module
    channels: int
    last_conv: str


def one_channel_conv(conv: nn.Conv2d) -> nn.Conv2d:
    """A copy of ``conv`` that takes 1 input channel, its kernel the mean of the RGB kernels.

    For a grey image g fed as (g, g, g), the 3-channel conv gives 3x the mean kernel; the mean is
    used (as in the seed recipe) so that activations keep ImageNet's per-channel scale.
    """
    new = nn.Conv2d(1, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                    conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode)
    with torch.no_grad():
        new.weight.copy_(conv.weight.mean(dim=1, keepdim=True))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def _vgg16() -> Backbone:
    from torchvision.models import vgg16
    feats = vgg16(weights=None).features
    feats[0] = one_channel_conv(feats[0])
    return Backbone(feats, 512, "28")


def _resnet(name: str) -> Backbone:
    from torchvision import models
    net = getattr(models, name)(weights=None)
    net.conv1 = one_channel_conv(net.conv1)
    trunk = nn.Sequential()
    for key in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"):
        trunk.add_module(key, getattr(net, key))
    return Backbone(trunk, net.fc.in_features, "layer4")


def vgg_narrow(widths: Sequence[int] = (16, 32, 64, 96), convs: Sequence[int] = (1, 1, 1, 2),
               pools: int | None = None, norm: str = "batch", padding: str = "zeros") -> Backbone:
    """A narrow VGG-style net: blocks of (conv3x3 + BN + ReLU) x convs[i], a 2x2 max-pool after
    each of the first ``pools`` blocks (default: all but the last).

    Fewer pools keep the Grad-CAM grid fine (input / 2**pools cells per side) and the last
    layer's receptive field close to a lesion's size, so the maps stay focal. ``norm``: "batch"
    (BatchNorm), "group" (GroupNorm, 4 groups: per image, so no train / eval mismatch on small
    sparse findings) or "none". ``padding``: the convolutions' padding mode, "zeros" or
    "replicate" (the image's edge continues outwards: no artificial edge at the border of the
    field of view for a model to use as evidence).
    """
    if norm not in ("batch", "group", "none"):
        raise ValueError(f"unknown norm {norm!r}; choose batch, group or none")
    if padding not in ("zeros", "replicate", "reflect"):
        raise ValueError(f"unknown padding {padding!r}; choose zeros, replicate or reflect")
    layers: list[nn.Module] = []
    cin, last = 1, 0
    n_pools = len(widths) - 1 if pools is None else int(pools)
    for i, (w, k) in enumerate(zip(widths, convs)):
        for _ in range(k):
            layers.append(nn.Conv2d(cin, w, 3, padding=1, bias=norm == "none", padding_mode=padding))
            if norm != "none":
                layers.append(nn.BatchNorm2d(w) if norm == "batch" else nn.GroupNorm(4, w))
            layers.append(nn.ReLU(inplace=False))
            cin = w
            last = len(layers) - 1          # the ReLU after the last conv: rectified features
        if i < n_pools:
            layers.append(nn.MaxPool2d(2))
    return Backbone(nn.Sequential(*layers), cin, str(last))


def build_backbone(name: str, **options: object) -> Backbone:
    """Build a backbone by name (see ``BACKBONES``); options go to ``vgg_narrow``."""
    if name == "vgg16":
        return _vgg16()
    if name in ("resnet50", "resnet18"):
        return _resnet(name)
    if name == "vgg-narrow":
        return vgg_narrow(**options)  # type: ignore[arg-type]
    raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")


def load_imagenet_backbone(backbone: Backbone, name: str, path: Path) -> list[str]:
    """Load local ImageNet weights (safetensors) into a seed backbone; returns missing keys.

    The file holds torchvision's full-model state dict; the first conv's RGB kernels are
    averaged to one channel. Only ``.safetensors`` files are read (never a pickle).
    """
    from safetensors.torch import load_file

    if Path(path).suffix != ".safetensors":
        raise ValueError(f"{path}: pretrained weights must be a .safetensors file (pickles are refused)")
    state = load_file(str(path))
    if name == "vgg16":
        prefix, first = "features.", "features.0.weight"
    else:
        prefix, first = "", "conv1.weight"
    if first in state and state[first].shape[1] == 3:
        state[first] = state[first].mean(dim=1, keepdim=True)
    own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    result = backbone.module.load_state_dict(own, strict=False)
    return list(result.missing_keys)

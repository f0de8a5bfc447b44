"""Start a deeper demo net from a shallower one's weights (Net2Net's "deeper" step).

``inference.train --convs 2,2,2,2 --init shallow.safetensors`` where the weights have fewer
convolutions per stage: every convolution the shallower net has keeps its weights, and each one
it lacks starts as the identity (a 3x3 kernel whose only tap is the centre of its own channel).
Its BatchNorm is then set to the mean and spread of the activations it receives on training
images (:func:`fit_identity_norms`), so (x - mean) / spread * spread + mean = x in training as in
use, and the ReLU after it passes the already rectified x unchanged. Training so starts from the
shallower net's function instead of from scratch. vgg-narrow backbone with BatchNorm only.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from inference.models.backbones import vgg_narrow


def _layout(seq: nn.Sequential, convs: Sequence[int]) -> list[list[int]]:
    """Per stage, the Sequential indices of its convolutions."""
    idx = [i for i, m in enumerate(seq) if isinstance(m, nn.Conv2d)]
    stages, k = [], 0
    for c in convs:
        stages.append(idx[k:k + c])
        k += c
    return stages


def _shapes(state: Mapping[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def shallower_convs(state: Mapping[str, torch.Tensor], options: Mapping[str, object],
                    convs: Sequence[int]) -> list[int] | None:
    """The convolutions per stage (each at most ``convs``'s) of the vgg-narrow whose backbone
    parameters ``state`` holds, other options as ``options``; None when no such layout fits."""
    held = {k[len("backbone."):]: s for k, s in _shapes(state).items() if k.startswith("backbone.")}
    for counts in itertools.product(*(range(1, c + 1) for c in convs)):
        seq = vgg_narrow(**{**options, "convs": list(counts)}).module  # type: ignore[arg-type]
        if _shapes(seq.state_dict()) == held:
            return list(counts)
    return None


def deepen_state(state: Mapping[str, torch.Tensor], shallow: Sequence[int], model: nn.Module,
                 options: Mapping[str, object], convs: Sequence[int]) -> list[int]:
    """Load ``state`` (``shallow`` convolutions per stage) into ``model`` (``convs`` per stage);
    the added convolutions start as the identity. Returns their indices in ``model.backbone``."""
    old = _layout(vgg_narrow(**{**options, "convs": list(shallow)}).module, shallow)  # type: ignore[arg-type]
    seq: nn.Sequential = model.backbone   # type: ignore[assignment]
    new = _layout(seq, convs)
    moved: dict[str, str] = {}       # old module index -> new: each kept convolution and its BatchNorm
    added: list[int] = []
    for old_stage, new_stage in zip(old, new):
        for o, n in zip(old_stage, new_stage):
            moved.update({str(o): str(n), str(o + 1): str(n + 1)})
        added += new_stage[len(old_stage):]
    target = model.state_dict()
    for key, value in state.items():
        head, _, rest = key.partition(".")
        index, _, name = rest.partition(".")
        target[f"backbone.{moved[index]}.{name}" if head == "backbone" else key] = value.clone()
    for n in added:
        target[f"backbone.{n}.weight"] = torch.zeros_like(target[f"backbone.{n}.weight"])
        for c in range(target[f"backbone.{n}.weight"].shape[0]):
            target[f"backbone.{n}.weight"][c, c, 1, 1] = 1.0
    model.load_state_dict(target)
    return added


def fit_identity_norms(model: nn.Module, added: Sequence[int], x: torch.Tensor, bs: int = 64) -> None:
    """Set each added convolution's BatchNorm to the mean and spread of what it receives on ``x``
    in training (an identity convolution's output is its input), so the block passes its input
    unchanged in training as in use. The other layers' running statistics are left as they were."""
    seq: nn.Sequential = model.backbone   # type: ignore[assignment]
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in norms]
    seen: dict[int, list[torch.Tensor]] = {n: [] for n in added}
    hooks = [seq[n].register_forward_hook(lambda _m, _i, out, n=n: seen[n].append(out.detach()))
             for n in added]
    model.train()
    for n in added:   # not fitted yet: in use mode (mean 0, variance 1) it is close to the identity
        seq[n + 1].eval()
    try:
        with torch.no_grad():
            for i in range(0, len(x), bs):
                model(x[i:i + bs])
    finally:
        for h in hooks:
            h.remove()
        for m, (mean, var, count) in zip(norms, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)
        model.eval()
    for n in added:
        acts = torch.cat(seen[n])
        mean = acts.mean((0, 2, 3))
        var = acts.var((0, 2, 3), unbiased=False)
        bn: nn.BatchNorm2d = seq[n + 1]   # type: ignore[assignment]
        with torch.no_grad():
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(mean)

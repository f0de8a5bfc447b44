"""Shared helpers for the explanation methods: scoped hooks, model state, targets, baselines.

Every torch side effect made here is undone by a context manager, also when the wrapped code
raises: forward-hook handles are removed, ``module.training`` flags and parameters'
``requires_grad`` flags are restored.

Image tensors are ``(N, C, H, W)`` (batch, channel, row, column), float, in model units.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from inference.preprocess import blur

Target = int | Callable[[Tensor], Tensor]

__all__ = [
    "Target",
    "ActivationCapture",
    "resolve_layer",
    "eval_mode",
    "frozen_parameters",
    "capture_activation",
    "target_score",
    "gaussian_blur",
    "baseline_image",
]


def resolve_layer(module: nn.Module, name: str) -> nn.Module:
    """The sub-module called ``name`` in ``module.named_modules()`` (dotted, e.g. ``"layer4"``).

    Raises ``ValueError`` naming the closest existing layer names when ``name`` does not exist.
    """
    modules = dict(module.named_modules())
    if name in modules and name != "":
        return modules[name]
    names = [n for n in modules if n]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    if not close:  # fall back to names sharing the requested prefix or suffix
        head = name.split(".")[0]
        close = [n for n in names if n.startswith(head) or n.endswith(name.split(".")[-1])][:5]
    hint = f" Close names: {', '.join(close)}." if close else ""
    last_convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)][-3:]
    conv_hint = f" Last convolution layers: {', '.join(last_convs)}." if last_convs else ""
    raise ValueError(
        f"The model has no layer called {name!r}.{hint}{conv_hint} "
        "Use a name from model.named_modules(), usually the last convolution block."
    )


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` (and all its sub-modules) in eval mode; restore every flag on exit."""
    saved = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        yield module
    finally:
        for m, flag in saved:
            m.training = flag


@contextmanager
def frozen_parameters(module: nn.Module) -> Iterator[nn.Module]:
    """Set ``requires_grad=False`` on every parameter so autograd records nothing for weights.

    The original flags are restored on exit, also after an exception.
    """
    saved = [(p, p.requires_grad) for p in module.parameters()]
    try:
        for p, _ in saved:
            p.requires_grad_(False)
        yield module
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)


@dataclass
class ActivationCapture:
    """What a capture hook saw: the leaf activation(s) that gradients are taken against.

    ``activations`` holds one tensor per call of the hooked layer during the forward pass, in
    call order; each is a leaf with ``requires_grad=True`` (when ``as_leaf`` was asked).
    """

    activations: list[Tensor] = field(default_factory=list)

    @property
    def last(self) -> Tensor:
        """The activation of the most recent call of the layer."""
        if not self.activations:
            raise RuntimeError(
                "The target layer was not used by the model's forward pass; "
                "choose a layer that the forward pass goes through."
            )
        return self.activations[-1]

    def clear(self) -> None:
        """Forget the captured tensors (frees their memory)."""
        self.activations.clear()


def _first_tensor(output: object) -> Tensor:
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], Tensor):
        return output[0]
    raise TypeError(
        f"The target layer returned {type(output).__name__}, not a tensor; "
        "choose a layer whose output is an image-like feature map."
    )


@contextmanager
def capture_activation(layer: nn.Module, *, as_leaf: bool = True) -> Iterator[ActivationCapture]:
    """Record ``layer``'s output on each forward call, optionally re-rooting autograd there.

    With ``as_leaf`` the hook replaces the output by a clone of a detached leaf that requires
    grad: autograd then records only from this layer on, and later in-place operations (e.g. a
    ``ReLU(inplace=True)`` right after a convolution) modify the clone, never the leaf.
    For layers returning a tuple the first element is used (and replaced).
    The hook handle is removed on exit, also after an exception.
    """
    capture = ActivationCapture()

    def hook(_module: nn.Module, _inputs: object, output: object) -> object:
        tensor = _first_tensor(output)
        if not as_leaf:
            capture.activations.append(tensor.detach())
            return None
        leaf = tensor.detach().requires_grad_(True)
        capture.activations.append(leaf)
        replaced = leaf.clone()
        if isinstance(output, Tensor):
            return replaced
        return type(output)((replaced, *output[1:]))  # type: ignore[index]

    handle = layer.register_forward_hook(hook)
    try:
        yield capture
    finally:
        handle.remove()


def target_score(output: Tensor, target: Target) -> Tensor:
    """A scalar to differentiate: ``output[..., target]`` summed, or ``target(output)`` summed."""
    if callable(target):
        score = target(output)
        if not isinstance(score, Tensor):
            raise TypeError("A callable target must return a tensor of scores.")
        return score.sum()
    index = int(target)
    classes = output.shape[-1]
    if not -classes <= index < classes:
        raise ValueError(f"Target class {index} does not exist: the model has {classes} outputs.")
    return output[..., index].sum()


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of ``x`` (N, C, H, W), ``sigma`` in pixels, reflect-padded edges
    (the one Gaussian of :func:`inference.preprocess.blur`); a copy of ``x`` when ``sigma`` <= 0."""
    if sigma <= 0:
        return x.clone()
    return blur(x, float(sigma), mode="reflect")


def baseline_image(x: Tensor, baseline: str | float, *, blur_sigma: float) -> Tensor:
    """The image that replaces removed pixels, same shape as ``x`` (N, C, H, W).

    ``"blur"``: ``x`` Gaussian-blurred with ``blur_sigma`` px (keeps local intensity, removes
    detail such as a lesion); ``"zero"``: zeros; ``"mean"``: each channel's mean of ``x``;
    a number: that constant.
    """
    if isinstance(baseline, str):
        kind = baseline.lower()
        if kind == "blur":
            return gaussian_blur(x, blur_sigma)
        if kind == "zero":
            return torch.zeros_like(x)
        if kind == "mean":
            return x.mean(dim=(2, 3), keepdim=True).expand_as(x).clone()
        raise ValueError(f"Unknown baseline {baseline!r}: use 'blur', 'zero', 'mean' or a number.")
    return torch.full_like(x, float(baseline))

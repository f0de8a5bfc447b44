"""Inference-only forward for occlusion batches: BatchNorm folded into the preceding layer.

``fast_forward(module)`` returns a callable that computes what ``module(x)`` computes in eval
mode, from a copy of the module whose ``Conv{1,2,3}d -> BatchNorm`` and ``Linear -> BatchNorm1d``
pairs are fused into one layer (``torch.fx.experimental.optimization.fuse``): one pass over the
activations fewer per pair, same values up to float32 rounding. The caller's module is never
modified. The fused copy is cached per module (by identity, dropped with the module) and rebuilt
when any parameter or buffer changes (in-place update, reload, move to another device).

It is for scoring many perturbed images (occlusion, deletion curves); Grad-CAM and training must
use the real module (the copy carries no hooks and is only valid in eval mode). A module in
training mode, one with forward hooks (a hook must see the real layers), or one that ``torch.fx``
cannot trace (data-dependent control flow) is returned as is; ``fast_forward_info(module)`` says
which path was taken and why.
"""
from __future__ import annotations

import copy
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

__all__ = ["FastForwardInfo", "fast_forward", "fast_forward_info"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FastForwardInfo:
    """How ``fast_forward`` serves a module: ``fused`` (True: a BN-folded copy), ``pairs``
    (BatchNorm layers folded away), ``reason`` (why the plain module is used, else "")."""

    fused: bool
    pairs: int
    reason: str


@dataclass(frozen=True)
class _Entry:
    version: tuple[object, ...]
    fused: nn.Module | None  # None: use the module itself (never stored here: it would pin the key)
    info: FastForwardInfo


_cache: weakref.WeakKeyDictionary[nn.Module, _Entry] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _hook_count(module: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in module.modules())


def _weights_version(module: nn.Module) -> tuple[object, ...]:
    """Identity of the current weights: (storage address, version counter, device) per tensor,
    plus the number of forward hooks."""
    out: list[object] = [_hook_count(module)]
    for t in (*module.parameters(), *module.buffers()):
        out.append((t.data_ptr(), t._version, str(t.device)))
    return tuple(out)


def _count_bn(module: nn.Module) -> int:
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def _build(module: nn.Module) -> tuple[nn.Module | None, FastForwardInfo]:
    if any(m.training for m in module.modules()):
        return None, FastForwardInfo(False, 0, "the module is in training mode")
    if _hook_count(module):
        return None, FastForwardInfo(False, 0, "the module has forward hooks")
    before = _count_bn(module)
    if before == 0:
        return None, FastForwardInfo(False, 0, "the module has no BatchNorm layer to fold")
    from torch.fx.experimental.optimization import fuse

    try:
        fused = fuse(copy.deepcopy(module), inplace=True)
    except Exception as exc:  # noqa: BLE001 - torch.fx raises many types; the plain module is exact
        reason = (f"torch.fx could not trace it "
                  f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
        _log.info("fast_forward: using the plain %s: %s", type(module).__name__, reason)
        return None, FastForwardInfo(False, 0, reason)
    fused.eval()
    for p in fused.parameters():
        p.requires_grad_(False)
    pairs = before - _count_bn(fused)
    if pairs == 0:
        return None, FastForwardInfo(False, 0, "no BatchNorm follows a convolution or linear layer directly")
    return fused, FastForwardInfo(True, pairs, "")


def _entry(module: nn.Module) -> _Entry:
    version = _weights_version(module)
    training = any(m.training for m in module.modules())
    with _lock:
        entry = _cache.get(module)
        if entry is not None and entry.version == version and not training:
            return entry
    fused, info = _build(module)
    entry = _Entry(version, fused, info)
    if not training:
        with _lock:
            _cache[module] = entry
    return entry


def fast_forward(module: nn.Module) -> Callable[[Tensor], Tensor]:
    """A callable (B, ...) -> module output equal to ``module(x)`` in eval mode, BN folded.

    Cached per module and weights version; call it once per job (checking the version walks the
    parameters), then call the result per batch. Use under ``torch.inference_mode``/``no_grad``.
    """
    fused = _entry(module).fused
    return module if fused is None else fused


def fast_forward_info(module: nn.Module) -> FastForwardInfo:
    """Which path ``fast_forward(module)`` takes now (fused copy or plain module) and why."""
    return _entry(module).info

"""Inference-only forward for predictions and occlusion batches: BatchNorm folded away.

``fast_forward(module)`` returns a callable that computes what ``module(x)`` computes in eval
mode, from a copy of the module whose ``Conv{1,2,3}d -> BatchNorm`` and ``Linear -> BatchNorm1d``
pairs are fused into one layer (``torch.fx.experimental.optimization.fuse``): one pass over the
activations fewer per pair, same values up to float32 rounding; the copy's ReLU layers run in
place where nothing else reads their input. The caller's module is never modified. The fused
copy is cached per module (by identity, dropped with the module) and rebuilt when any parameter
or buffer changes (in-place update, reload, move to another device).

It serves predictions (``Classifier``; ``fast_forward_tap`` names the layer of the copy whose
output is a given layer's, for the out-of-distribution features) and the scoring of many
perturbed images (occlusion, deletion curves). Grad-CAM and training must use the real module
(the copy is only valid in eval mode). A module in training mode, one with forward hooks (a hook
must see the real layers), or one that ``torch.fx`` cannot trace (data-dependent control flow)
is returned as is; ``fast_forward_info(module)`` says which path was taken and why.
"""
from __future__ import annotations

import copy
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

__all__ = ["FastForwardInfo", "fast_forward", "fast_forward_info", "fast_forward_tap"]

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


_HOOKED = FastForwardInfo(False, 0, "the module has forward hooks")

_cache: weakref.WeakKeyDictionary[nn.Module, _Entry] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _hook_count(module: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in module.modules())


def _weights_version(module: nn.Module) -> tuple[object, ...]:
    """Identity of the current weights: (storage address, version counter, device) per tensor."""
    out: list[object] = []
    for t in (*module.parameters(), *module.buffers()):
        out.append((t.data_ptr(), t._version, str(t.device)))
    return tuple(out)


def _count_bn(module: nn.Module) -> int:
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def _build(module: nn.Module) -> tuple[nn.Module | None, FastForwardInfo]:
    if any(m.training for m in module.modules()):
        return None, FastForwardInfo(False, 0, "the module is in training mode")
    if _hook_count(module):
        return None, _HOOKED
    before = _count_bn(module)
    if before == 0:
        return None, FastForwardInfo(False, 0, "the module has no BatchNorm layer to fold")
    from torch.fx.experimental.optimization import fuse

    try:
        fused = fuse(_trace(copy.deepcopy(module)), inplace=True, no_trace=True)
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
    _relu_in_place(fused)
    return fused, FastForwardInfo(True, pairs, "")


def _trace(module: nn.Module) -> nn.Module:
    """``torch.fx.symbolic_trace(module)`` that leaves other threads alone: while it traces, fx
    patches ``nn.Module.__call__`` and ``__getattr__`` for every thread, so a model running in
    another thread meanwhile (a Grad-CAM job while another model loads) failed with "module is
    not installed as a submodule". Calls from other threads now pass straight through."""
    import torch.fx

    owner = threading.get_ident()

    class _OwnThreadTracer(torch.fx.Tracer):
        def call_module(self, m, forward, args, kwargs):  # type: ignore[no-untyped-def]
            if threading.get_ident() != owner:
                return forward(*args, **kwargs)
            return super().call_module(m, forward, args, kwargs)

        def getattr(self, attr, attr_val, parameter_proxy_cache):  # type: ignore[no-untyped-def]
            if threading.get_ident() != owner:
                return attr_val
            return super().getattr(attr, attr_val, parameter_proxy_cache)

    tracer = _OwnThreadTracer()
    graph = tracer.trace(module)
    return torch.fx.GraphModule(tracer.root, graph, type(module).__name__)


def _relu_in_place(net: nn.Module) -> int:
    """Make the copy's ``nn.ReLU`` layers in-place where that cannot change a value: every call
    of the layer takes a tensor computed inside the graph that nothing else reads. A new output
    tensor per ReLU costs more than the convolution on CPU (channels-last activations of these
    models: 0.96 -> 0.38 ms a slice, make bench). Returns how many layers were switched."""
    graph = getattr(net, "graph", None)
    if graph is None:
        return 0
    subs = dict(net.named_modules())
    safe: dict[str, bool] = {}
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(subs.get(str(node.target)), nn.ReLU):
            continue
        src = node.args[0] if node.args else None
        ok = (len(node.args) == 1 and not node.kwargs and hasattr(src, "users")
              and src.op not in ("placeholder", "get_attr") and len(src.users) == 1)
        safe[str(node.target)] = safe.get(str(node.target), True) and ok
    switched = 0
    for name, ok in safe.items():
        layer = subs[name]
        if ok and not layer.inplace:
            layer.inplace = True
            switched += 1
    return switched


def _entry(module: nn.Module) -> _Entry:
    version = _weights_version(module)
    training = any(m.training for m in module.modules())
    if _hook_count(module):
        # A hook (Grad-CAM's, for one call) must see the real layers. The fused copy stays
        # cached for after: rebuilding it would mean another fx trace.
        return _Entry(version, None, _HOOKED)
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


def fast_forward_tap(module: nn.Module, layer: str) -> tuple[Callable[[Tensor], Tensor], nn.Module, str]:
    """(forward, owner, name): ``fast_forward(module)`` and where in it ``module.<layer>``'s
    output is computed (``owner.get_submodule(name)``, a module called once per forward, to hook).

    A ``Sequential`` layer's output is its last layer's, so a container the traced copy no
    longer calls is followed to its last layer. When the layer cannot be found in the copy (a
    BatchNorm folded away, a container that is not a Sequential) the plain module is used.
    """
    net = fast_forward(module)
    if net is module or not hasattr(net, "graph"):
        return module, module, layer
    called = {str(n.target) for n in net.graph.nodes if n.op == "call_module"}
    subs = dict(module.named_modules())
    name = layer
    while name not in called:
        m = subs.get(name)
        if not isinstance(m, nn.Sequential) or len(m) == 0:
            return module, module, layer
        name = f"{name}.{list(m._modules)[-1]}"
    return net, net, name

"""Building the folded copy (a torch.fx trace) while another thread runs a model.

torch.fx patches ``nn.Module.__call__`` and ``__getattr__`` for every thread while it traces;
a model called in another thread meanwhile failed with fx's "module is not installed as a
submodule" (seen in CI: a Grad-CAM job in the viewer died while another model loaded)."""
from __future__ import annotations

import sys
import threading

import torch
from torch import nn

from inference.explain.fast_forward import _build, fast_forward


def _net() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()]
    for _ in range(6):
        layers += [nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2)).eval()


def test_models_run_in_other_threads_while_a_copy_is_traced():
    torch.manual_seed(0)
    running, traced = _net(), _net()
    x = torch.randn(2, 1, 16, 16)
    with torch.no_grad():
        want = running(x)
    errors: list[BaseException] = []
    calls = 0
    stop = threading.Event()

    def run() -> None:
        nonlocal calls
        while not stop.is_set():
            try:
                with torch.no_grad():
                    got = running(x)                      # the plain module, as Grad-CAM does
                    assert torch.allclose(got, want, atol=1e-6)
                    traced(x)                             # and the module being copied
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
                return
            calls += 1

    worker = threading.Thread(target=run)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)          # switch threads inside a trace, as a busy viewer does
    worker.start()
    try:
        for _ in range(30):
            fused, info = _build(traced)
            assert info.fused and fused is not None
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(interval)
    assert not errors, f"{type(errors[0]).__name__}: {errors[0]}"
    assert calls > 0
    with torch.no_grad():
        assert torch.allclose(fast_forward(traced)(x), traced(x), atol=1e-5)

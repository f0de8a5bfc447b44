"""Predictions run through the BatchNorm-folded copy (inference.explain.fast_forward): in-place
ReLU only where no other layer reads the input, the out-of-distribution features tapped from the
copy, and the shipped models' probabilities and distances equal to the plain module's."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from inference.explain.fast_forward import fast_forward, fast_forward_tap
from inference.trust import pooled_features


def _bn(c: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(c)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    return bn


class Residual(nn.Module):
    """relu(y) + y: the ReLU's input is read again, so it must not be overwritten."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn, self.act = nn.Conv2d(1, 4, 3, padding=1), _bn(4), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.conv(x))
        return self.act(y) + y


class SharedReLU(nn.Module):
    """One ReLU module called twice: safely after a convolution, unsafely before an add."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.b1, self.c2, self.b2 = nn.Conv2d(1, 4, 3, padding=1), _bn(4), nn.Conv2d(4, 4, 1), _bn(4)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.act(self.b1(self.c1(x)))
        b = self.b2(self.c2(a))
        return self.act(b) - b


class Tapped(nn.Module):
    """The shape of the demo models: a Sequential backbone, a pool, a head."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), _bn(8), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 8, 3, padding=1), _bn(8), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.backbone(x)).flatten(1))


def _relus(net: nn.Module) -> list[bool]:
    return [m.inplace for m in net.modules() if isinstance(m, nn.ReLU)]


@pytest.mark.parametrize("cls", [Residual, SharedReLU])
def test_a_relu_whose_input_is_read_again_stays_out_of_place(cls) -> None:
    torch.manual_seed(1)
    net = cls().eval()
    fast = fast_forward(net)
    assert fast is not net and _relus(fast) == [False]
    x = torch.randn(3, 1, 12, 12)
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), net(x), rtol=1e-4, atol=1e-5)


def test_relus_after_a_convolution_run_in_place_on_the_copy_only() -> None:
    torch.manual_seed(2)
    net = Tapped().eval()
    fast = fast_forward(net)
    assert _relus(fast) == [True, True] and _relus(net) == [False, False]
    x = torch.randn(4, 1, 16, 16)
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), net(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer", ["pool", "backbone", "backbone.6"])
def test_features_tapped_from_the_copy_equal_the_module_s(layer) -> None:
    torch.manual_seed(3)
    net = Tapped().eval()
    x = torch.randn(5, 1, 16, 16)
    forward, owner, name = fast_forward_tap(net, layer)
    assert forward is not net and owner is forward
    assert name == ("backbone.6" if layer.startswith("backbone") else "pool")
    with torch.inference_mode():
        with pooled_features(net, layer) as want:
            logits = net(x)
        with pooled_features(owner, name) as got:
            fast_logits = forward(x)
    torch.testing.assert_close(fast_logits, logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(got[-1], want[-1], rtol=1e-4, atol=1e-5)


def test_a_layer_folded_away_is_tapped_on_the_plain_module() -> None:
    net = Tapped().eval()
    forward, owner, name = fast_forward_tap(net, "backbone.1")     # a BatchNorm, folded
    assert forward is net and owner is net and name == "backbone.1"


@pytest.mark.parametrize("model", ["tumour", "ct-lesion", "contrast"])
def test_shipped_models_predict_as_the_plain_module(model) -> None:
    from inference import load_model

    clf = load_model(model, device="cpu")
    torch.manual_seed(4)
    x = torch.rand(6, 1, clf.spec.input["size"], clf.spec.input["size"])
    logits, feats = clf._run(x)
    layer = str(clf.spec.ood.get("layer", "pool"))
    with torch.inference_mode(), pooled_features(clf.module, layer) as seen:
        plain = clf.module(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(logits, plain, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(feats, seen[-1], rtol=1e-4, atol=1e-4)
    assert clf.ood is not None
    near = clf.ood.distance(feats.float()) - clf.ood.distance(seen[-1].float())
    assert float(near.abs().max()) < 1e-2


def test_a_hook_for_one_call_does_not_rebuild_the_copy() -> None:
    """Grad-CAM hooks the real module for one call: meanwhile the plain module serves, and the
    fused copy is still the cached one afterwards (a rebuild is an fx trace, which patches
    nn.Module.__call__ for every thread while it runs)."""
    net = Tapped().eval()
    fast = fast_forward(net)
    handle = net.backbone[2].register_forward_hook(lambda *_: None)
    try:
        assert fast_forward(net) is net
    finally:
        handle.remove()
    assert fast_forward(net) is fast

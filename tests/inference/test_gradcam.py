"""Grad-CAM against Captum and pytorch-grad-cam, state hygiene, and per-slice maps for a knee exam."""
from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from inference.explain.base import capture_activation, frozen_parameters
from inference.explain.gradcam import cam, gradcam

captum_attr = pytest.importorskip("captum.attr")
pgc = pytest.importorskip("pytorch_grad_cam")
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402


def pearson(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


class SmallVGG(nn.Module):
    """VGG-style: conv/ReLU(inplace) blocks, max-pools, flatten, linear head."""

    def __init__(self, channels: int = 1, classes: int = 2) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 8 * 8, 16), nn.ReLU(inplace=True),
                                        nn.Dropout(0.5), nn.Linear(16, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@pytest.fixture(scope="module")
def vgg() -> SmallVGG:
    torch.manual_seed(0)
    return SmallVGG().eval()


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(1)
    return torchvision.models.resnet18(weights=None, num_classes=2).eval()


def _images(channels: int, size: int, n: int = 2, seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, size, size, generator=g)
    x[:, :, size // 4 : size // 2, size // 2 : 3 * size // 4] += 3.0  # a bright "lesion"
    return x


@pytest.mark.parametrize("layer", ["features.8", "features.9"])  # conv before an in-place ReLU, the ReLU
def test_vgg_matches_captum_raw(vgg: SmallVGG, layer: str) -> None:
    x = _images(1, 64)
    ours = gradcam(vgg, x, layer, 1)
    ref = captum_attr.LayerGradCam(vgg, dict(vgg.named_modules())[layer]).attribute(
        x, target=1, relu_attributions=True)[:, 0]
    assert ours.shape == (2, 16, 16) and ours.dtype == torch.float32 and ours.device.type == "cpu"
    assert ours.abs().sum() > 0
    assert pearson(ours, ref.detach()) >= 0.99
    torch.testing.assert_close(ours, ref.detach().float(), rtol=1e-4, atol=1e-6)


def test_resnet_matches_captum_raw(resnet: nn.Module) -> None:
    x = _images(3, 112)
    for target in (0, 1):
        ours = gradcam(resnet, x, "layer4", target, relu=False)
        ref = captum_attr.LayerGradCam(resnet, resnet.layer4).attribute(x, target=target)[:, 0]
        assert ours.shape == (2, 4, 4)
        assert pearson(ours, ref.detach()) >= 0.99


def _upsampled_normalised(maps: torch.Tensor, size: int) -> np.ndarray:
    out = []
    for m in maps:
        m = m - m.min()
        m = m / (m.max() + 1e-7)
        out.append(F.interpolate(m[None, None], size=(size, size), mode="bilinear",
                                 align_corners=False)[0, 0])
    return torch.stack(out).numpy()


@pytest.mark.parametrize("model_name", ["vgg", "resnet"])
def test_matches_pytorch_grad_cam(model_name: str, vgg: SmallVGG, resnet: nn.Module) -> None:
    # pytorch-grad-cam keeps an alias of the hooked output, so on a conv followed by an in-place
    # ReLU it reads the ReLU'd values: compare on the ReLU (its documented usage), where both are exact.
    model, layer, channels, size = (
        (vgg, "features.9", 1, 64) if model_name == "vgg" else (resnet, "layer4", 3, 112))
    x = _images(channels, size)
    ours = _upsampled_normalised(gradcam(model, x, layer, 1), size)
    target_layer = dict(model.named_modules())[layer]
    with pgc.GradCAM(model=model, target_layers=[target_layer]) as method:
        ref = method(input_tensor=x, targets=[ClassifierOutputTarget(1)] * x.shape[0])
    assert ref.shape == ours.shape
    for item in range(x.shape[0]):
        assert pearson(ours[item], ref[item]) >= 0.99


def test_callable_target_equals_index(resnet: nn.Module) -> None:
    x = _images(3, 96)
    by_index = gradcam(resnet, x, "layer4", 1)
    by_callable = gradcam(resnet, x, "layer4", lambda out: out[:, 1])
    torch.testing.assert_close(by_index, by_callable)
    # a difference of logits is a different target: the map changes
    contrast = gradcam(resnet, x, "layer4", lambda out: out[:, 1] - out[:, 0], relu=False)
    assert not torch.allclose(contrast, gradcam(resnet, x, "layer4", 1, relu=False))


def test_no_weight_gradients_and_works_inside_inference_mode(vgg: SmallVGG) -> None:
    vgg.zero_grad(set_to_none=True)  # pytorch-grad-cam's .backward() filled them in another test
    x = _images(1, 64)
    expected = gradcam(vgg, x, "features.9", 0)
    with torch.inference_mode():
        inside = gradcam(vgg, x.clone(), "features.9", 0)
    torch.testing.assert_close(inside, expected)
    assert all(p.grad is None for p in vgg.parameters())


def _hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in model.modules())


def test_wrong_layer_name_lists_close_names(vgg: SmallVGG) -> None:
    with pytest.raises(ValueError, match=r"features\.9"):
        gradcam(vgg, _images(1, 64), "features.90", 1)
    with pytest.raises(ValueError, match="Close names"):
        gradcam(vgg, _images(1, 64), "feature.9", 1)
    with pytest.raises(ValueError, match="class 5"):
        gradcam(vgg, _images(1, 64), "features.9", 5)
    assert _hook_count(vgg) == 0


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.drop(self.conv(x))
        if x.shape[-1] == 13:
            raise RuntimeError("boom")
        return self.head(features.mean((2, 3)))


def test_state_restored_after_exceptions() -> None:
    torch.manual_seed(0)
    model = Exploding().train()
    model.head.weight.requires_grad_(False)  # a mixed state must come back exactly
    flags = [p.requires_grad for p in model.parameters()]
    with pytest.raises(RuntimeError, match="boom"):
        gradcam(model, torch.randn(1, 1, 13, 13), "conv", 0)
    with pytest.raises(ValueError):
        gradcam(model, torch.randn(1, 1, 12, 12), "nope", 0)
    with pytest.raises(TypeError):
        gradcam(model, torch.randn(1, 1, 12, 12), "conv", lambda out: 3.0)  # not a tensor
    assert model.training and model.drop.training and model.conv.training
    assert [p.requires_grad for p in model.parameters()] == flags
    assert _hook_count(model) == 0
    # and the call itself works and gives the eval-mode (deterministic) answer
    a = gradcam(model, torch.ones(1, 1, 12, 12), "conv", 0, relu=False)
    b = gradcam(model, torch.ones(1, 1, 12, 12), "conv", 0, relu=False)
    torch.testing.assert_close(a, b)
    assert model.training


def test_context_managers_clean_up_on_error() -> None:
    layer = nn.Conv2d(1, 1, 1)
    with pytest.raises(KeyError):
        with frozen_parameters(layer), capture_activation(layer):
            assert not layer.weight.requires_grad and len(layer._forward_hooks) == 1
            raise KeyError("x")
    assert layer.weight.requires_grad and len(layer._forward_hooks) == 0


def _tensor_count() -> int:
    gc.collect()
    with warnings.catch_warnings():  # isinstance() on some deprecated torch objects warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def test_thousand_calls_do_not_grow_hooks_or_memory() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
    x = torch.randn(1, 1, 8, 8)
    for _ in range(10):
        gradcam(model, x, "0", 1)
    hooks, tensors = _hook_count(model), _tensor_count()
    for _ in range(1000):
        gradcam(model, x, "0", 1)
    assert _hook_count(model) == hooks == 0
    assert _tensor_count() <= tensors + 5
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


class KneeNet(nn.Module):
    """MRNet-style: a CNN per slice, a bidirectional LSTM over the slices, one exam-level output."""

    def __init__(self, labels: int = 3) -> None:
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.ReLU(),
                                 nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.lstm = nn.LSTM(8, 6, batch_first=True, bidirectional=True)
        self.head = nn.Linear(12, labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (S, 1, H, W), one plane of one exam
        features = self.pool(self.cnn(x)).flatten(1)  # (S, 8)
        sequence, _ = self.lstm(features[None])  # (1, S, 12)
        return self.head(sequence.max(dim=1).values)  # (1, labels)


def test_knee_sequence_per_slice_maps_and_importance() -> None:
    torch.manual_seed(4)
    model = KneeNet().eval()
    slices, size, signal = 7, 24, 4
    g = torch.Generator().manual_seed(5)
    x = 0.05 * torch.rand(slices, 1, size, size, generator=g)
    x[signal, :, 6:14, 10:18] += 4.0
    blank = x.clone()
    blank[signal] = 0.05 * torch.rand(1, size, size, generator=g)
    with torch.no_grad():
        change = model(x)[0] - model(blank)[0]
    label = int(change.abs().argmax())
    sign = float(torch.sign(change[label]))  # the direction in which the signal moves the score
    maps, importance = gradcam(model, x, "cnn", lambda out: sign * out[0, label], return_importance=True)
    assert maps.shape == (slices, size, size) and importance.shape == (slices,)
    assert int(importance.argmax()) == signal
    assert importance[signal] > 5 * importance.abs()[torch.arange(slices) != signal].max()
    assert maps[signal].sum() > maps[torch.arange(slices) != signal].sum(dim=(1, 2)).max()


def test_classic_cam_matches_gradcam_for_gap_linear_head() -> None:
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(6, 2)).eval()
    x = torch.randn(2, 1, 16, 16)
    classic = cam(model, x, "1", model[4].weight, 1, relu=False)
    # For GAP + linear, Grad-CAM weights are W[target] / (h*w): the maps are proportional
    grad = gradcam(model, x, "1", 1, relu=False)
    torch.testing.assert_close(grad * 16 * 16, classic, rtol=1e-4, atol=1e-5)

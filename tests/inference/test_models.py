"""Architectures: the seed backbones build offline and run; the 1-channel conv is the RGB mean."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from inference import recipes
from inference.explain.base import resolve_layer
from inference.models import build_model, one_channel_conv
from inference.models.backbones import build_backbone


def test_one_channel_conv_is_exact_rgb_mean() -> None:
    torch.manual_seed(0)
    conv3 = nn.Conv2d(3, 8, 3, padding=1)
    conv1 = one_channel_conv(conv3)
    assert conv1.in_channels == 1
    torch.testing.assert_close(conv1.weight, conv3.weight.mean(1, keepdim=True))
    g = torch.randn(2, 1, 12, 12)
    # a grey image fed as (g, g, g) gives 3x the mean-kernel response (bias aside)
    torch.testing.assert_close(conv3(g.repeat(1, 3, 1, 1)) - conv3.bias.view(1, -1, 1, 1),
                               3 * (conv1(g) - conv1.bias.view(1, -1, 1, 1)), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("task,backbone,size", [("tumour", "vgg16", 32), ("contrast", "resnet50", 32),
                                                ("ct-lesion", "vgg-narrow", 32)])
def test_seed_architectures_forward(task: str, backbone: str, size: int) -> None:
    classes = recipes.CLASSES[task]
    model = build_model(task, recipes.architecture_block(task, backbone), classes).eval()
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 1
    with torch.no_grad():
        out = model(torch.randn(2, 1, size, size))
    assert out.shape == (2, len(classes))
    layer = resolve_layer(model, model.target_layer)
    assert isinstance(layer, (nn.Conv2d, nn.Sequential, nn.ReLU))


def test_vgg16_target_is_last_conv() -> None:
    model = build_model("tumour", recipes.architecture_block("tumour", "vgg16"), recipes.CLASSES["tumour"])
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert model.target_layer == convs[-1] == "backbone.28"
    assert isinstance(model.fc, nn.Linear) and model.fc.out_features == 2


def test_contrast_head_and_freeze() -> None:
    arch = {"backbone": "resnet18", "head": {"hidden": 1024, "dropout": 0.5, "freeze": 5}}
    model = build_model("contrast", arch, recipes.CLASSES["contrast"])
    assert model.head[0].out_features == 1024 and isinstance(model.head[2], nn.Dropout)
    assert model.target_layer == "backbone.layer4"
    frozen = [n for n, p in model.backbone.named_parameters() if not p.requires_grad]
    assert any(n.startswith("conv1") for n in frozen) and any(n.startswith("layer1") for n in frozen)
    assert all(p.requires_grad for n, p in model.backbone.named_parameters() if n.startswith("layer2"))


@pytest.mark.slow
def test_knee_seed_resnet18_lstm_any_plane_subset() -> None:
    model = build_model("knee", recipes.architecture_block("knee", "resnet18"),
                        recipes.CLASSES["knee"]).eval()
    exam = {p: torch.randn(1, 3, 1, 32, 32) for p in ("sagittal", "coronal", "axial")}
    with torch.no_grad():
        assert model(exam).shape == (1, 3)
        assert model({"coronal": exam["coronal"]}).shape == (1, 3)
    assert isinstance(model.planes["sagittal"].lstm, nn.LSTM) and model.planes["sagittal"].lstm.bidirectional


def test_knee_fusion_is_logistic_regression_over_used_planes() -> None:
    model = build_model("knee", recipes.architecture_block("knee", "vgg-narrow"),
                        recipes.CLASSES["knee"]).eval()
    model.set_fusion([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5], [0.0, 1.0, -1.0]], [0.1, -0.2, 0.3])
    exam = {p: torch.randn(1, 4, 1, 32, 32) for p in ("sagittal", "axial")}
    with torch.no_grad():
        logits = model.plane_logits(exam)
        fused, contrib = model.fuse(logits)
    expected = torch.tensor([0.1, -0.2, 0.3]) + torch.tensor([1.0, 0.5, 0.0]) * logits["sagittal"] \
        + torch.tensor([3.0, 0.5, -1.0]) * logits["axial"]
    torch.testing.assert_close(fused, expected)
    assert set(contrib) == {"sagittal", "axial"}
    assert "fusion_weight" in model.state_dict()
    with pytest.raises(ValueError, match="plane"):
        model.plane_logits({"oblique": torch.randn(1, 2, 1, 32, 32)})


def test_unknown_backbone_and_task() -> None:
    with pytest.raises(ValueError, match="backbone"):
        build_backbone("alexnet")
    with pytest.raises(ValueError, match="task"):
        build_model("lungs", {"backbone": "vgg-narrow"}, ("a", "b"))


def test_vgg_narrow_grid_and_widths() -> None:
    bb = build_backbone("vgg-narrow", widths=[8, 16, 24], convs=[1, 2, 1])
    assert bb.channels == 24
    with torch.no_grad():
        assert bb.module(torch.randn(1, 1, 96, 96)).shape == (1, 24, 24, 24)


def test_pooling_options_and_norms() -> None:
    for task in ("tumour", "ct-lesion"):
        m = build_model(task, {"backbone": "vgg-narrow", "backbone_options": {"widths": [4, 8]},
                               "head": {"pool": "max"}}, recipes.CLASSES[task])
        assert isinstance(m.pool, nn.AdaptiveMaxPool2d)
    with pytest.raises(ValueError, match="pooling"):
        build_model("tumour", {"backbone": "vgg-narrow", "head": {"pool": "median"}}, ("a", "b"))
    gn = build_backbone("vgg-narrow", widths=[8, 8], convs=[1, 1], norm="group")
    assert any(isinstance(m, nn.GroupNorm) for m in gn.module.modules())
    with pytest.raises(ValueError, match="norm"):
        build_backbone("vgg-narrow", norm="layer")

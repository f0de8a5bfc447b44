"""Occlusion against Captum, the blurred-patch baseline on a lesion phantom, progressive passes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inference.explain.base import gaussian_blur
from inference.explain.occlusion import OcclusionStep, iter_occlusion, occlusion, window_starts

captum_attr = pytest.importorskip("captum.attr")


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.double().flatten().numpy(), b.double().flatten().numpy())[0, 1])


class Counting:
    """Wraps a forward function and counts the images it scored."""

    def __init__(self, fn) -> None:
        self.fn, self.images, self.calls = fn, 0, 0

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        self.images += batch.shape[0]
        self.calls += 1
        return self.fn(batch)


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None, num_classes=2).eval()


@pytest.fixture(scope="module")
def small() -> nn.Module:
    """A tiny CNN: the progressive/batching/cancellation tests need many cheap forward passes."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 5, stride=2), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, stride=2),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 2)).eval()


def _captum(forward, x, target, patch, stride, baselines, batch=16) -> torch.Tensor:
    c = x.shape[1]
    attr = captum_attr.Occlusion(forward).attribute(
        x, sliding_window_shapes=(c, patch, patch), strides=(c, stride, stride),
        baselines=baselines, target=target, perturbations_per_eval=batch)
    return attr[0, 0].detach()  # the window spans all channels: every channel holds the same map


@pytest.mark.parametrize(("size", "patch", "stride", "baseline"), [
    (64, 16, 8, 0.0),     # windows fit exactly
    (60, 16, 12, 0.5),    # the last window is clipped at the edge
    (50, 20, 20, -1.0),   # non-overlapping, clipped
])
def test_matches_captum_with_constant_baseline(resnet, size, patch, stride, baseline) -> None:
    torch.manual_seed(size)
    x = torch.randn(1, 3, size, size)
    ours = occlusion(resnet, x, 1, patch=patch, stride=stride, baseline=baseline, batch_size=16)
    ref = _captum(resnet, x, 1, patch, stride, baseline)
    assert ours.shape == (size, size) and ours.dtype == torch.float32
    assert pearson(ours, ref) >= 0.99
    torch.testing.assert_close(ours, ref.float(), rtol=1e-3, atol=1e-5)


def test_named_baselines_match_captum(small) -> None:
    torch.manual_seed(1)
    x = torch.randn(1, 3, 48, 48) + 0.3
    torch.testing.assert_close(occlusion(small, x, 0, patch=16, stride=8, baseline="zero"),
                               _captum(small, x, 0, 16, 8, 0.0), rtol=1e-3, atol=1e-5)
    mean = x.mean(dim=(2, 3), keepdim=True).expand_as(x).contiguous()
    torch.testing.assert_close(occlusion(small, x, 0, patch=16, stride=8, baseline="mean"),
                               _captum(small, x, 0, 16, 8, mean), rtol=1e-3, atol=1e-5)
    blurred = gaussian_blur(x, 5.0)
    torch.testing.assert_close(occlusion(small, x, 0, patch=16, stride=8, baseline="blur", blur_sigma=5.0),
                               _captum(small, x, 0, 16, 8, blurred), rtol=1e-3, atol=1e-5)


def test_window_starts_like_captum() -> None:
    assert window_starts(224, 16, 8) == list(range(0, 209, 8))
    assert window_starts(100, 16, 8)[-1] == 88  # clipped last window still covers the edge
    assert window_starts(10, 16, 8) == [0]
    with pytest.raises(ValueError, match="larger than the patch"):
        window_starts(64, 8, 16)


class RegionScore(nn.Module):
    """A 'lesion detector' with known evidence: score = how much brighter a region is than its
    blurred surroundings would be, i.e. the mean of the high-pass image in ROWS x COLS."""

    ROWS, COLS = slice(40, 56), slice(20, 36)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        region = x[:, 0, self.ROWS, self.COLS].mean(dim=(1, 2))
        return torch.stack([-region, region], dim=1)


def _lesion_phantom(size: int = 96) -> tuple[torch.Tensor, np.ndarray]:
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    tissue = 1.0 + 0.3 * torch.sin(yy / 7.0) * torch.cos(xx / 9.0)  # smooth anatomy, no detail
    lesion = ((yy - 48) ** 2 + (xx - 28) ** 2 <= 36).float()  # radius 6 px, inside the region
    x = (tissue + 1.5 * lesion)[None, None]
    return x, lesion.numpy().astype(bool)


def test_blur_baseline_finds_the_lesion() -> None:
    x, lesion = _lesion_phantom()
    heat = occlusion(RegionScore(), x, 1, patch=12, stride=4)
    y, xcol = np.unravel_index(int(heat.argmax()), heat.shape)
    assert lesion[y, xcol] or np.hypot(y - 48, xcol - 28) <= 8
    assert heat[RegionScore.ROWS, RegionScore.COLS].mean() > 5 * heat.abs().mean() / 2
    # far from the region the model does not look: zero attribution there
    assert float(heat[:, 60:].abs().max()) == 0.0


def test_blur_baseline_on_flat_image_gives_no_evidence() -> None:
    x = torch.full((1, 1, 64, 64), 2.5)
    heat = occlusion(RegionScore(), x, 1, patch=16, stride=8)
    assert float(heat.abs().max()) < 1e-5  # a blurred flat patch is the patch itself


def test_progressive_passes_and_final_map(small) -> None:
    torch.manual_seed(2)
    x = torch.randn(1, 3, 64, 64)
    forward = Counting(small)
    steps = list(iter_occlusion(forward, x, 1, passes=((32, 16), (16, 8)), baseline=0.0, batch_size=8))
    assert [s.pass_index for s in steps] == [0, 1]
    assert (steps[0].patch, steps[0].stride, steps[0].final) == (32, 16, False)
    assert (steps[1].patch, steps[1].stride, steps[1].final) == (16, 8, True)
    assert all(isinstance(s, OcclusionStep) and s.map.shape == (64, 64) for s in steps)
    assert steps[0].done == 9 and steps[1].done == steps[1].total == 9 + 49
    assert forward.images == 1 + 9 + 49
    torch.testing.assert_close(steps[1].map, occlusion(small, x, 1, patch=16, stride=8, baseline=0.0))
    torch.testing.assert_close(steps[0].map, occlusion(small, x, 1, patch=32, stride=16, baseline=0.0))


def test_later_pass_reuses_windows_of_the_same_patch(small) -> None:
    torch.manual_seed(3)
    x = torch.randn(1, 3, 64, 64)
    forward = Counting(small)
    steps = list(iter_occlusion(forward, x, 0, passes=((16, 16), (16, 8)), batch_size=64))
    assert forward.images == 1 + 49  # the 16 windows of the first pass are part of the second
    torch.testing.assert_close(steps[-1].map, occlusion(small, x, 0, patch=16, stride=8))


def test_batch_size_does_not_change_the_map(small) -> None:
    torch.manual_seed(4)
    x = torch.randn(1, 3, 48, 48)
    a = occlusion(small, x, 1, patch=16, stride=8, batch_size=1)
    b = occlusion(small, x, 1, patch=16, stride=8, batch_size=7)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_cancellation_stops_between_batches(small) -> None:
    x = torch.randn(1, 3, 64, 64)
    forward = Counting(small)
    polls = {"n": 0}

    def cancelled() -> bool:
        polls["n"] += 1
        return forward.calls >= 3  # original + 2 of the 3 coarse batches

    steps = list(iter_occlusion(forward, x, 1, batch_size=4, cancelled=cancelled))
    assert forward.calls == 3 and steps == [] and polls["n"] >= 3
    # cancelling after the coarse map keeps it and stops before the fine pass
    forward = Counting(small)
    seen: list[OcclusionStep] = []
    gen = iter_occlusion(forward, x, 1, batch_size=4, cancelled=lambda: bool(seen))
    for step in gen:
        seen.append(step)
    assert len(seen) == 1 and not seen[0].final and forward.images == 1 + 9


def test_adaptive_refines_only_where_the_coarse_map_is_high() -> None:
    x, lesion = _lesion_phantom()
    forward = Counting(RegionScore())
    steps = list(iter_occlusion(forward, x, 1, passes=((24, 12), (12, 6)), refine="adaptive",
                                adaptive_fraction=0.25))
    coarse_windows, fine_windows = len(window_starts(96, 24, 12)) ** 2, len(window_starts(96, 12, 6)) ** 2
    assert forward.images == 1 + coarse_windows + int(np.ceil(0.25 * fine_windows))
    assert steps[-1].total == steps[-1].done == forward.images - 1 and steps[-1].final
    full = occlusion(RegionScore(), x, 1, patch=12, stride=6)
    assert pearson(steps[-1].map, full) > 0.9
    y, xcol = np.unravel_index(int(steps[-1].map.argmax()), (96, 96))
    assert np.hypot(y - 48, xcol - 28) <= 12


def test_errors_are_clear(resnet) -> None:
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):
        occlusion(resnet, torch.zeros(2, 3, 32, 32), 0)
    with pytest.raises(ValueError, match="refine"):
        list(iter_occlusion(resnet, torch.zeros(1, 3, 32, 32), 0, refine="fast"))
    with pytest.raises(ValueError, match="baseline"):
        occlusion(resnet, torch.zeros(1, 3, 32, 32), 0, baseline="noise")
    with pytest.raises(ValueError, match="class 7"):
        occlusion(resnet, torch.zeros(1, 3, 32, 32), 7)


# ------------------------------------------------------- BN-folded inference forward (fast_forward)
def test_fast_forward_folds_batchnorm_without_touching_the_module(resnet) -> None:
    from inference.explain.fast_forward import fast_forward, fast_forward_info

    before = {k: v.clone() for k, v in resnet.state_dict().items()}
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in resnet.modules())
    net = fast_forward(resnet)
    info = fast_forward_info(resnet)
    assert info.fused and info.pairs == n_bn == 20 and net is not resnet
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert fast_forward(resnet) is net  # cached
    torch.manual_seed(5)
    x = torch.randn(4, 3, 64, 64)
    with torch.inference_mode():
        torch.testing.assert_close(net(x), resnet(x), rtol=1e-4, atol=1e-4)
    after = resnet.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in resnet.modules()) == n_bn and not resnet.training


def test_fast_forward_occlusion_map_equals_the_plain_module(resnet) -> None:
    from inference.explain.fast_forward import fast_forward

    torch.manual_seed(6)
    x = torch.randn(1, 3, 64, 64)
    fused = occlusion(fast_forward(resnet), x, 1, patch=16, stride=8, baseline=0.0, batch_size=16)
    plain = occlusion(resnet, x, 1, patch=16, stride=8, baseline=0.0, batch_size=16)
    torch.testing.assert_close(fused, plain, rtol=1e-3, atol=1e-5)
    assert pearson(fused, _captum(resnet, x, 1, 16, 8, 0.0)) >= 0.99


def test_fast_forward_rebuilds_after_weights_change_and_skips_training_mode() -> None:
    from inference.explain.fast_forward import fast_forward, fast_forward_info

    torch.manual_seed(7)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    x = torch.randn(2, 1, 8, 8)
    net(x)
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    net.eval()
    first = fast_forward(net)
    with torch.no_grad():
        net[0].weight.mul_(-2.0)  # in-place update: the fused copy must follow
        net[1].bias.add_(0.5)
    second = fast_forward(net)
    assert second is not first
    with torch.inference_mode():
        torch.testing.assert_close(second(x), net(x), rtol=1e-4, atol=1e-5)
        assert not torch.allclose(first(x), net(x), atol=1e-3)
    net.train()
    assert fast_forward(net) is net and "training" in fast_forward_info(net).reason
    net.eval()


class Branchy(nn.Module):
    """Data-dependent control flow: torch.fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.conv(x)).mean(dim=(2, 3))
        return y if bool(y.sum() > 0) else -y


def test_fast_forward_falls_back_to_the_module_when_untraceable() -> None:
    from inference.explain.fast_forward import fast_forward, fast_forward_info

    net = Branchy().eval()
    assert fast_forward(net) is net
    info = fast_forward_info(net)
    assert not info.fused and "trace" in info.reason


def test_classifier_scores_use_the_fused_copy(small, monkeypatch) -> None:
    from inference import predict
    from inference.explain import fast_forward as ff

    served: list[object] = []

    def spy(module):
        served.append(ff.fast_forward_info(module))
        return real(module)

    real = ff.fast_forward
    monkeypatch.setattr(ff, "fast_forward", spy)
    clf = predict.Classifier.__new__(predict.Classifier)  # no manifest needed: wrap the module
    clf.module, clf.device = small, torch.device("cpu")
    x = torch.randn(3, 3, 48, 48)
    with torch.inference_mode():
        z = clf.forward_scores()(x)
        p = clf.forward_probs()(x)
        ref = small(x)
    assert len(served) == 2 and all(info.fused and info.pairs == 1 for info in served)
    torch.testing.assert_close(p, torch.softmax(ref, -1), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(z, ref - ref.flip(-1), rtol=1e-4, atol=1e-4)  # 2 classes: z_k - z_other


def test_fast_forward_uses_the_real_module_while_it_has_hooks(small) -> None:
    import gc
    import weakref

    from inference.explain.fast_forward import fast_forward, fast_forward_info

    handle = small[0].register_forward_hook(lambda *a: None)
    try:
        assert fast_forward(small) is small and "hooks" in fast_forward_info(small).reason
    finally:
        handle.remove()
    assert fast_forward(small) is not small
    # the cache does not keep a module alive, even when it serves the module itself
    net = Branchy().eval()
    assert fast_forward(net) is net
    ref = weakref.ref(net)
    del net
    gc.collect()
    assert ref() is None


def test_smoothing_turns_stride_blocks_into_ramps_within_their_range() -> None:
    """Captum's map is constant on stride-sized blocks; smoothed to its stride it has no step
    larger than one block difference / stride between neighbours, keeps its value range, and
    equals bilinear interpolation of the block values between block centres."""
    from inference.explain.occlusion import smooth_to_stride

    blocks = torch.tensor([[0.0, 1.0, 0.0], [2.0, 4.0, 1.0], [0.0, 1.0, 0.0]])
    stride = 6
    m = blocks.repeat_interleave(stride, 0).repeat_interleave(stride, 1)   # 18 x 18 squares
    s = smooth_to_stride(m, stride)
    assert s.shape == m.shape
    assert float(s.min()) >= float(m.min()) and float(s.max()) <= float(m.max())
    step_raw = float((m[:, 1:] - m[:, :-1]).abs().max())
    step = float((s[:, 1:] - s[:, :-1]).abs().max())
    assert step_raw == 3.0 and step <= step_raw / stride + 1e-6
    # between the centres of blocks (1, 0) and (1, 1), along row 8 (block centres at x = 2.5, 8.5)
    row = s[8, 3:9]
    assert torch.allclose(row[1:] - row[:-1], torch.full((5,), (4.0 - 2.0) / stride), atol=1e-5)
    assert smooth_to_stride(m, 1) is m


def test_classifier_occlusion_is_smooth_by_default_and_raw_on_request() -> None:
    from inference import load_model
    from inference.phantoms import brain_slice

    clf = load_model("contrast", device="cpu")
    img = brain_slice(3, 96).image
    raw = clf.explain(img, "occlusion", smooth=False).map
    smooth = clf.explain(img, "occlusion").map
    assert clf.explain(img, "occlusion").options["smooth"] is True
    jump = lambda a: float(np.abs(np.diff(a, axis=1)).max())  # noqa: E731
    assert jump(smooth) < 0.5 * jump(raw)
    assert abs(float(smooth.mean()) - float(raw.mean())) < 0.05 * float(np.abs(raw).max())


def test_occlusion_settings_scale_with_the_input_grid() -> None:
    """A model trained at another input size gets patches covering the same share of the field
    (same number of forward passes), not the shipped grid's pixel numbers."""
    from inference import recipes
    for task, size in recipes.EXPLAIN_SIZE.items():
        assert recipes.explain_settings(task, size) == recipes.EXPLAIN[task]
    doubled = recipes.explain_settings("ct-lesion", 2 * recipes.EXPLAIN_SIZE["ct-lesion"])["occlusion"]
    base = recipes.EXPLAIN["ct-lesion"]["occlusion"]
    assert doubled["passes"] == [[2 * p, 2 * s] for p, s in base["passes"]]
    assert doubled["blur_sigma"] == 2 * base["blur_sigma"]
    assert doubled["refine"] == "adaptive" and "refine" not in base    # a costlier grid refines
    assert recipes.explain_settings("knee", 32)["occlusion"] == {"patch": 8, "stride": 4}
    assert recipes.EXPLAIN["ct-lesion"]["occlusion"] == base    # the table itself is not changed

"""Slice -> model tensor and the inverse mapping of model-grid maps back onto slice pixels."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inference.preprocess import normalise, plan_geometry, to_slice, to_tensor

SPEC = {"size": 128, "normalisation": {"kind": "window", "center": 0.5, "width": 1.0}}


def _marker(shape, centre, half):
    img = np.zeros(shape, np.float32)
    y, x = centre
    img[max(0, y - half):y + half + 1, max(0, x - half):x + half + 1] = 1.0
    return img


def _centroid(a):
    a = np.clip(a, 0, None)
    ys, xs = np.indices(a.shape)
    return (a * ys).sum() / a.sum(), (a * xs).sum() / a.sum()


@pytest.mark.parametrize("shape,centre,half", [((64, 28), (20, 19), 1), ((560, 560), (150, 410), 6),
                                               ((28, 64), (7, 50), 1), ((300, 141), (250, 30), 3)])
def test_full_resolution_map_comes_back_in_place(shape, centre, half) -> None:
    img = _marker(shape, centre, half)
    x, geom = to_tensor(img, SPEC)
    assert x.shape == (1, 128, 128)
    back = to_slice(x[0], geom)
    assert back.shape == shape
    cy, cx = _centroid(back - back.min())
    assert abs(cy - centre[0]) <= 1.0 and abs(cx - centre[1]) <= 1.0


@pytest.mark.parametrize("shape,centre", [((64, 28), (40, 8)), ((560, 560), (100, 300))])
def test_coarse_grid_map_lines_up(shape, centre) -> None:
    img = _marker(shape, centre, max(1, shape[0] // 64))
    x, geom = to_tensor(img, SPEC)
    coarse = F.avg_pool2d(x[None], 8)[0, 0]          # a 16 x 16 "CAM" grid
    back = to_slice(coarse, geom)
    y, xx = np.unravel_index(np.argmax(back), back.shape)
    cell = max(shape) / 16                               # one grid cell in slice pixels
    assert abs(y - centre[0]) <= cell and abs(xx - centre[1]) <= cell


def test_aspect_ratio_kept_and_padding_centred() -> None:
    g = plan_geometry((64, 28), 128)
    assert g.content == (128, 56) and g.offset == (0, 36)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.size = 3  # type: ignore[misc]


def test_pixel_spacing_makes_pixels_square() -> None:
    g = plan_geometry((100, 100), 128, spacing=(2.0, 1.0))   # rows 2 mm, columns 1 mm
    assert g.content == (128, 64)
    img = _marker((100, 100), (30, 70), 2)
    x, geom = to_tensor(img, SPEC, spacing=(2.0, 1.0))
    cy, cx = _centroid(to_slice(x[0], geom) - 0)
    assert abs(cy - 30) <= 1.0 and abs(cx - 70) <= 1.0


def test_window_and_percentile_normalisation() -> None:
    hu = np.array([[-1000.0, -160.0], [40.0, 240.0]], np.float32)
    out = normalise(hu, {"normalisation": {"kind": "window", "center": 40, "width": 400}})
    np.testing.assert_allclose(out, [[0, 0], [0.5, 1.0]])
    mr = np.linspace(0, 1000, 10000, dtype=np.float32).reshape(100, 100)
    out = normalise(mr, {"normalisation": {"kind": "percentile", "low": 1, "high": 99}})
    assert out.min() == 0 and out.max() == 1
    assert np.all(normalise(np.full((20, 20), 7.0), {"normalisation": {"kind": "percentile"}}) == 0)


def test_to_slice_rejects_non_2d() -> None:
    g = plan_geometry((32, 32), 64)
    with pytest.raises(ValueError):
        to_slice(torch.zeros(1, 4, 4), g)


@pytest.mark.parametrize("task", ["contrast", "ct-lesion"])
def test_one_percentile_pass_gives_the_inputs_and_reasons_of_separate_passes(task) -> None:
    """prepare_input shares one np.percentile call between the domain check and the
    normalisation: the tensor and the reasons equal those of the separate calls."""
    from inference.classifier import finite_image, prepare_input
    from inference.domain import domain_reasons
    from inference.registry import get_spec

    spec = get_spec(task)
    rng = np.random.default_rng(3)
    images = [rng.normal(300, 120, (200, 180)).astype(np.float32),
              rng.integers(-1024, 1500, (128, 128)).astype(np.int16),
              np.where(rng.random((96, 96)) < 0.01, np.nan, rng.random((96, 96))).astype(np.float32)]
    for image in images:
        x, geom, _, domain = prepare_input(spec, image, (0.8, 1.0), "MR", "axial")
        old_x, old_geom = to_tensor(finite_image(image), spec.input, (0.8, 1.0))
        assert torch.equal(x, old_x) and geom == old_geom
        reasons, notes = domain_reasons(spec, image, "MR", "axial")
        assert domain == (reasons, notes)


def test_input_smoothing_is_a_gaussian_of_the_placed_image_and_absent_by_default() -> None:
    from scipy import ndimage as ndi

    from inference.preprocess import stack_to_tensor
    rng = np.random.default_rng(3)
    img = rng.random((128, 128)).astype(np.float32)
    plain, _ = to_tensor(img, SPEC)
    assert torch.equal(plain, to_tensor(img, {**SPEC, "smooth": 0})[0])
    soft, _ = to_tensor(img, {**SPEC, "smooth": 0.8})
    expect = ndi.gaussian_filter(plain[0].numpy(), 0.8, mode="nearest", truncate=3.75)  # radius 3
    assert np.allclose(soft[0].numpy(), expect, atol=1e-4)   # scipy as the oracle
    assert soft.std() < 0.6 * plain.std()                    # white noise loses most of its power
    stack, _, _ = stack_to_tensor(np.stack([img, img]), {**SPEC, "n_slices": 2, "smooth": 0.8}, 2)
    assert np.allclose(stack[0, 0].numpy(), soft[0].numpy(), atol=1e-5)   # the same rule for exams


@pytest.mark.parametrize(("mode", "scipy_mode"), [("replicate", "nearest"), ("reflect", "mirror")])
def test_blur_matches_scipy_for_both_edge_modes_and_wide_kernels(mode: str, scipy_mode: str) -> None:
    """One Gaussian serves the input low-pass (replicate) and the maps' blur baseline (reflect,
    torch's whole-sample mirror, scipy's "mirror"); a kernel wider than the image replicates."""
    from scipy import ndimage as ndi

    from inference.explain.base import gaussian_blur
    from inference.preprocess import blur
    rng = np.random.default_rng(5)
    img = rng.random((2, 1, 24, 17)).astype(np.float32)
    for sigma in (0.6, 2.0):  # radius 2 and 6, both narrower than the image
        got = blur(torch.from_numpy(img), sigma, mode=mode).numpy()
        truncate = np.ceil(3 * sigma) / sigma
        expect = ndi.gaussian_filter(img, (0, 0, sigma, sigma), mode=scipy_mode, truncate=truncate)
        assert np.allclose(got, expect, atol=1e-5)
    per_image = blur(torch.from_numpy(img), torch.tensor([0.6, 2.0]), mode=mode).numpy()
    assert np.allclose(per_image[1], blur(torch.from_numpy(img[1:]), 2.0, mode=mode).numpy()[0], atol=1e-6)
    wide = blur(torch.from_numpy(img), 8.0, mode=mode).numpy()     # radius 24 >= 17 columns
    expect = ndi.gaussian_filter(img, (0, 0, 8.0, 8.0), mode="nearest", truncate=3.0)
    assert np.allclose(wide, expect, atol=1e-5)
    reflect = gaussian_blur(torch.from_numpy(img), 2.0).numpy()
    assert np.allclose(reflect, blur(torch.from_numpy(img), 2.0, mode="reflect").numpy())

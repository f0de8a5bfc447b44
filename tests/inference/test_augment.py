"""Training augmentations: shapes, value range, reproducibility, and that they change appearance
without moving the picture's content out of the frame."""
import pytest
import torch

from inference import recipes
from inference.augment import (
    KINDS,
    NEEDS_REGIONS,
    as_trained,
    augment,
    feathered,
    random_conv,
    regional_sharpness,
    sharpness_only,
)
from inference.preprocess import blur, to_tensor

MEAN, STD = 0.5, 0.25


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    spec = recipes.input_block("tumour", 96, 0)
    return torch.stack([to_tensor(recipes.phantom_sample("tumour", s, 96, generator="varied").image,
                                  spec)[0] for s in range(8)])


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in NEEDS_REGIONS])
def test_shape_range_and_seed(batch, kind):
    a = augment(kind, batch, torch.Generator().manual_seed(3), MEAN, STD)
    b = augment(kind, batch, torch.Generator().manual_seed(3), MEAN, STD)
    assert a.shape == batch.shape and a.dtype == batch.dtype
    assert torch.equal(a, b)                                   # same generator, same batch
    u = a * STD + MEAN
    assert float(u.min()) >= -1e-6 and float(u.max()) <= 1 + 1e-6


def test_appearance_changes_grey_levels_but_keeps_the_head(batch):
    gen = torch.Generator().manual_seed(0)
    a = augment("appearance", batch, gen, MEAN, STD)
    u0, u1 = batch * STD + MEAN, a * STD + MEAN
    changed = (u1 - u0).abs().flatten(1).mean(1)
    assert int((changed > 0.01).sum()) >= 6                    # most images look different
    # the head stays in the frame: its area (pixels above background) changes by < 40 %
    area0 = (u0 > 0.1).flatten(1).float().sum(1)
    area1 = (u1 > 0.1).flatten(1).float().sum(1)
    assert torch.all((area1 / area0 - 1).abs() < 0.4)


def test_basic_only_flips_and_shifts(batch):
    a = augment("basic", batch, torch.Generator().manual_seed(1))
    assert sorted(a.flatten().tolist()) == sorted(batch.flatten().tolist())


def _edge_energy(u: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels, per image."""
    return (u[..., 1:, :] - u[..., :-1, :]).abs().flatten(1).mean(1)


def test_sharpness_blurs_or_sharpens_about_as_often_as_it_says(batch):
    """Per image, whatever the label: blurred about 45 %, edge-enhanced 25 %, left 30 %; the
    blurred ones are the Gaussian of their sigma (same code as every other blur here)."""
    many = batch.repeat(40, 1, 1, 1)                            # 320 images
    out = sharpness_only(many, torch.Generator().manual_seed(5), MEAN, STD)
    ratio = _edge_energy(out) / _edge_energy(many)
    softer, sharper = float((ratio < 0.97).float().mean()), float((ratio > 1.03).float().mean())
    same = float((out - many).abs().flatten(1).amax(1).lt(1e-6).float().mean())
    assert 0.35 < softer < 0.55 and 0.17 < sharper < 0.33 and 0.2 < same < 0.4
    # a blurred image is a plain Gaussian blur of it, clipped to [0, 1] like any other
    u, v = many * STD + MEAN, out * STD + MEAN
    k = int(torch.nonzero(ratio < 0.9)[0])
    errs = [float((blur(u[k:k + 1], s) - v[k:k + 1]).abs().max()) for s in torch.linspace(0.3, 1.6, 131)]
    assert min(errs) < 2e-3


def test_random_conv_remaps_grey_levels_in_about_half_and_leaves_air_dark(batch):
    """``random-conv`` changes about half of the images' grey levels (p 0.5), the same ones for the
    same generator; air farther from the head than the net's reach (7 px) stays black, so no
    image gains a glowing background; with p 0 nothing changes."""
    u = (batch.repeat(20, 1, 1, 1) * STD + MEAN).clamp(0, 1)           # 160 images
    u = torch.nn.functional.pad(u, (12, 12, 12, 12))      # the phantoms' air has noise: add black air
    out = random_conv(u, torch.Generator().manual_seed(2))
    changed = (out - u).abs().flatten(1).amax(1) > 1e-4
    assert 0.35 < float(changed.float().mean()) < 0.65
    assert torch.equal(out, random_conv(u, torch.Generator().manual_seed(2)))
    far_air = torch.nn.functional.max_pool2d((u > 0).float(), 7, stride=1, padding=3) == 0
    assert far_air.any() and float(out[far_air].abs().max()) == 0.0
    # the changed images are not just brighter or darker: their tissues' order changes somewhere
    k = int(torch.nonzero(changed)[0])
    assert float(torch.corrcoef(torch.stack([u[k].flatten(), out[k].flatten()]))[0, 1]) < 0.999
    assert torch.equal(random_conv(u, torch.Generator().manual_seed(2), p=0.0), u)


def test_domain_fit_sees_what_training_changed(batch):
    """The out-of-distribution fit (``as_trained``) gets the sharpness changes of a model trained
    with them, the same ones every time; other kinds and knee stacks are left as they are."""
    a = as_trained("sharpness", batch, MEAN, STD)
    assert torch.equal(a, as_trained("sharpness", batch, MEAN, STD)) and not torch.equal(a, batch)
    assert as_trained("basic", batch, MEAN, STD) is batch
    assert as_trained("appearance", batch, MEAN, STD) is batch
    stacks = {"sagittal": batch}
    assert as_trained("sharpness", stacks, MEAN, STD) is stacks


def _disk(n: int, size: int = 96, centre: tuple[int, int] = (30, 60), radius: int = 10) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    one = ((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2).float()
    return one.expand(n, 1, size, size).clone()


def test_regional_changes_a_region_and_its_surroundings_apart(batch):
    """With the split always on, the pixels well inside the region get one sharpness change and
    those well outside another, drawn independently: in some images the region is softened while
    the rest is not (a lesion softer than its surroundings), in others the reverse."""
    many = batch.repeat(20, 1, 1, 1)                            # 160 images
    region = _disk(len(many))
    w = feathered(region > 0.5)
    # grown by 2 px and feathered: full weight inside, a soft seam, nothing a few px outside
    assert float(w[0, 0, 30, 60]) == pytest.approx(1.0) and float(w[0, 0, 30, 77]) < 1e-6
    assert 0.0 < float(w[0, 0, 30, 72]) < 1.0
    out = regional_sharpness(many, w, torch.Generator().manual_seed(2), MEAN, STD, p=1.0)
    again = regional_sharpness(many, w, torch.Generator().manual_seed(2), MEAN, STD, p=1.0)
    assert torch.equal(out, again)
    u, v = many * STD + MEAN, out * STD + MEAN
    assert float(v.min()) >= -1e-6 and float(v.max()) <= 1 + 1e-6
    inside = (slice(None), 0, slice(24, 37), slice(54, 67))
    outside = (slice(None), 0, slice(60, 90), slice(10, 40))
    changed_in = (v[inside] - u[inside]).abs().flatten(1).amax(1) > 1e-6
    changed_out = (v[outside] - u[outside]).abs().flatten(1).amax(1) > 1e-6
    assert int((changed_in & ~changed_out).sum()) >= 10 and int((changed_out & ~changed_in).sum()) >= 10
    # without the split the whole slice gets one change, as with --augment sharpness
    whole = regional_sharpness(many, w, torch.Generator().manual_seed(2), MEAN, STD, p=0.0)
    same_in = (whole[inside] - many[inside]).abs().flatten(1).amax(1) < 1e-6
    same_out = (whole[outside] - many[outside]).abs().flatten(1).amax(1) < 1e-6
    assert torch.equal(same_in, same_out)


def test_regional_needs_regions():
    with pytest.raises(ValueError, match="needs each image's region"):
        augment("regional", torch.zeros(1, 1, 8, 8), torch.Generator())


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment("colour", torch.zeros(1, 1, 8, 8), torch.Generator())

"""Training augmentations: shapes, value range, reproducibility, and that they change appearance
without moving the picture's content out of the frame."""
import pytest
import torch

from inference import recipes
from inference.augment import KINDS, augment
from inference.preprocess import to_tensor

MEAN, STD = 0.5, 0.25


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    spec = recipes.input_block("tumour", 96, 0)
    return torch.stack([to_tensor(recipes.phantom_sample("tumour", s, 96, generator="varied").image,
                                  spec)[0] for s in range(8)])


@pytest.mark.parametrize("kind", KINDS)
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


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment("colour", torch.zeros(1, 1, 8, 8), torch.Generator())

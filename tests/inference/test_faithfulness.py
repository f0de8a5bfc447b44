"""Deletion/insertion AUC, pointing game, energy in mask, and the model-randomisation sanity check."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inference.explain.faithfulness import deletion_auc, energy_in_mask, insertion_auc, pointing_game
from inference.explain.sanity import randomised_copy, rank_correlation


class LesionProbability(nn.Module):
    """Probability of 'lesion' = sigmoid of how bright the lesion area is; class 0 is its complement."""

    def __init__(self, mask: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        brightness = (x[:, 0] * self.mask).sum(dim=(1, 2)) / self.mask.sum()
        p = torch.sigmoid(8.0 * (brightness - 2.0))
        return torch.stack([1 - p, p], dim=1)


def _phantom(size: int = 64) -> tuple[torch.Tensor, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    mask = (yy - 20) ** 2 + (xx - 40) ** 2 <= 49
    image = 1.0 + 0.1 * np.sin(yy / 5.0) + 1.5 * mask
    return torch.as_tensor(image, dtype=torch.float32)[None, None], mask


@pytest.mark.parametrize("baseline", ["blur", "zero", 0.5])
def test_true_region_beats_random_maps(baseline) -> None:
    x, mask = _phantom()
    model = LesionProbability(mask)
    truth = mask.astype(np.float32) + 0.01 * np.random.default_rng(0).random(mask.shape)
    rng = np.random.default_rng(1)
    for _ in range(3):
        random_map = rng.random(mask.shape)
        deletion_truth = deletion_auc(model, x, truth, 1, baseline=baseline)
        deletion_random = deletion_auc(model, x, random_map, 1, baseline=baseline)
        assert deletion_truth < 0.5 * deletion_random
        insertion_truth = insertion_auc(model, x, truth, 1, baseline=baseline)
        insertion_random = insertion_auc(model, x, random_map, 1, baseline=baseline)
        assert insertion_truth > insertion_random + 0.2 and insertion_truth > 0.9


def test_auc_range_steps_and_batching() -> None:
    x, mask = _phantom()
    model = LesionProbability(mask)
    saliency = torch.as_tensor(mask, dtype=torch.float32)
    a = deletion_auc(model, x, saliency, 1, steps=16, batch_size=3)
    b = deletion_auc(model, x, saliency, 1, steps=16, batch_size=64)
    assert a == pytest.approx(b, abs=1e-6) and 0.0 <= a <= 1.0
    # a model whose probability never changes has AUC equal to that probability
    constant = lambda batch: torch.tensor([[0.3, 0.7]]).expand(batch.shape[0], 2)  # noqa: E731
    assert deletion_auc(constant, x, saliency, 1) == pytest.approx(0.7)
    assert insertion_auc(constant, x, saliency, 0) == pytest.approx(0.3)


def test_auc_rejects_wrong_shapes() -> None:
    x, mask = _phantom()
    model = LesionProbability(mask)
    with pytest.raises(ValueError, match="upsample"):
        deletion_auc(model, x, np.zeros((32, 32)), 1)
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):
        insertion_auc(model, x.expand(2, -1, -1, -1), mask, 1)


def test_pointing_game_with_tolerance() -> None:
    mask = np.zeros((100, 100), bool)
    mask[40:50, 40:50] = True
    sal = np.zeros((100, 100))
    sal[45, 45] = 1.0
    assert pointing_game(sal, mask)
    assert pointing_game(sal, mask, tolerance_px=0)
    sal = np.zeros((100, 100))
    sal[45, 59] = 1.0  # 10 px right of the mask's last column (49)
    assert pointing_game(torch.as_tensor(sal), mask, tolerance_px=15.0)
    assert pointing_game(sal, mask, tolerance_px=10.0)
    assert not pointing_game(sal, mask, tolerance_px=9.9)
    assert not pointing_game(sal, mask, tolerance_px=0)
    assert not pointing_game(np.zeros((100, 100)), mask)  # a flat map points nowhere
    with pytest.raises(ValueError, match="empty"):
        pointing_game(sal, np.zeros((100, 100), bool))
    with pytest.raises(ValueError, match="same shape"):
        pointing_game(sal, mask[:50])


def test_energy_in_mask() -> None:
    mask = np.zeros((10, 10), bool)
    mask[:5] = True
    assert energy_in_mask(mask.astype(float), mask) == pytest.approx(1.0)
    sal = np.ones((10, 10))
    assert energy_in_mask(sal, mask) == pytest.approx(0.5)
    sal[5:] = -3.0  # negative evidence outside does not count
    assert energy_in_mask(sal, mask) == pytest.approx(1.0)
    sal[:5] = 1.0
    sal[5:] = 3.0
    assert energy_in_mask(torch.as_tensor(sal), mask) == pytest.approx(0.25)
    assert energy_in_mask(-np.ones((10, 10)), mask) == 0.0


def test_rank_correlation() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((12, 12))
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, np.exp(5 * a)) == pytest.approx(1.0)  # monotone maps rank alike
    b = np.round(rng.random((12, 12)), 1)  # with ties
    stats = pytest.importorskip("scipy.stats")
    assert rank_correlation(a, b) == pytest.approx(stats.spearmanr(a.ravel(), b.ravel())[0], abs=1e-12)
    assert rank_correlation(a, np.zeros((12, 12))) == 0.0


def _small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))


def test_randomised_copy_changes_the_copy_only() -> None:
    model = _small_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng_state = torch.random.get_rng_state()
    copy = randomised_copy(model, seed=3)
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    for name in ("0.weight", "3.weight", "6.weight"):
        assert not torch.allclose(copy.state_dict()[name], before[name])
    again = randomised_copy(model, seed=3)
    for key, value in copy.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])


def test_cascading_randomisation_keeps_earlier_layers() -> None:
    model = _small_net()
    copy = randomised_copy(model, cascade_from="3")
    state, original = copy.state_dict(), model.state_dict()
    assert torch.equal(state["0.weight"], original["0.weight"])
    assert torch.equal(state["1.weight"], original["1.weight"])
    assert not torch.allclose(state["3.weight"], original["3.weight"])
    assert not torch.allclose(state["6.weight"], original["6.weight"])
    with pytest.raises(ValueError, match="no layer"):
        randomised_copy(model, cascade_from="9")


def test_deletion_makes_no_claim_when_blurring_everything_changes_nothing() -> None:
    """A model whose probability survives blurring the whole input (a small lesion detector on a
    light blur, seen on CT under X): no "better / no better than random" verdict, a note instead."""
    from inference.explain.faithfulness import random_baseline

    x, mask = _phantom()

    def blind(b: torch.Tensor) -> torch.Tensor:
        p = torch.full((b.shape[0],), 0.9)
        return torch.stack([1 - p, p], dim=1)

    rnd = [np.random.default_rng(i).random(mask.shape).astype(np.float32) for i in range(3)]
    out = random_baseline(blind, x, mask.astype(np.float32), 1, rnd)
    assert out["vs_random"] is None and out["better_than_random"] is None
    assert out["note"].startswith("not measurable by deletion")
    assert "(0.90 unblurred, 0.90 blurred)" in out["note"]
    fair = random_baseline(LesionProbability(mask), x, mask.astype(np.float32), 1, rnd)
    assert fair["better_than_random"] is True

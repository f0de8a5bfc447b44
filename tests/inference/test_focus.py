"""The training penalties on finding-map evidence outside the body and away from the lesion
(inference/focus.py)."""
from __future__ import annotations

import pytest
import torch

from inference.explain.faithfulness import pointing_tolerance
from inference.focus import inside_share, logits_and_shares, near
from inference.models import build_model
from inference.recipes import architecture_block

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("tumour", architecture_block("tumour", "vgg-narrow"), ("no tumour", "tumour"))


def _batch(n: int = 4, size: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 1, size, size, generator=g)
    body = torch.zeros(n, 1, size, size)
    body[..., 12:36, 12:36] = 1.0      # a square "head" in the middle
    return x, body


def test_logits_are_the_models_and_the_share_is_a_share() -> None:
    model = _model().eval()
    x, body = _batch()
    logits, share, _ = logits_and_shares(model, x, body)
    torch.testing.assert_close(logits, model(x))
    assert 0.0 < float(share) < 1.0
    _, none_outside, _ = logits_and_shares(model, x, torch.ones_like(body))
    _, all_outside, _ = logits_and_shares(model, x, torch.zeros_like(body))
    assert float(none_outside) == 0.0
    assert float(all_outside) == pytest.approx(1.0)


def test_inside_share_averages_the_mask_over_each_feature_cell() -> None:
    body = torch.zeros(1, 1, 8, 8)
    body[..., :4, :2] = 1.0
    grid = inside_share(body, (2, 2))
    torch.testing.assert_close(grid, torch.tensor([[[0.5, 0.0], [0.0, 0.0]]]))


def test_only_the_features_learn_from_it_and_it_takes_evidence_out_of_the_air() -> None:
    model = _model().train()
    x, body = _batch()
    _, share, _ = logits_and_shares(model, x, body)
    share.backward()
    assert model.fc.weight.grad is None or float(model.fc.weight.grad.abs().sum()) == 0.0
    first_conv = next(m for m in model.backbone if isinstance(m, torch.nn.Conv2d))
    assert float(first_conv.weight.grad.abs().sum()) > 0.0
    before = float(share)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("fc")], lr=1e-2)
    for _ in range(30):
        _, share, _ = logits_and_shares(model, x, body)
        opt.zero_grad()
        share.backward()
        opt.step()
    model.eval()
    _, after, _ = logits_and_shares(model, x, body)
    assert float(after) < 0.5 * before, (before, float(after))


def test_near_is_the_pointing_games_hit_zone() -> None:
    mask = torch.zeros(1, 1, 41, 41)
    mask[..., 20, 20] = 1.0
    zone = near(mask, 6.4)[0, 0]
    yy, xx = torch.meshgrid(torch.arange(41), torch.arange(41), indexing="ij")
    expected = ((yy - 20) ** 2 + (xx - 20) ** 2) <= 6.4 ** 2
    assert torch.equal(zone.bool(), expected)
    assert pointing_tolerance((96, 96)) == pytest.approx(15 * 96 / 224)


def test_the_lesion_term_counts_only_items_with_a_lesion_and_moves_the_map_onto_it() -> None:
    model = _model().eval()         # batch statistics would tie the items together
    x, body = _batch()
    lesion = torch.zeros_like(body)
    lesion[:2, :, 14:22, 14:22] = 1.0       # items 0 and 1 have a lesion; 2 and 3 none
    zone = near(lesion, 3.0)
    _, _, away = logits_and_shares(model, x, body, zone)
    _, _, away_first_two = logits_and_shares(model, x[:2], body[:2], zone[:2])
    torch.testing.assert_close(away, away_first_two)
    _, _, nothing = logits_and_shares(model, x[2:], body[2:], zone[2:])
    assert float(nothing) == 0.0
    model.train()                   # as in training: the share falls, the map stays
    _, _, before = logits_and_shares(model, x, body, zone)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("fc")], lr=1e-3)
    for _ in range(20):
        _, _, away = logits_and_shares(model, x, body, zone)
        opt.zero_grad()
        away.backward()
        opt.step()
    _, _, after = logits_and_shares(model, x, body, zone)
    feats = model.backbone(x[:2])
    total = torch.relu(torch.einsum("nkhw,k->nhw", feats, model.fc.weight[1])).sum((1, 2))
    assert float(after) < 0.5 * float(before), (float(before), float(after))
    assert bool((total > 0).all()), "the map moved onto the lesion, it was not emptied"


def test_an_empty_map_of_a_finding_counts_as_wholly_away_from_its_lesion() -> None:
    """Switching the finding's map off must not pay the lesion term (a constant total once let a
    training run do just that and stay at chance)."""
    model = _model().eval()
    with torch.no_grad():
        model.fc.weight[1] = -1.0           # ReLU(negative x non-negative features): empty map
    x, body = _batch()
    lesion = torch.zeros_like(body)
    lesion[..., 14:22, 14:22] = 1.0
    _, outside, away = logits_and_shares(model, x, body, lesion)
    assert float(away) == pytest.approx(1.0)
    assert float(outside) == 0.0            # nothing outside the body either: that term is about the air

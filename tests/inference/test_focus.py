"""The training penalty on finding-map evidence outside the body (inference/focus.py)."""
from __future__ import annotations

import pytest
import torch

from inference.focus import inside_share, logits_and_outside_share
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
    logits, share = logits_and_outside_share(model, x, body)
    torch.testing.assert_close(logits, model(x))
    assert 0.0 < float(share) < 1.0
    _, none_outside = logits_and_outside_share(model, x, torch.ones_like(body))
    _, all_outside = logits_and_outside_share(model, x, torch.zeros_like(body))
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
    _, share = logits_and_outside_share(model, x, body)
    share.backward()
    assert model.fc.weight.grad is None or float(model.fc.weight.grad.abs().sum()) == 0.0
    first_conv = next(m for m in model.backbone if isinstance(m, torch.nn.Conv2d))
    assert float(first_conv.weight.grad.abs().sum()) > 0.0
    before = float(share)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("fc")], lr=1e-2)
    for _ in range(30):
        _, share = logits_and_outside_share(model, x, body)
        opt.zero_grad()
        share.backward()
        opt.step()
    model.eval()
    _, after = logits_and_outside_share(model, x, body)
    assert float(after) < 0.5 * before, (before, float(after))

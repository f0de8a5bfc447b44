"""Temperature scaling and the expected calibration error."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inference.metrics import expected_calibration_error
from inference.phantoms import brain_slice
from inference.predict import load_model
from inference.trust import calibration_errors, fit_temperature


class PooledNet(nn.Module):
    """conv -> ``pool`` -> linear: the smallest head the domain statistics and the temperature
    are fitted on."""

    def __init__(self, pool: nn.Module, channels: int = 3) -> None:
        super().__init__()
        self.backbone = nn.Conv2d(1, channels, 3, padding=1)
        self.pool = pool
        self.fc = nn.Linear(channels, 2)

    def forward(self, x):
        return self.fc(self.pool(self.backbone(x)).flatten(1))


def test_ece_by_hand() -> None:
    # two bins used: (0.9, 1.0] holds 3 samples (2 right), (0.6, 0.667] holds 1 (right)
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.05, 0.95], [0.35, 0.65]])
    y = np.array([0, 0, 0, 1])
    expected = 3 / 4 * abs(2 / 3 - 0.95) + 1 / 4 * abs(1.0 - 0.65)
    assert expected_calibration_error(probs, y, 15) == pytest.approx(expected)


def test_temperature_scaling_lowers_ece_of_an_over_confident_model() -> None:
    """A toy model whose logits are 4x the true log-odds: T should come out near 4 and ECE drop."""
    gen = torch.Generator().manual_seed(0)
    true_logits = torch.randn(4000, 3, generator=gen) * 1.5
    y = torch.multinomial(torch.softmax(true_logits, -1), 1, generator=gen)[:, 0]
    over = 4.0 * true_logits
    t = fit_temperature(over[:2000], y[:2000])
    assert 3.3 < t < 4.8
    before, after = calibration_errors(over[2000:], y[2000:], t)
    assert before > 0.1
    assert after < before / 3


def test_classifier_applies_the_manifest_temperature(tiny_model) -> None:
    import json

    path = tiny_model("tumour")
    img = brain_slice(3, 64).image
    plain = load_model("x", device="cpu", manifest_path=str(path)).predict(img)
    data = json.loads(path.read_text())
    data["calibration"] = {"temperature": 2.5}
    path.write_text(json.dumps(data))
    clf = load_model("x", device="cpu", manifest_path=str(path))
    pred = clf.predict(img)
    p0 = np.array([plain.probabilities[c] for c in clf.spec.classes])
    logits = np.log(p0)                                   # up to a constant
    expected = np.exp(logits / 2.5) / np.exp(logits / 2.5).sum()
    got = np.array([pred.probabilities[c] for c in clf.spec.classes])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert pred.temperature == 2.5
    assert pred.uncalibrated == pytest.approx(plain.probabilities, abs=1e-6)


def test_max_pooling_heads_get_image_averaged_statistics() -> None:
    """A max-pooled feature keeps each channel's strongest response only (a knee and a brain can
    both have one): models that max-pool take their statistics from the averaged last conv
    output; average-pooling models keep the pooled layer (the same values)."""
    from inference.trust import feature_layer, pooled_features

    x = torch.randn(2, 1, 8, 8)
    max_net, avg_net = PooledNet(nn.AdaptiveMaxPool2d(1)), PooledNet(nn.AdaptiveAvgPool2d(1))
    assert feature_layer(max_net) == "backbone" and feature_layer(avg_net) == "pool"
    with torch.no_grad(), pooled_features(max_net, "backbone") as seen:
        max_net(x)
    torch.testing.assert_close(seen[-1], max_net.backbone(x).mean(dim=(2, 3)))
    avg_net.backbone = max_net.backbone
    with torch.no_grad(), pooled_features(avg_net, "pool") as seen_pool:
        avg_net(x)
    torch.testing.assert_close(seen_pool[-1], seen[-1])


def test_temperature_is_fitted_on_validation_items_as_drawn() -> None:
    """The domain check's thresholds come from validation items with the appearance changes a
    model was trained to ignore; its temperature from the same items as drawn: fitted on the
    changed items, it softened every call of the shipped tumour model (T 1.38; ECE on held-out
    phantoms 0.023 before, 0.056 after)."""
    from inference.trust import fit_trust

    torch.manual_seed(0)
    net = PooledNet(nn.AdaptiveAvgPool2d(1), channels=4).eval()
    with torch.no_grad():   # class 1: brighter images; a confident, mostly right model
        net.backbone.weight.fill_(0.1)
        net.fc.weight.copy_(torch.tensor([[-40.0] * 4, [40.0] * 4]))
    y = torch.arange(64) % 2
    x = torch.randn(64, 1, 8, 8) * 0.3 + (y.float() - 0.5)[:, None, None, None]
    changed = x.clone()                                  # what only the domain check should see:
    changed[::4] = -changed[::4]                         # a change that fools the model on a quarter
    _, ood_changed, cal_changed = fit_trust("tumour", net, x, y, changed, y)
    _, ood_clean, cal_clean = fit_trust("tumour", net, x, y, x, y)
    _, ood_split, cal_split = fit_trust("tumour", net, x, y, changed, y, x_temperature=x)
    assert cal_split["temperature"] == cal_clean["temperature"]
    assert cal_split["temperature"] != cal_changed["temperature"]
    assert ood_split["thresholds"] == ood_changed["thresholds"] != ood_clean["thresholds"]

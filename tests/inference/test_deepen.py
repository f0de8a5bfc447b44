"""Starting a deeper demo net from a shallower one's weights (inference.deepen)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inference import train
from inference.deepen import deepen_state, fit_identity_norms, shallower_convs
from inference.models import build_model
from inference.registry import read_manifest, sha256_file

OPTIONS = {"widths": [8, 16, 16, 16], "pools": 2, "padding": "replicate"}


def _net(convs: list[int]) -> torch.nn.Module:
    arch = {"backbone": "vgg-narrow", "backbone_options": {**OPTIONS, "convs": convs},
            "head": {"dropout": 0.0, "pool": "max"}}
    return build_model("ct-lesion", arch, ["no lesion", "lesion"])


def _trained_shallow(x: torch.Tensor) -> torch.nn.Module:
    """A shallow net with non-trivial BatchNorm statistics and affine parameters."""
    torch.manual_seed(0)
    net = _net([1, 1, 1, 1])
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
            torch.nn.init.uniform_(m.bias, -0.2, 0.2)
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(x)
    return net.eval()


@pytest.mark.parametrize("convs", [[2, 2, 2, 2], [1, 3, 2, 1]])
def test_deepened_net_computes_what_the_shallow_one_did(convs: list[int]) -> None:
    torch.manual_seed(1)
    x = torch.randn(24, 1, 32, 32)
    shallow = _trained_shallow(x)
    state = shallow.state_dict()
    assert shallower_convs(state, OPTIONS, convs) == [1, 1, 1, 1]
    deep = _net(convs)
    added = deepen_state(state, [1, 1, 1, 1], deep, OPTIONS, convs)
    assert len(added) == sum(convs) - 4
    fit_identity_norms(deep, added, x)
    with torch.no_grad():
        torch.testing.assert_close(deep.eval()(x), shallow(x), rtol=1e-3, atol=1e-3)
        # in training, the added BatchNorms see the batch they were fitted on: still the identity
        deep.train()                 # (no dropout: the head's is 0)
        shallow_train = _net([1, 1, 1, 1])
        shallow_train.load_state_dict(state)
        torch.testing.assert_close(deep(x), shallow_train.train()(x), rtol=1e-3, atol=1e-3)


def test_no_layout_fits_other_weights() -> None:
    wider = {**OPTIONS, "widths": [8, 16, 32, 16]}
    state = _net([1, 1, 1, 1]).state_dict()
    assert shallower_convs(state, wider, [2, 2, 2, 2]) is None
    assert shallower_convs(state, OPTIONS, [1, 1, 1, 1]) == [1, 1, 1, 1]


def test_init_from_a_shallower_net_is_recorded(tmp_path: Path) -> None:
    """``--convs 2,2,2,2 --init shallow.safetensors`` starts from the shallow net's function and
    says so in the manifest; a deeper start cannot feed a shallower net and is refused."""
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--task", "tumour", "--n-train", "16", "--n-val", "8", "--size", "48", "--quiet",
              "--threads", "1", "--seed", "3", "--epochs", "1"]
    train.main([*common, "--convs", "1,1,1,1", "--out", str(first)])
    start = first / "tumour.safetensors"
    train.main([*common, "--convs", "2,2,2,2", "--lr", "1e-12", "--init", str(start), "--out", str(second)])
    spec = read_manifest(second / "tumour.json")
    assert spec.architecture["backbone_options"]["convs"] == [2, 2, 2, 2]
    assert spec.training["init"]["sha256"] == sha256_file(start)
    assert spec.training["init"]["deepened"].startswith("convolutions per stage 1,1,1,1 -> 2,2,2,2")
    with pytest.raises(SystemExit, match="cannot start from these weights"):
        train.main([*common, "--convs", "1,1,1,1", "--init", str(second / "tumour.safetensors"),
                    "--out", str(tmp_path / "third")])

"""Fixtures for the inference tests: tiny randomly initialised models written to tmp_path."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from inference import recipes
from inference.models import build_model
from inference.registry import DEMO_STATEMENT, ModelSpec, sha256_file, write_manifest

TINY = {"widths": [4, 8], "convs": [1, 1]}


def make_model(folder: Path, task: str = "tumour", size: int = 32, name: str | None = None,
               n_slices: int = 4) -> Path:
    """Write a tiny seeded model (weights + manifest) for ``task`` into ``folder``; returns the manifest."""
    torch.manual_seed(0)
    classes = recipes.CLASSES[task]
    arch = {"name": f"{task}-tiny", "backbone": "vgg-narrow", "backbone_options": TINY,
            "head": {"hidden": 8} if task == "contrast" else {"lstm_hidden": 4} if task == "knee" else {}}
    module = build_model(task, arch, classes)
    name = name or f"tiny-{task}"
    weights = folder / f"{name}.safetensors"
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(weights))
    target = module.target_layer("sagittal") if task == "knee" else module.target_layer
    spec = ModelSpec(name=name, version="0.0.1", task=task, classes=classes,
                     input=recipes.input_block(task, size, n_slices), architecture=arch,
                     backbone="vgg-narrow", target_layer=target, weights=weights.name,
                     sha256=sha256_file(weights), modality=recipes.MODALITY[task],
                     training_data="none (random weights for tests)", demo=True,
                     demo_statement=DEMO_STATEMENT,
                     planes=("sagittal", "coronal", "axial") if task == "knee" else ())
    return write_manifest(spec, folder / f"{name}.json")


@pytest.fixture
def tiny_model(tmp_path: Path):
    """Factory: tiny_model(task) -> manifest path of a tiny random model in tmp_path."""
    def factory(task: str = "tumour", **kw: object) -> Path:
        return make_model(tmp_path, task, **kw)  # type: ignore[arg-type]
    return factory

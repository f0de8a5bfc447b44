"""Fixtures of the teaching tests: the built-in teaching set written once per test session into
a temporary folder, and tiny randomly initialised tumour / CT-lesion models (manifest paths) so
the AI runs fast without the shipped demo weights."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from viewer.modules.teaching.caselist import CaseList


def write_tiny_model(folder: Path, task: str) -> Path:
    """A tiny seeded model for ``task`` (weights + manifest) in ``folder``; returns the manifest."""
    import torch
    from safetensors.torch import save_file

    from inference import recipes
    from inference.models import build_model
    from inference.registry import DEMO_STATEMENT, ModelSpec, sha256_file, write_manifest

    torch.manual_seed(0)
    classes = recipes.CLASSES[task]
    arch = {"name": f"{task}-tiny", "backbone": "vgg-narrow",
            "backbone_options": {"widths": [4, 8], "convs": [1, 1]}, "head": {}}
    module = build_model(task, arch, classes)
    name = f"tiny-{task}"
    weights = folder / f"{name}.safetensors"
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(weights))
    spec = ModelSpec(name=name, version="0.0.1", task=task, classes=classes,
                     input=recipes.input_block(task, 32), architecture=arch, backbone="vgg-narrow",
                     target_layer=module.target_layer, weights=weights.name,
                     sha256=sha256_file(weights), modality=recipes.MODALITY[task],
                     training_data="none (random weights for tests)", demo=True,
                     demo_statement=DEMO_STATEMENT)
    return write_manifest(spec, folder / f"{name}.json")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """{"tumour": manifest, "ct-lesion": manifest} of tiny random models."""
    folder = tmp_path_factory.mktemp("tiny-models")
    return {task: write_tiny_model(folder, task) for task in ("tumour", "ct-lesion")}


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """The teaching set written once into a temporary folder; returns its case-list path."""
    from viewer.modules.teaching.demo_set import ensure_demo_set

    return ensure_demo_set(root=tmp_path_factory.mktemp("data") / "teaching-set")


@pytest.fixture
def demo_cases(demo_root, tiny_models) -> CaseList:
    """The teaching set with its models swapped for the tiny ones."""
    from viewer.modules.teaching.caselist import load_case_list

    cases = load_case_list(demo_root)
    return replace(cases, cases=tuple(replace(c, model=str(tiny_models[c.model]))
                                      for c in cases.cases))

"""Loading classifiers: ``load_model(name)`` -> a :class:`Classifier` (a
:class:`KneeExamClassifier` for exam-level models), and ``describe_models`` for listings.

Images are float32 (H, W) slices in physical units (HU for CT), or for the knee exam model a dict
{plane: (S, H, W)}. Explanation maps come back in the input's pixel geometry, raw values kept.
"""
from __future__ import annotations

from typing import Any

import torch

from inference.classifier import METHODS, Classifier
from inference.devices import select_device
from inference.errors import InputError, ModelLoadError
from inference.models import build_model
from inference.predict_knee import KneeExamClassifier
from inference.registry import ModelSpec, get_spec, list_models, load_state
from inference.results import Explanation, Prediction

#: Classifier type per manifest ``input.level``.
CLASSIFIERS: dict[str, type[Classifier]] = {"slice": Classifier, "exam": KneeExamClassifier}


def classifier_type(spec: ModelSpec) -> type[Classifier]:
    """The Classifier class serving ``spec`` by its level (the slice Classifier by default)."""
    return CLASSIFIERS.get(spec.level, Classifier)


def load_model(name: str, device: str | torch.device | None = None,
               manifest_path: str | None = None) -> Classifier:
    """Load a registered model (or the manifest at ``manifest_path``) onto ``device``.

    Raises ModelLoadError naming the file when the manifest or the weights cannot be used.
    """
    spec = get_spec(name, manifest_path)
    cls = classifier_type(spec)
    state = load_state(spec)
    try:
        module = build_model(spec.task, spec.architecture, spec.classes,
                             spec.planes or ("sagittal", "coronal", "axial"))
        module.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{spec.weights_path}: the weights do not fit the architecture in "
                             f"{spec.manifest_path} ({str(exc).splitlines()[0]})") from exc
    return cls(spec, module, select_device(device))


def describe_models() -> list[dict[str, Any]]:
    """One summary dict per model (for ``slicewise models --json``)."""
    out = []
    for name in list_models():
        s = get_spec(name)
        out.append({"name": s.name, "version": s.version, "task": s.task, "modality": s.modality,
                    "classes": list(s.classes), "backbone": s.backbone, "input_size": s.input.get("size"),
                    "weights": str(s.weights_path), "sha256": s.sha256, "demo": s.demo,
                    "demo_statement": s.demo_statement, "metrics": s.metrics,
                    "intended_use": s.intended_use})
    return out


__all__ = ["CLASSIFIERS", "METHODS", "Classifier", "Explanation", "InputError", "KneeExamClassifier",
           "ModelLoadError", "Prediction", "classifier_type", "describe_models", "load_model"]

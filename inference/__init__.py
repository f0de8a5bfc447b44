"""SliceWise inference: model registry, classifiers, explanations, phantoms, training and evaluation.

Never imports Qt, pyqtgraph, pydicom or ``viewer``. Heavy modules (torch) load lazily on first
use of ``load_model`` & co., so ``import inference.phantoms`` and ``inference.results`` (the
``Prediction`` / ``Explanation`` / ``MapScores`` records) stay numpy-only.

    from inference import list_models, load_model, ModelLoadError
    clf = load_model("tumour"); pred = clf.predict(slice_yx); exp = clf.explain(slice_yx, "gradcam")
"""
from __future__ import annotations

from typing import Any

from inference.errors import InputError, ModelLoadError

_LAZY = {
    "list_models": "inference.registry", "ModelSpec": "inference.registry",
    "load_model": "inference.predict", "describe_models": "inference.predict",
    "check_input": "inference.checks", "Classifier": "inference.classifier",
    "KneeExamClassifier": "inference.predict_knee",
    "Prediction": "inference.results", "Explanation": "inference.results",
    "MapScores": "inference.results", "Pointing": "inference.results",
    "broken_models": "inference.registry", "BrokenModel": "inference.registry",
    "describe_device": "inference.devices", "select_device": "inference.devices",
}

__all__ = ["InputError", "ModelLoadError", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inference' has no attribute {name!r}")

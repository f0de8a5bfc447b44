"""Architectures per task and the factory that builds one from a manifest's architecture block."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import nn

from inference.models.backbones import BACKBONES, build_backbone, one_channel_conv
from inference.models.contrast import ContrastNet
from inference.models.ct_lesion import CTLesionNet
from inference.models.knee import KneeNet, KneePlaneNet
from inference.models.tumor import TumourNet

TASKS: tuple[str, ...] = ("tumour", "contrast", "knee", "ct-lesion")


def build_model(task: str, architecture: Mapping[str, object], classes: Sequence[str],
                planes: Sequence[str] = ("sagittal", "coronal", "axial")) -> nn.Module:
    """Build the untrained module for ``task`` from a manifest ``architecture`` block.

    architecture: {"backbone": name, "backbone_options": {...}, "head": {...}} where head options
    are dropout / hidden / freeze (contrast) / lstm_hidden (knee).
    """
    name = str(architecture.get("backbone", ""))
    opts = dict(architecture.get("backbone_options", {}) or {})  # type: ignore[arg-type]
    head = dict(architecture.get("head", {}) or {})  # type: ignore[arg-type]
    n = len(classes)
    if task == "tumour":
        return TumourNet(build_backbone(name, **opts), n, float(head.get("dropout", 0.0)),
                         str(head.get("pool", "avg")))
    if task == "ct-lesion":
        return CTLesionNet(build_backbone(name, **opts), n, float(head.get("dropout", 0.3)),
                           str(head.get("pool", "avg")))
    if task == "contrast":
        return ContrastNet(build_backbone(name, **opts), n, int(head.get("hidden", 1024)),
                           float(head.get("dropout", 0.5)), int(head.get("freeze", 0)))
    if task == "knee":
        return KneeNet({p: build_backbone(name, **opts) for p in planes}, n,
                       int(head.get("lstm_hidden", 64)), str(head.get("pool", "avg")))
    raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")


__all__ = ["BACKBONES", "TASKS", "ContrastNet", "CTLesionNet", "KneeNet", "KneePlaneNet",
           "TumourNet", "build_backbone", "build_model", "one_channel_conv"]

"""HiResCAM against pytorch-grad-cam's HiResCAM on the same model and input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inference import recipes
from inference.explain.hirescam import hirescam
from inference.predict import load_model
from inference.preprocess import to_tensor


@pytest.mark.parametrize("model", ["tumour", "ct-lesion"])
def test_hirescam_equals_pytorch_grad_cam(model: str) -> None:
    """Tumour pools by average (HiResCAM then equals Grad-CAM, as theory says); the CT lesion
    model pools by maximum, where the two differ: HiResCAM must still match pytorch-grad-cam."""
    from pytorch_grad_cam import HiResCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    clf = load_model(model, device="cpu")
    s = recipes.phantom_sample(model, recipes.HELD_OUT_SEED_START + 7, 96)
    x, _ = to_tensor(s.image, clf.spec.input)
    xb = x[None]
    ours = hirescam(clf.module, xb, clf.spec.target_layer, 1)            # (1, h, w) raw, ReLU'd
    layer = dict(clf.module.named_modules())[clf.spec.target_layer]
    with HiResCAM(model=clf.module, target_layers=[layer]) as cam:
        ref = cam(input_tensor=xb.clone(), targets=[ClassifierOutputTarget(1)])[0]   # (96, 96) in [0, 1]
    up = F.interpolate(ours[None], size=ref.shape, mode="bilinear", align_corners=False)[0, 0].numpy()
    r = float(np.corrcoef(up.ravel(), ref.ravel())[0, 1])
    assert r >= 0.99, r
    from inference.explain.gradcam import gradcam
    g = gradcam(clf.module, xb, clf.spec.target_layer, 1)[0].numpy().ravel()
    r_grad = float(np.corrcoef(g, ours[0].numpy().ravel())[0, 1])
    if clf.spec.architecture["head"].get("pool", "avg") == "avg":
        assert r_grad > 0.999                      # GAP + linear head: HiResCAM == Grad-CAM == CAM
    else:
        assert r_grad < 0.99                       # max pooling: not merely Grad-CAM


def test_hirescam_through_the_classifier_api() -> None:
    clf = load_model("tumour", device="cpu")
    s = recipes.phantom_sample("tumour", recipes.HELD_OUT_SEED_START + 9, 96)
    exp = clf.explain(s.image, "hirescam")
    assert exp.method == "hirescam" and exp.map.shape == s.image.shape and exp.final
    assert exp.prediction.applicability is not None
    assert torch.is_tensor(exp.map) is False and np.isfinite(exp.map).all()

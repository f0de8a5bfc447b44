"""Fraction of Grad-CAM energy outside the body on held-out phantoms (issue 12 item 4's measure).

``python -m inference.phantoms_check.air_energy --task tumour [--weights W] [--n 40]`` prints, per
generator (physics, independent), the mean share of the positive Grad-CAM map (for the predicted
class, upsampled to the slice) that falls outside the head / body mask. A model that reads the
anatomy puts little there; one that learned image edges or air puts a lot.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from inference import recipes
from inference.evaluate import held_out_seeds
from inference.explain.gradcam import gradcam
from inference.predict import load_model
from inference.preprocess import to_slice, to_tensor


def _body_sample(task: str, seed: int, size: int, generator: str) -> tuple[np.ndarray, np.ndarray]:
    """(image, body mask) of one held-out phantom of ``generator``."""
    if generator == "independent":
        from inference import phantoms_check as pc
        rng = np.random.default_rng(pc.SEED_OFFSET + int(seed))
        h = int(size * rng.uniform(1.0, 1.6))
        shape = (h, h)
        if task == "ct-lesion":
            s = pc.abdomen_slice(rng, shape, lesion=bool(seed % 2))
        else:
            s = pc.head_slice(rng, shape, pc.CONTRAST_NAMES[seed % 4], lesion=bool(seed % 2))
        return s.image, s.body
    from inference.phantoms.ct_sim import ct_sim_slice
    from inference.phantoms.mr_sim import mr_slice
    shape = (int(size * 1.2), int(size * 1.2))
    if task == "ct-lesion":
        c = ct_sim_slice(seed, shape, lesion=bool(seed % 2))
        return c.image, c.body
    m = mr_slice(seed, shape, recipes.CLASSES["contrast"][seed % 4], lesion=bool(seed % 2))
    return m.image, m.body


def outside_energy(task: str, weights: str | None, n: int, generator: str) -> dict[str, Any]:
    """Mean (and median) share of positive Grad-CAM energy outside the body over ``n`` phantoms."""
    manifest = None if weights is None else str(Path(weights).with_suffix(".json"))
    clf = load_model(task, device="cpu", manifest_path=manifest)
    size = int(clf.spec.input["size"])
    shares = []
    for seed in held_out_seeds(0, n):
        image, body = _body_sample(task, seed, size, generator)
        x, geom = to_tensor(image, clf.spec.input)
        with torch.no_grad():
            k = int(clf.module(x[None]).argmax(1))
        cam = gradcam(clf.module, x[None], clf.spec.target_layer, k)
        cam = F.interpolate(cam[None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
        heat = np.clip(to_slice(cam, geom), 0, None)
        total = float(heat.sum())
        shares.append(float(heat[~body].sum() / total) if total > 0 else 0.0)
    return {"generator": generator, "n": n, "mean_outside": float(np.mean(shares)),
            "median_outside": float(np.median(shares))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m inference.phantoms_check.air_energy", description=__doc__)
    ap.add_argument("--task", required=True, choices=["tumour", "ct-lesion", "contrast"])
    ap.add_argument("--weights")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = {g: outside_energy(args.task, args.weights, args.n, g) for g in ("physics", "independent")}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

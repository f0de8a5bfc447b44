"""Where a detector's transfer gap lies: in the lesions or in the anatomy around them.

``python -m inference.phantoms_check.transplant --task tumour [--weights W] [--n 240]
[--generator varied]`` pastes each held-out lesion of the independent generator into a healthy
slice of the training generator, and each training-generator lesion into a healthy independent
slice, at the same place in a slice resampled to the same grid, scaled to the tissue around it
(MR: by the ratio of the lesion to the median of a ring around it; CT: by its difference in HU).
A lesion is pasted only where the ring around it looks like the ring around it at home (MR: the
same share of the slice's 99th percentile within a factor 1.5; CT: within 30 HU), and, in a
training-generator slice, inside its head / body. It prints the share found (p >= 0.5) in each
background beside the share the same lesions get in their own slices: a detector that learned the
finding finds a lesion wherever it is pasted; one that learned its generator's anatomy finds its
own lesions only in its own heads. ``--grid`` sets the common grid (both generators draw detail
and noise per pixel); ``--blur`` softens the independent healthy slices before pasting.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
import torch
from scipy import ndimage as ndi

from inference import phantoms_check, recipes
from inference.evaluate import held_out_seeds
from inference.phantoms.shapes import ring_around
from inference.predict import load_model

GRID = 256


def _ring(mask: np.ndarray) -> np.ndarray:
    """The tissue around a lesion: 2-5 pixels out (the first pixel is partly lesion)."""
    return ring_around(mask, 5) & ~ring_around(mask, 1)


def _to_grid(a: np.ndarray, order: int = 1, grid: int = GRID) -> np.ndarray:
    zoom = (grid / a.shape[0], grid / a.shape[1])
    if order == 0:
        return ndi.zoom(a.astype(np.uint8), zoom, order=0) > 0
    return ndi.zoom(a.astype(np.float32), zoom, order=order)


def paste(src: np.ndarray, mask: np.ndarray, dst: np.ndarray, ct: bool,
          region: np.ndarray | None = None) -> np.ndarray | None:
    """``dst`` with the lesion ``src[mask]`` pasted at the same place, or None where the tissue
    around that place is unlike the lesion's own surroundings (see the module docstring)."""
    ring = _ring(mask)
    if region is not None and ((mask | ring) & ~region).any():
        return None
    bg_s, bg_d = float(np.median(src[ring])), float(np.median(dst[ring]))
    out = dst.copy()
    if ct:
        if abs(bg_d - bg_s) > 30:
            return None
        out[mask] = bg_d + (src[mask] - bg_s)
        return out
    share_s = bg_s / max(float(np.percentile(src, 99)), 1e-6)
    share_d = bg_d / max(float(np.percentile(dst, 99)), 1e-6)
    if not 1 / 1.5 <= share_d / max(share_s, 1e-6) <= 1.5:
        return None
    out[mask] = bg_d * src[mask] / max(bg_s, 1e-6)
    return out


def transplant(task: str, n: int = 240, weights: str | None = None, generator: str | None = None,
               threads: int = 1, grid: int = GRID, blur: float = 0.0) -> dict[str, Any]:
    """Shares found by the model: each generator's lesions at home and pasted into the other's
    healthy slices (n held-out seeds per generator, half of them positive). ``blur``: Gaussian
    sigma (grid pixels) applied to the independent healthy slices before pasting, to ask whether
    their sharpness is what the model stumbles on."""
    torch.set_num_threads(max(threads, 1))
    clf = load_model(task, device="cpu",
                     manifest_path=None if weights is None else weights.rsplit(".", 1)[0] + ".json")
    ct = task == "ct-lesion"
    finding = clf.spec.classes[-1]
    modality = recipes.MODALITY[task]

    def found(images: list[np.ndarray]) -> list[bool]:
        preds = clf.predict_batch(images, modality=modality, orientation="axial")  # batches itself
        return [p.probabilities[finding] >= 0.5 for p in preds]

    def own(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = recipes.phantom_sample(task, seed, grid, vary_shape=False, generator=generator)
        mask = np.zeros(s.image.shape, bool) if s.mask is None else s.mask
        return s.image, mask, s.region

    def other(seed: int) -> tuple[np.ndarray, np.ndarray]:
        image, _, mask = phantoms_check.sample(task, seed, grid)
        return (_to_grid(image, 1, grid),
                _to_grid(mask, 0, grid) if mask is not None else np.zeros((grid, grid), bool))

    seeds = held_out_seeds(0, n)
    own_slices = [own(s) for s in seeds]
    other_slices = [other(s) for s in seeds]
    own_pos = [t for t in own_slices if t[1].any()]
    own_neg = [t for t in own_slices if not t[1].any()]
    other_pos = [t for t in other_slices if t[1].any()]
    other_neg = [ndi.gaussian_filter(t[0], blur) if blur else t[0] for t in other_slices if not t[1].any()]
    pairs = {   # (pasted, at home) per direction
        "independent lesions in training-generator slices":
            [(paste(image, mask, healthy, ct, region), image)
             for (image, mask), (healthy, _, region) in zip(other_pos, own_neg)],
        "training-generator lesions in independent slices":
            [(paste(image, mask, healthy, ct), image)
             for (image, mask, _), healthy in zip(own_pos, other_neg)],
    }
    out: dict[str, Any] = {"task": task, "generator": generator or recipes.DEFAULT_GENERATOR[task],
                           "weights": weights or "shipped", "grid": grid, "blur": blur}
    for name, both in pairs.items():
        kept = [(pasted, home) for pasted, home in both if pasted is not None]
        pasted_found = found([p for p, _ in kept])
        home_found = found([h for _, h in kept])
        out[name] = {"n": len(kept),
                     "found_pasted": float(np.mean(pasted_found)) if kept else None,
                     "found_at_home": float(np.mean(home_found)) if kept else None}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", required=True, choices=["tumour", "ct-lesion"])
    ap.add_argument("--weights", help="a .safetensors file beside its manifest (default: the shipped model)")
    ap.add_argument("--n", type=int, default=240, help="held-out seeds per generator")
    ap.add_argument("--generator", choices=[g for g in recipes.GENERATORS if g != "independent"],
                    help="the training generator (default: the task's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--grid", type=int, default=GRID,
                    help="pixels across the common grid both generators draw at (their detail and noise "
                         "are drawn per pixel)")
    ap.add_argument("--blur", type=float, default=0.0,
                    help="Gaussian sigma (grid pixels) for the independent healthy slices before pasting")
    args = ap.parse_args(argv)
    print(json.dumps(transplant(args.task, args.n, args.weights, args.generator, args.threads, args.grid,
                                args.blur), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

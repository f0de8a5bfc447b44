"""Training samples from the physics generator (numpy only): image, class index, lesion mask.

Labels are balanced by seed (seed % classes). Contrast samples are healthy or carry a lesion
(so that a lesion does not mean one contrast); tumour samples use a random one of the four
contrasts; all tasks see every plane and a random image shape (size * 0.9 .. size * 1.5).
"""
from __future__ import annotations

import numpy as np

from inference.phantoms.brain import CONTRASTS
from inference.phantoms.ct_sim import ct_sim_slice
from inference.phantoms.mr_sim import mr_slice
from inference.phantoms.shapes import sub_rng


def _shape(seed: int, size: int) -> tuple[int, int]:
    rng = sub_rng(seed, 98)
    h = int(size * rng.uniform(0.9, 1.5))
    w = h if rng.random() < 0.6 else int(h * rng.uniform(0.75, 1.3))
    return h, w


def physics_sample(task: str, seed: int, size: int) -> tuple[np.ndarray, int, np.ndarray | None]:
    """(image (H, W) float32, class index, lesion mask or None) for task tumour, contrast or ct-lesion."""
    shape = _shape(seed, size)
    if task == "contrast":
        k = seed % len(CONTRASTS)
        lesion = bool(sub_rng(seed, 97).random() < 0.3)
        s = mr_slice(seed, shape, CONTRASTS[k], lesion=lesion)
        return s.image, k, None
    if task == "tumour":
        contrast = CONTRASTS[int(sub_rng(seed, 97).integers(0, len(CONTRASTS)))]
        s = mr_slice(seed, shape, contrast, lesion=bool(seed % 2))
        for variant in range(1, 4):          # a positive seed shows a lesion: redraw tiny ones
            if s.lesion or not seed % 2:
                break
            s = mr_slice(seed, shape, contrast, lesion=True, variant=variant)
        return s.image, int(s.lesion), s.mask
    if task == "ct-lesion":
        c = ct_sim_slice(seed, shape, lesion=bool(seed % 2))
        for variant in range(1, 6):          # a positive seed shows a visible lesion
            if c.lesion or not seed % 2:
                break
            c = ct_sim_slice(seed, shape, lesion=True, variant=variant)
        return c.image, int(c.lesion), c.mask
    raise ValueError(f"the physics generator has no task {task!r}")

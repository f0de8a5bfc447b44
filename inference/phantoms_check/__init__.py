"""An independent phantom generator, for validation only: it shares no drawing code with
:mod:`inference.phantoms` (own grids, outlines, lesion shapes, blur and noise) and is never
used for training (``inference.train`` refuses it). ``inference.evaluate --generator independent``
scores a model on it beside the training generator, to show whether a model learned the finding
or its generator.

Brain MR: a head drawn as a superellipse with polygonal gyri, four contrasts from a relative-signal
table, lesions homogeneous, rim or cystic of varied intensity. Abdominal CT in HU: a superellipse
body, a two-lobe liver, lesions homogeneous, rim or cystic of varied density. Numpy only.
"""
from __future__ import annotations

import numpy as np

from inference.phantoms_check.abdomen import abdomen_slice
from inference.phantoms_check.brain import CONTRAST_NAMES, head_slice

#: Seeds of this generator are offset so that they never coincide with a training seed's stream.
SEED_OFFSET = 7_000_000


def sample(task: str, seed: int, size: int) -> tuple[np.ndarray, int, np.ndarray | None]:
    """(image (H, W) float32, class index, lesion mask or None); labels balanced by seed."""
    rng = np.random.default_rng(SEED_OFFSET + int(seed))
    h = int(size * rng.uniform(1.0, 1.6))
    shape = (h, h if rng.random() < 0.6 else int(h * rng.uniform(0.8, 1.25)))
    if task == "tumour":
        s = head_slice(rng, shape, CONTRAST_NAMES[int(rng.integers(0, 4))], lesion=bool(seed % 2))
        return s.image, int(s.mask.any()), s.mask
    if task == "contrast":
        k = seed % 4
        s = head_slice(rng, shape, CONTRAST_NAMES[k], lesion=bool(rng.random() < 0.3))
        return s.image, k, None
    if task == "ct-lesion":
        c = abdomen_slice(rng, shape, lesion=bool(seed % 2))
        return c.image, int(c.mask.any()), c.mask
    raise ValueError(f"the independent generator has no task {task!r}")


__all__ = ["sample", "head_slice", "abdomen_slice", "CONTRAST_NAMES", "SEED_OFFSET"]

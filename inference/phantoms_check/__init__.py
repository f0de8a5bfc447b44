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

from typing import Any, NamedTuple

import numpy as np

from inference.phantoms_check.abdomen import abdomen_slice
from inference.phantoms_check.brain import CONTRAST_NAMES, head_slice

#: Seeds of this generator are offset so that they never coincide with a training seed's stream.
SEED_OFFSET = 7_000_000


class Drawn(NamedTuple):
    """One independent sample: image (H, W) float32, class index, lesion mask or None, and what
    the lesion looks like (``HeadSlice.look`` / ``AbdomenSlice.look``) or None."""

    image: np.ndarray
    target: int
    mask: np.ndarray | None
    look: dict[str, Any] | None


def draw(task: str, seed: int, size: int) -> Drawn:
    """The independent sample of ``task`` for ``seed``; labels balanced by seed."""
    rng = np.random.default_rng(SEED_OFFSET + int(seed))
    h = int(size * rng.uniform(1.0, 1.6))
    shape = (h, h if rng.random() < 0.6 else int(h * rng.uniform(0.8, 1.25)))
    if task == "tumour":
        s = head_slice(rng, shape, CONTRAST_NAMES[int(rng.integers(0, 4))], lesion=bool(seed % 2))
        return Drawn(s.image, int(s.mask.any()), s.mask, s.look)
    if task == "contrast":
        k = seed % 4
        s = head_slice(rng, shape, CONTRAST_NAMES[k], lesion=bool(rng.random() < 0.3))
        return Drawn(s.image, k, None, None)
    if task == "ct-lesion":
        c = abdomen_slice(rng, shape, lesion=bool(seed % 2))
        return Drawn(c.image, int(c.mask.any()), c.mask, c.look)
    raise ValueError(f"the independent generator has no task {task!r}")


def sample(task: str, seed: int, size: int) -> tuple[np.ndarray, int, np.ndarray | None]:
    """(image (H, W) float32, class index, lesion mask or None) of :func:`draw`."""
    d = draw(task, seed, size)
    return d.image, d.target, d.mask


__all__ = ["draw", "Drawn", "sample", "head_slice", "abdomen_slice", "CONTRAST_NAMES", "SEED_OFFSET"]

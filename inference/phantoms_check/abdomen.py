"""Independent abdominal CT slices in HU: a superellipse body and a two-lobe liver.

Lesions: homogeneous, rim or cystic, density anywhere from -5 to liver + 60 HU but at least
15 HU away from the liver, 6-40 mm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.phantoms_check.draw import fft_smooth, mm_grid, polar_blob, superellipse


@dataclass(frozen=True)
class AbdomenSlice:
    """image (H, W) float32 HU, lesion mask and body mask (H, W) bool."""

    image: np.ndarray
    mask: np.ndarray
    body: np.ndarray
    pixel_mm: float
    #: what the lesion looks like: {"kind"}
    look: dict[str, Any] | None = None


def abdomen_slice(rng: np.random.Generator, shape: tuple[int, int], lesion: bool) -> AbdomenSlice:
    """One axial upper-abdomen slice; with ``lesion`` a lesion inside the liver."""
    pixel_mm = rng.uniform(320, 440) / max(shape)
    y, x = mm_grid(shape, pixel_mm, tuple(rng.uniform(-20, 20, 2)), rng.uniform(-6, 6))
    img = np.full(shape, -1000.0)
    ay, ax = rng.uniform(100, 135), rng.uniform(140, 180)
    body = superellipse(y, x, 0, 0, ay, ax, rng.uniform(2.0, 2.6)) <= 1
    img[body] = rng.uniform(-110, -90)
    wall = superellipse(y, x, 0, 0, ay - rng.uniform(8, 25), ax - rng.uniform(8, 25), 2.2) <= 1
    img[wall] = 50
    cav = superellipse(y, x, 0, 0, ay - 30, ax - 30, 2.2) <= 1
    img[cav] = rng.uniform(-100, -60)
    # liver: union of two discs (right lobe big, left lobe small), patient's right = image left
    liver_hu = rng.uniform(45, 75)
    c1 = (rng.uniform(-25, 5), -ax * rng.uniform(0.35, 0.5))
    r1 = rng.uniform(55, 75)
    c2 = (c1[0] - rng.uniform(10, 25), c1[1] + rng.uniform(40, 60))
    r2 = rng.uniform(25, 40)
    liver = cav & ((np.hypot(y - c1[0], x - c1[1]) < r1) | (np.hypot(y - c2[0], x - c2[1]) < r2))
    img[liver] = liver_hu
    img[cav & ~liver & (superellipse(y, x, 15, ax * 0.45, 45, 25, 2) <= 1)] = rng.uniform(40, 55)   # spleen
    for side in (-1, 1):                                                                         # kidneys
        k = superellipse(y, x, 45, side * 55, 28, 17, 2.5)
        img[cav & ~liver & (k <= 1)] = rng.uniform(140, 190)
        img[cav & ~liver & (k <= 0.35)] = 25
    img[np.hypot(y - 40, x - 8) < rng.uniform(9, 13)] = rng.uniform(150, 220)                  # aorta
    vb = np.hypot(y - 70, x) < 20
    img[vb] = 220
    img[vb & (np.hypot(y - 70, x) > 16)] = 750
    for _ in range(int(rng.integers(0, 4))):                                                     # bowel
        cy, cx = rng.uniform(-80, 20), rng.uniform(10, 110)
        img[cav & ~liver & (np.hypot(y - cy, x - cx) < rng.uniform(8, 18))] = rng.choice(
            [20.0, -950.0, 250.0])
    mask = np.zeros(shape, bool)
    kind = ""
    if lesion:
        r = rng.uniform(3, 20)
        ys, xs = np.nonzero(liver)
        for _ in range(100):
            i = int(rng.integers(0, len(ys)))
            blob = polar_blob(y, x, y[ys[i], xs[i]], x[ys[i], xs[i]], r,
                              np.column_stack([rng.uniform(0, 0.1, 3), rng.uniform(0, 6.3, 3)]))
            if ((blob < 1) & ~liver).sum() <= 0.2 * (blob < 1).sum():
                break
        kind = rng.choice(["homogeneous", "rim", "cystic"])
        lo, hi = -5, liver_hu + 60
        core = rng.uniform(lo, hi)
        if abs(core - liver_hu) < 15:
            core = liver_hu - 15 - rng.uniform(0, 20)
        mask = (blob < 1) & liver
        img[mask] = core
        if kind == "rim":
            img[mask & (blob > 0.7)] = liver_hu + rng.uniform(20, 70)
        elif kind == "cystic":
            img[mask] = rng.uniform(-5, 15)
            img[mask & (blob > 0.9)] = liver_hu + rng.uniform(-10, 40)
    img = fft_smooth(img, rng.uniform(0.5, 1.0))
    img = img + rng.normal(0, rng.uniform(6, 16), shape)
    look = {"kind": str(kind)} if lesion and mask.any() else None
    return AbdomenSlice(np.maximum(img, -1024).astype(np.float32), mask, body, float(pixel_mm), look)

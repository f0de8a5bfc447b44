"""Independent brain MR slices: a superellipse head, polygonal gyri, relative-signal contrasts.

Tissue signal (relative, before a random global scale) per contrast follows the usual appearance:
T1 fat > WM > GM > CSF; post-contrast adds bright vessels, choroid plexus and meninges; T2 CSF >
GM > WM; FLAIR as T2 with CSF dark. Lesions: homogeneous, rim or cystic with intensity drawn
anywhere in 0.1-1.0 (hypo- or hyperintense), 6-36 mm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.phantoms_check.draw import fft_smooth, mm_grid, polar_blob, smooth_noise, superellipse

CONTRAST_NAMES = ("T1", "T1 post-contrast", "T2", "T2-FLAIR")
_LEVELS = {   # fat, bone, csf, gm, wm, vessel, choroid, meninges
    "T1": (1.0, 0.04, 0.12, 0.5, 0.72, 0.35, 0.5, 0.4),
    "T1 post-contrast": (1.0, 0.04, 0.12, 0.5, 0.72, 0.95, 0.9, 0.8),
    "T2": (0.65, 0.03, 1.0, 0.62, 0.42, 0.06, 0.75, 0.3),
    "T2-FLAIR": (0.55, 0.03, 0.07, 0.62, 0.45, 0.06, 0.25, 0.3),
}


@dataclass(frozen=True)
class HeadSlice:
    """image (H, W) float32 (arbitrary units), lesion mask and head mask (H, W) bool."""

    image: np.ndarray
    mask: np.ndarray
    body: np.ndarray
    contrast: str
    pixel_mm: float
    #: what the lesion looks like: {"kind", "core_vs_grey_matter" (not for cysts), "oedema"}
    look: dict[str, Any] | None = None


def head_slice(rng: np.random.Generator, shape: tuple[int, int], contrast: str,
               lesion: bool) -> HeadSlice:
    """One axial-like head slice of ``contrast``; with ``lesion`` a visible lesion in the brain."""
    fat, bone, csf, gm, wm, vessel, choroid, men = (v * rng.uniform(0.9, 1.1) for v in _LEVELS[contrast])
    pixel_mm = rng.uniform(200, 280) / max(shape)
    y, x = mm_grid(shape, pixel_mm, tuple(rng.uniform(-15, 15, 2)), rng.uniform(-20, 20))
    ay, ax, pw = rng.uniform(80, 100), rng.uniform(62, 80), rng.uniform(2.1, 2.8)
    lev = superellipse(y, x, 0, 0, ay, ax, pw)
    img = np.zeros(shape)
    head = lev <= 1
    img[head] = fat
    scale_in = lambda d: superellipse(y, x, 0, 0, ay - d, ax - d, pw) <= 1   # noqa: E731
    t_fat, t_bone, t_csf = rng.uniform(4, 8), rng.uniform(4, 8), rng.uniform(1.5, 4)
    img[scale_in(t_fat)] = bone
    img[scale_in(t_fat + t_bone)] = men
    img[scale_in(t_fat + t_bone + 1.0)] = csf
    # brain with gyri: a polar outline of many harmonics
    d0 = t_fat + t_bone + t_csf
    harm = np.column_stack([rng.uniform(0, 0.035, 24), rng.uniform(0, 6.3, 24)])
    rb = np.hypot(y / (ay - d0), x / (ax - d0))
    ang = np.arctan2(y, x)
    wiggle = 1 + sum(a * np.cos((k + 6) * ang + p) for k, (a, p) in enumerate(harm))
    brain = rb < wiggle
    img[brain] = gm
    white = rb < wiggle - rng.uniform(0.08, 0.14)
    img[white] = wm
    img[brain & (np.abs(x) < rng.uniform(0.8, 1.8)) & (y < -ay * 0.25)] = csf       # fissure
    # ventricles: two crescents
    vw = rng.uniform(4, 12)
    for side in (-1, 1):
        v = superellipse(y, x, rng.uniform(-8, 4), side * (vw / 2 + 3), rng.uniform(18, 30), vw / 2, 2.0)
        img[v <= 1] = csf
        cp = superellipse(y, x, 12, side * (vw / 2 + 3), 4, 2.5, 2.0)
        img[(cp <= 1) & (v <= 1.6)] = choroid
    for _ in range(int(rng.integers(2, 6))):                                        # vessels
        p0 = rng.uniform(-40, 40, 2)
        dirn = rng.normal(size=2)
        dirn /= np.linalg.norm(dirn)
        t = np.clip((y - p0[0]) * dirn[0] + (x - p0[1]) * dirn[1], 0, rng.uniform(10, 35))
        dist = np.hypot(y - p0[0] - t * dirn[0], x - p0[1] - t * dirn[1])
        img[(dist < rng.uniform(0.7, 1.5)) & brain] = vessel
    mask = np.zeros(shape, bool)
    look: dict[str, Any] | None = None
    if lesion:
        r = rng.uniform(3, 18)
        for _ in range(100):
            cy, cx = rng.uniform(-0.6, 0.6) * ay, rng.uniform(-0.6, 0.6) * ax
            if np.hypot(cy / (ay - d0 - r), cx / (ax - d0 - r)) < 0.85:
                break
        blob = polar_blob(y, x, cy, cx, r, np.column_stack([rng.uniform(0, 0.12, 3), rng.uniform(0, 6.3, 3)]))
        kind = rng.choice(["homogeneous", "rim", "cystic"])
        core, ring = rng.uniform(0.1, 1.0), rng.uniform(0.1, 1.0)
        if abs(core - wm) < 0.12:       # keep it visible against white matter
            core = wm + np.sign(core - wm + 1e-3) * 0.15
        mask = blob < 1
        img[mask] = core
        if kind == "rim":
            img[mask & (blob > rng.uniform(0.55, 0.8))] = ring
        elif kind == "cystic":
            img[mask] = csf * rng.uniform(0.8, 1.2)
            img[mask & (blob > 0.88)] = ring
        look = {"kind": str(kind), "oedema": False}
        if kind != "cystic":
            look["core_vs_grey_matter"] = float(core / gm)
    img = fft_smooth(img, rng.uniform(0.5, 1.2))
    img *= 1 + rng.uniform(0, 0.3) * smooth_noise(rng, shape, max(shape) / 4)
    sd = rng.uniform(0.01, 0.05)
    img = np.abs(img + sd * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)))
    img *= rng.uniform(100, 4000)
    return HeadSlice(img.astype(np.float32), mask, head, contrast, float(pixel_mm),
                     look if mask.any() else None)

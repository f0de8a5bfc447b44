"""Randomised abdominal CT slices in HU with liver lesions of many appearances.

Compared with :mod:`inference.phantoms.ct`: body habitus, organ size and position, liver density
(fatty to hyperdense), field of view (the body touches or leaves the image edge), a patient table
and air of random level and noise are all drawn per slice, so that image edges and air carry no
label information. Lesions: homogeneous, ring-enhancing, necrotic, cystic (near water) or
infiltrative (ill-defined, low contrast), hypo- or hyperdense, 3-40 mm, with texture.
Numpy only; deterministic per seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.phantoms import shapes as sh

LESION_KINDS = ("homogeneous", "ring", "necrotic", "cystic", "infiltrative")


@dataclass(frozen=True)
class CTSimSlice:
    """One CT slice: image (H, W) float32 HU, lesion mask and body mask (H, W) bool, lesion kind."""

    image: np.ndarray
    mask: np.ndarray
    body: np.ndarray
    lesion: bool
    kind: str
    spacing: tuple[float, float]


def _conspicuous(img: np.ndarray, mask: np.ndarray, min_diff: float) -> bool:
    ring = sh.ring_around(mask)
    return bool(ring.any()) and abs(float(img[mask].mean()) - float(img[ring].mean())) > min_diff


def _lesion_hu(rng: np.random.Generator, kind: str, liver: float) -> tuple[float, float, float]:
    """(core HU, rim HU, texture amplitude HU) of a lesion relative to the liver."""
    if kind == "cystic":
        return rng.uniform(-5, 20), liver + rng.uniform(-10, 30), 2.0
    if kind == "infiltrative":
        return liver + rng.choice([-1, 1]) * rng.uniform(12, 25), liver, 8.0
    sign = -1 if rng.random() < 0.75 else 1                  # most liver lesions are hypodense
    core = liver + sign * rng.uniform(20, 70)
    if kind == "homogeneous":
        return core, core, rng.uniform(2, 10)
    rim = liver + rng.uniform(15, 80)                        # arterial / portal rim enhancement
    if kind == "necrotic":
        core = rng.uniform(0, 30)
    return core, rim, rng.uniform(3, 10)


def ct_sim_slice(seed: int, shape: tuple[int, int] = (128, 128), lesion: bool | None = None,
                 variant: int = 0) -> CTSimSlice:
    """A seeded randomised abdominal CT slice; lesion=None draws whether it has a liver lesion.

    ``lesion`` in the result says whether the lesion is visible: at least 6 pixels, and its mean
    at least max(10 HU, 2 noise SD) from a 3-pixel ring around it. ``variant`` redraws from a seed.
    """
    rng = sh.sub_rng(seed, 41, variant)
    if lesion is None:
        lesion = bool(rng.integers(0, 2))
    H, W = int(shape[0]), int(shape[1])
    zoom = float(rng.uniform(0.75, 1.3))
    v, u = sh.frame_2d((H, W), tuple(rng.uniform(-0.2, 0.2, 2)), float(rng.uniform(-10, 10)), zoom)
    air = float(rng.uniform(-1010, -960))
    img = np.full((H, W), air, np.float32)
    if rng.random() < 0.7:                                   # patient table below the body
        ty = float(rng.uniform(0.68, 0.9))
        img[(v > ty) & (v < ty + 0.03)] = rng.uniform(-300, 200)
    by, bx = rng.uniform(0.5, 0.7), rng.uniform(0.75, 0.95)
    body = sh.ellipse(v, u, 0.02, 0, by, bx, wobble=rng.uniform(0, 0.05), lobes=2)
    fat = rng.uniform(0.03, 0.18)
    img[body < 1] = rng.uniform(-120, -80)
    img[body < 1 - fat] = rng.uniform(35, 55)
    inner = body < 1 - fat - rng.uniform(0.03, 0.07)
    img[inner] = rng.uniform(-110, -70)
    # liver: random size, position, density; with lobulation
    liver_hu = float(rng.uniform(35, 80))
    lc = (float(rng.uniform(-0.15, 0.05)), float(rng.uniform(-0.4, -0.2)))
    lr = (float(rng.uniform(0.3, 0.45)), float(rng.uniform(0.28, 0.42)))
    liver_r = sh.ellipse(v, u, lc[0], lc[1], lr[0], lr[1], rng.uniform(-20, 20),
                         wobble=rng.uniform(0, 0.1), lobes=int(rng.integers(2, 5)), phase=rng.uniform(0, 6.3))
    liver = (liver_r < 1) & inner
    img[liver] = liver_hu
    organs = [(0.12, 0.45, 0.2, 0.12, 30, rng.uniform(40, 55))]         # spleen
    for sx in (-1, 1):
        organs.append((0.28, sx * 0.3, 0.13, 0.08, sx * 25, rng.uniform(120, 200)))   # kidneys
    for oy, ox, ry, rx, ang, hu in organs:
        o = sh.ellipse(v, u, oy + rng.uniform(-0.05, 0.05), ox + rng.uniform(-0.05, 0.05),
                       ry * rng.uniform(0.7, 1.2), rx * rng.uniform(0.7, 1.2), ang)
        img[(o < 1) & inner & ~liver] = hu
    img[sh.ellipse(v, u, 0.15, 0.06, 0.055, 0.055) < 1] = rng.uniform(120, 250)    # aorta
    img[sh.ellipse(v, u, 0.12, -0.1, 0.05, 0.07) < 1] = rng.uniform(90, 180)        # IVC
    vert = sh.ellipse(v, u, 0.36, 0, 0.11, 0.11)
    img[vert < 1] = rng.uniform(600, 1000)
    img[vert < 0.8] = rng.uniform(150, 300)
    for _ in range(int(rng.integers(0, 7))):                  # bowel: fluid, contrast, gas
        b = sh.ellipse(v, u, rng.uniform(-0.5, 0.2), rng.uniform(-0.1, 0.65), rng.uniform(0.03, 0.1),
                       rng.uniform(0.03, 0.1))
        img[(b < 1) & inner & ~liver] = 45
        img[(b < 0.8) & inner & ~liver] = rng.choice([rng.uniform(0, 40), rng.uniform(150, 400), -1000])
    hepatic = rng.uniform(100, 200)
    for _ in range(int(rng.integers(1, 6))):                  # portal / hepatic vessels in the liver
        nodes = sh.random_walk(rng, (lc[0] + rng.uniform(-0.1, 0.1), lc[1] + rng.uniform(-0.1, 0.1)),
                               int(rng.integers(2, 5)), float(rng.uniform(0.05, 0.1)))
        img[(sh.polyline_distance(v, u, nodes) < rng.uniform(0.008, 0.016)) & liver] = \
            hepatic if rng.random() < 0.7 else liver_hu - rng.uniform(10, 40)
    if rng.random() < 0.5:                                     # gallbladder at the liver edge
        gb = sh.ellipse(v, u, lc[0] + lr[0] * 0.6, lc[1] + lr[1] * 0.5, 0.09, 0.05, rng.uniform(-50, 0))
        img[(gb < 1) & inner] = rng.uniform(0, 20)
    mask = np.zeros((H, W), bool)
    kind = ""
    if lesion:
        kind = str(rng.choice(LESION_KINDS))
        d_mm = float(np.exp(rng.uniform(np.log(3.0), np.log(40.0))))
        pixel_mm = 380.0 * zoom ** -1 / max(H, W) * 1.0
        r = d_mm / 2 / (pixel_mm * max(H, W) / 2 * zoom)    # in frame units
        for _ in range(50):
            cy, cx = lc[0] + rng.uniform(-0.8, 0.8) * lr[0], lc[1] + rng.uniform(-0.8, 0.8) * lr[1]
            rr = sh.ellipse(v, u, cy, cx, r, r * rng.uniform(0.8, 1.2),
                            wobble=rng.uniform(0.1, 0.3) if kind == "infiltrative" else rng.uniform(0, 0.1),
                            lobes=int(rng.integers(3, 7)), phase=rng.uniform(0, 6.3))
            m = (rr < 1) & liver
            if m.sum() >= max(2, 0.6 * (rr < 1).sum()):
                break
        core, rim, amp = _lesion_hu(rng, kind, liver_hu)
        tex = sh.gaussian_blur(rng.normal(0, 1, (H, W)).astype(np.float32), 1.5) * amp * 3
        if kind == "infiltrative":   # ill-defined edge: blend over the outer third
            wgt = np.clip((1.0 - rr) / 0.35, 0, 1)
            img[m] = (img[m] * (1 - wgt[m]) + (core + tex[m]) * wgt[m])
        else:
            img[m] = core + tex[m]
            if kind in ("ring", "necrotic", "cystic"):
                width = {"ring": 0.3, "necrotic": 0.45, "cystic": 0.12}[kind]
                ring = m & (rr > 1 - width)
                img[ring] = rim + tex[ring]
        mask = m
    img = sh.gaussian_blur(img, float(rng.uniform(0.4, 1.0)) * max(H, W) / 128.0)
    noise_sd = float(rng.uniform(5, 20))
    img += rng.normal(0, noise_sd, (H, W)).astype(np.float32)
    visible = bool(mask.sum() >= 6) and _conspicuous(img, mask, max(10.0, 2 * noise_sd))
    mm = 380.0 / zoom / max(H, W)
    return CTSimSlice(np.maximum(img, -1024).astype(np.float32), mask if visible else np.zeros_like(mask),
                      body < 1, visible, kind if visible else "", (mm, mm))

"""Knee MR exam phantoms (MRNet-style): three planes, labels abnormal / ACL tear / meniscal tear.

A 3D knee (z superior->inferior, y anterior->posterior, x medial->lateral) is painted with a
fat-suppressed proton-density look, then sliced into sagittal (slices along x), coronal (along y)
and axial (along z) stacks with their own noise, bias field and slice count.
Distractors: the posterior cruciate ligament, popliteal vessels, physiological joint fluid.
"""
from __future__ import annotations

import numpy as np

from inference.phantoms import shapes as sh

KNEE_LABELS: tuple[str, ...] = ("abnormal", "ACL tear", "meniscal tear")
PLANES: tuple[str, ...] = ("sagittal", "coronal", "axial")


def _segment_field(pts: np.ndarray, a: tuple[float, ...], b: tuple[float, ...]) -> np.ndarray:
    return sh.segment_distance(pts, np.asarray(a, np.float32), np.asarray(b, np.float32))


def _knee_volume(rng: np.random.Generator, n: int, acl: bool, meniscus: bool,
                 other: bool) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[str, ...]]:
    g = np.linspace(-1, 1, n, dtype=np.float32)
    z, y, x = np.meshgrid(g, g, g, indexing="ij")
    ang = np.deg2rad(rng.uniform(-10, 10))
    s = rng.uniform(0.9, 1.1)
    y, x = ((np.cos(ang) * y - np.sin(ang) * x) / s + rng.uniform(-0.06, 0.06),
            (np.sin(ang) * y + np.cos(ang) * x) / s + rng.uniform(-0.06, 0.06))
    z = z / s + rng.uniform(-0.05, 0.05)
    pts = np.stack([z, y, x], axis=-1)
    vol = np.zeros((n, n, n), dtype=np.float32)
    vol[(y / 0.8) ** 2 + (x / 0.85) ** 2 < 1] = 230.0                        # soft tissue
    marrow = rng.uniform(100, 160)
    vol[((y / 0.3) ** 2 + (x / 0.32) ** 2 < 1) & (z < -0.05)] = marrow         # femoral shaft
    for sx in (-1, 1):
        cond = sh.ellipsoid(z, y, x, (-0.08, 0.05, sx * 0.22), (0.2, 0.32, 0.2))
        vol[cond < 1.12] = 560.0                                           # cartilage
        vol[cond < 1] = marrow
    tib = ((y / 0.38) ** 2 + (x / 0.5) ** 2 < 1) & (z > 0.16)
    vol[((y / 0.38) ** 2 + (x / 0.5) ** 2 < 1) & (z > 0.13)] = 560.0
    vol[tib] = marrow
    # physiological joint fluid and popliteal vessels (distractors)
    vol[sh.ellipsoid(z, y, x, (-0.3, -0.42, 0.0), (0.12, 0.05, 0.2)) < 1] = 750.0
    vol[(np.hypot(y - 0.6, x - 0.05) < 0.06)] = 620.0
    vol[(np.hypot(y - 0.62, x + 0.1) < 0.045)] = 560.0
    masks = {lab: np.zeros((n, n, n), dtype=bool) for lab in KNEE_LABELS}
    findings: list[str] = []
    # menisci: wedges around each compartment at the joint line
    side = int(rng.choice([-1, 1]))
    for sx in (-1, 1):
        r = np.hypot(y - 0.02, x - sx * 0.25)
        wedge = (r > 0.11) & (r < 0.23) & (np.abs(z - 0.1) < 0.02 + 0.06 * (r - 0.11))
        vol[wedge] = 60.0
        if meniscus and sx == side:
            slope = rng.uniform(-0.4, 0.4)
            tear = wedge & (y > -0.05) & (np.abs(z - 0.1 - slope * (r - 0.17)) < 0.03)
            vol[tear] = 780.0
            masks["meniscal tear"] |= tear
    # cruciate ligaments: ACL from the lateral femoral notch to the anterior tibia, PCL behind
    acl_a, acl_b = (-0.08, 0.22, 0.06), (0.16, -0.12, -0.03)
    d_acl = _segment_field(pts, acl_a, acl_b)
    acl_vox = d_acl < 0.05
    vol[acl_vox] = 70.0
    d_pcl = _segment_field(pts, (-0.1, 0.05, -0.06), (0.22, 0.32, -0.01))
    vol[d_pcl < 0.055] = 55.0
    if acl:
        t = rng.uniform(0.35, 0.65)
        mid = tuple(a + t * (b - a) for a, b in zip(acl_a, acl_b))
        gap = sh.ellipsoid(z, y, x, mid, (0.09, 0.09, 0.09)) < 1
        vol[gap & (d_acl < 0.09)] = 760.0
        vol[acl_vox & ~gap] = 380.0                                         # oedematous stumps
        masks["ACL tear"] |= gap & (d_acl < 0.09)
        findings.append("ACL tear")
    if meniscus:
        findings.append("meniscal tear")
    if acl or other:                                                        # effusion
        eff = sh.ellipsoid(z, y, x, (-0.3, -0.45, 0.0), (0.25, 0.12, 0.35)) < 1
        vol[eff & (vol < 700)] = 820.0
        masks["abnormal"] |= eff
        findings.append("effusion")
    if other and rng.random() < 0.6:                                        # bone bruise
        c = (rng.uniform(-0.15, 0.3), rng.uniform(-0.15, 0.2), rng.choice([-0.25, 0.25]))
        bruise = (sh.ellipsoid(z, y, x, c, (0.1, 0.12, 0.12)) < 1) & (vol == marrow)
        vol[bruise] = 520.0
        masks["abnormal"] |= bruise
        findings.append("bone bruise")
    masks["abnormal"] |= masks["ACL tear"] | masks["meniscal tear"]
    return vol, masks, tuple(findings)


def _plane_view(arr: np.ndarray, plane: str) -> np.ndarray:
    """(z, y, x) volume -> (S, H, W) stack for the plane."""
    if plane == "sagittal":
        return arr.transpose(2, 0, 1)
    if plane == "coronal":
        return arr.transpose(1, 0, 2)
    return arr


def knee_exam(seed: int, size: int = 64, abnormal: bool | None = None, acl: bool | None = None,
              meniscus: bool | None = None, planes: tuple[str, ...] = PLANES,
              ) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """A seeded knee exam: {plane: float32 (S, H, W)} and labels.

    Labels: {"abnormal", "ACL tear", "meniscal tear": bool, "findings": tuple[str],
    "masks": {label: {plane: bool (S, H, W)}}}, masks marking where each finding is.
    Slice counts differ between planes (between 60 % and 100 % of ``size``).
    """
    rng = sh.sub_rng(seed, 21)
    acl = bool(rng.random() < 0.35) if acl is None else acl
    meniscus = bool(rng.random() < 0.35) if meniscus is None else meniscus
    if abnormal is None:
        other = (not (acl or meniscus)) and bool(rng.random() < 0.4)
    else:
        other = bool(abnormal) and not (acl or meniscus)
        if not abnormal and (acl or meniscus):
            raise ValueError("a knee with a tear is abnormal")
    vol, masks, findings = _knee_volume(rng, size, acl, meniscus, other)
    images: dict[str, np.ndarray] = {}
    plane_masks: dict[str, dict[str, np.ndarray]] = {lab: {} for lab in KNEE_LABELS}
    for p in planes:
        prng = sh.sub_rng(seed, 22, PLANES.index(p))
        stack = _plane_view(vol, p)
        count = int(prng.integers(int(0.6 * size), size + 1))
        idx = np.round(np.linspace(0.08 * size, 0.92 * size - 1, count)).astype(int)
        img = stack[idx] * prng.uniform(0.7, 1.4) * sh.bias_field(prng, stack.shape[1:], 0.2)
        img = sh.gaussian_blur(img, (0.0, 0.6, 0.6))
        images[p] = sh.rician_noise(prng, img, prng.uniform(15, 35))
        for lab in KNEE_LABELS:
            plane_masks[lab][p] = _plane_view(masks[lab], p)[idx]
    labels: dict[str, object] = {"abnormal": bool(acl or meniscus or other), "ACL tear": acl,
                                 "meniscal tear": meniscus, "findings": findings,
                                 "masks": plane_masks}
    return images, labels

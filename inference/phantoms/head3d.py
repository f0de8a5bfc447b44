"""An analytic 3-D head model: tissue labels at any point, so that any plane can be sliced.

Head frame (normalised units, 1 unit ~ 105 mm): x left-right, y anterior (-) to posterior (+),
z inferior (-) to superior (+). ``labels(points, anatomy)`` paints tissue indices of
:data:`inference.phantoms.mr_physics.TISSUES` at points (N, 3) given as (x, y, z); later
structures overwrite earlier ones. Scalp, skull with marrow, dura, CSF, cortex with sulci, white
matter, deep grey nuclei, ventricles with choroid plexus, cerebellum, brainstem and cord, eyes,
paranasal sinuses, neck muscles and vertebrae, venous sinuses and random vessels, and an
optional lesion (homogeneous, ring-enhancing, necrotic, cystic or infiltrative).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.phantoms.mr_physics import T

MM = 1.0 / 105.0   # normalised units per millimetre
LESION_KINDS = ("homogeneous", "ring", "necrotic", "cystic", "infiltrative")


@dataclass(frozen=True)
class Lesion:
    """A brain lesion: centre (x, y, z), radius (units), kind, oedema factor, shape wobble."""

    centre: tuple[float, float, float]
    radius: float
    kind: str
    rim: float
    oedema: float
    wobble: float
    phases: tuple[float, ...]


@dataclass(frozen=True)
class Anatomy:
    """Random anatomy of one head (all lengths in normalised units)."""

    scale: tuple[float, float, float]
    brain: float                 # brain size relative to the skull (atrophy < 1)
    cortex: float                # cortical thickness (fraction of the brain radius)
    vent: float                  # ventricle size factor
    scalp_fat: float
    gyri: np.ndarray             # (K, 4): wave vector (3) and phase
    vessels: tuple[np.ndarray, ...]
    pvs: np.ndarray              # (M, 4): small perivascular spaces (x, y, z, r)
    fat_pads: np.ndarray         # (F, 6): fat pads of the face and neck (centre, radii)
    lesion: Lesion | None


def _q(p: np.ndarray, c: tuple[float, float, float], r: tuple[float, float, float]) -> np.ndarray:
    """Normalised ellipsoid radius of points p (N, 3) (< 1 inside)."""
    d = (p - np.asarray(c, np.float32)) / np.asarray(r, np.float32)
    return np.sqrt((d * d).sum(-1))


def _waves(p: np.ndarray, waves: np.ndarray) -> np.ndarray:
    """Sum of plane waves, about -1..1: a smooth 3-D pattern (gyri, textures)."""
    acc = np.zeros(len(p), np.float32)
    for k in waves:
        acc += np.sin(p @ k[:3] + k[3]).astype(np.float32)
    return acc / np.sqrt(len(waves))


def _tube(p: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Distance of points (N, 3) to the polyline ``nodes`` (K, 3)."""
    d = np.full(len(p), np.inf, np.float32)
    for a, b in zip(nodes[:-1], nodes[1:]):
        ab = b - a
        t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-9), 0, 1)
        d = np.minimum(d, np.linalg.norm(p - (a + t[:, None] * ab), axis=1))
    return d


def random_lesion(rng: np.random.Generator, diameter_mm: tuple[float, float] = (3.0, 40.0)) -> Lesion:
    """A lesion inside the cerebrum (or the cerebellum), diameter drawn log-uniform in mm."""
    d = float(np.exp(rng.uniform(np.log(diameter_mm[0]), np.log(diameter_mm[1]))))
    r = d / 2 * MM
    while True:
        if rng.random() < 0.85:
            c = (rng.uniform(-0.5, 0.5), rng.uniform(-0.6, 0.6), rng.uniform(-0.25, 0.5))
            if _q(np.array([c], np.float32), (0, 0.03, 0.08), (0.55, 0.7, 0.55))[0] < 1 - r * 1.5:
                break
        else:
            c = (rng.uniform(-0.3, 0.3), rng.uniform(0.4, 0.6), rng.uniform(-0.5, -0.38))
            break
    kind = str(rng.choice(LESION_KINDS))
    return Lesion(tuple(float(v) for v in c), r, kind, float(rng.uniform(0.15, 0.45)),
                  float(rng.uniform(1.0, 2.2)) if kind != "cystic" else float(rng.uniform(1.0, 1.3)),
                  float(rng.uniform(0.0, 0.35 if kind == "infiltrative" else 0.15)),
                  tuple(float(v) for v in rng.uniform(0, 6.28, 4)))


def random_anatomy(rng: np.random.Generator, lesion: bool) -> Anatomy:
    """Random head shape, brain size, cortex, ventricles, gyral pattern, vessels and lesion."""
    k = rng.normal(0, 1, (16, 3)).astype(np.float32)
    k *= (rng.uniform(25, 45, 16) / np.linalg.norm(k, axis=1))[:, None]
    gyri = np.concatenate([k, rng.uniform(0, 6.28, (16, 1)).astype(np.float32)], 1)
    vessels = []
    for _ in range(int(rng.integers(3, 8))):
        start = rng.uniform([-0.4, -0.5, -0.2], [0.4, 0.5, 0.4])
        steps = rng.normal(0, 0.08, (int(rng.integers(3, 7)), 3))
        vessels.append(np.cumsum(np.vstack([start, steps]), 0).astype(np.float32))
    # circle-of-Willis branches and neck arteries
    for sx in (-1, 1):
        vessels.append(np.array([[sx * 0.05, -0.1, -0.3], [sx * 0.25, -0.05, -0.25],
                                 [sx * 0.45, 0.05, -0.05]], np.float32))
        vessels.append(np.array([[sx * 0.2, -0.02, -1.6], [sx * 0.18, -0.05, -0.6],
                                 [sx * 0.06, -0.1, -0.32]], np.float32))
    n_pvs = int(rng.integers(0, 6))
    pvs = np.concatenate([rng.uniform([-0.35, -0.3, -0.15], [0.35, 0.3, 0.25], (n_pvs, 3)),
                          rng.uniform(0.5, 1.5, (n_pvs, 1)) * MM], 1).astype(np.float32)
    return Anatomy(scale=tuple(float(v) for v in rng.uniform(0.9, 1.1, 3)),
                   brain=float(rng.uniform(0.9, 1.0)), cortex=float(rng.uniform(0.07, 0.12)),
                   vent=float(rng.uniform(0.6, 1.8)), scalp_fat=float(rng.uniform(0.03, 0.08)),
                   gyri=gyri, vessels=tuple(vessels), pvs=pvs,
                   fat_pads=np.concatenate([rng.uniform([-0.4, -0.6, -1.3], [0.4, 0.6, -0.45], (10, 3)),
                                            rng.uniform(0.06, 0.2, (10, 3))], 1).astype(np.float32),
                   lesion=random_lesion(rng) if lesion else None)


def labels(p: np.ndarray, a: Anatomy) -> tuple[np.ndarray, np.ndarray]:
    """Tissue index (N,) uint8 and flow-void weight (N,) float32 at points p (N, 3) = (x, y, z)."""
    p = (p / np.asarray(a.scale, np.float32)).astype(np.float32)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    lab = np.full(len(p), T["air"], np.uint8)
    flow = np.zeros(len(p), np.float32)
    # outer head: cranium, face and neck
    qh = _q(p, (0, 0.02, 0.0), (0.72, 0.9, 0.85))
    face = _q(p, (0, -0.4, -0.5), (0.5, 0.5, 0.45))
    neck_r = np.sqrt((x / 0.45) ** 2 + ((y - 0.15) / 0.52) ** 2)
    neck = (neck_r < 1) & (z < -0.25)
    body = (qh < 1) | (face < 1) | neck
    lab[body] = T["fat"]
    outer = np.minimum(np.minimum(qh, face), np.where(z < -0.25, neck_r, 9))
    lab[body & (outer > 0.985)] = T["skin"]
    deep = body & (outer < 0.93) & (qh > 0.8)          # under the scalp fat, outside the skull
    lab[deep & (z < -0.3)] = T["muscle"]
    lab[body & (outer < 1 - a.scalp_fat - 0.06) & (z < -0.38)] = T["muscle"]   # face and neck
    for c in a.fat_pads:
        lab[body & (z < -0.45) & (_q(p, tuple(c[:3]), tuple(c[3:])) < 1)] = T["fat"]
    airway = np.sqrt(x ** 2 + ((y + 0.02) / 1.4) ** 2) < 0.045
    lab[airway & (z < -0.5) & (z > -1.6) & body] = T["air"]
    lab[deep & (np.abs(x) > 0.45) & (z > -0.3) & (z < 0.3) & (outer < 1 - a.scalp_fat)] = T["muscle"]
    lab[neck & (neck_r < 0.88) & (z < -0.55)] = T["muscle"]
    # vertebrae, canal and cord in the neck
    vr = np.sqrt(x ** 2 + ((y - 0.22) / 1.1) ** 2)
    spine = (z < -0.62)
    lab[spine & (vr < 0.13)] = T["bone"]
    lab[spine & (vr < 0.11)] = T["marrow"]
    canal = np.sqrt(x ** 2 + (y - 0.4) ** 2)
    lab[(z < -0.55) & (canal < 0.07)] = T["csf"]
    lab[(z < -0.5) & (canal < 0.04)] = T["wm"]
    # skull (bone, marrow), dura, intracranial CSF
    inner = 0.86 - 0.02 * (a.scalp_fat - 0.05) / 0.05
    skull = (qh < inner + 0.08) & (z > -0.47 + 0.12 * np.clip(-y, 0, 1))
    lab[skull] = T["bone"]
    lab[skull & (qh > inner + 0.025) & (qh < inner + 0.055)] = T["marrow"]
    base = skull & (qh < inner) & (z < -0.33)
    lab[base] = T["bone"]
    lab[base & (z < -0.36) & (z > -0.4)] = T["marrow"]
    ic = (qh < inner) & (z > -0.4 - 0.15 * (y > 0.15))
    lab[ic] = T["dura"]
    lab[ic & (qh < inner - 0.015)] = T["csf"]
    # face: eyes in orbital fat, sinuses lined with mucosa, tongue muscle
    for sx in (-1, 1):
        orb = _q(p, (sx * 0.28, -0.7, -0.2), (0.16, 0.16, 0.14))
        lab[orb < 1] = T["fat"]
        lab[_q(p, (sx * 0.28, -0.74, -0.2), (0.1, 0.1, 0.1)) < 1] = T["vitreous"]
    sinus = _q(p, (0, -0.62, -0.45), (0.22, 0.16, 0.14))
    lab[sinus < 1] = T["mucosa"]
    lab[sinus < 0.8] = T["air"]
    sph = _q(p, (0, -0.3, -0.42), (0.08, 0.09, 0.06))
    lab[sph < 1] = T["mucosa"]
    lab[sph < 0.7] = T["air"]
    lab[_q(p, (0, -0.35, -0.8), (0.25, 0.3, 0.14)) < 1] = T["muscle"]
    # brain
    bs = a.brain
    qc = _q(p, (0, 0.03, 0.05), (0.61 * bs, 0.76 * bs, 0.66 * bs))
    g = _waves(p, a.gyri)
    cereb = (qc < 1) & (z > -0.36) & ic
    lab[cereb] = T["gm"]
    lab[cereb & (qc < 1 - a.cortex - 0.1 * g)] = T["wm"]                          # gyral white matter
    deep_sulc = qc > 1 - a.cortex * 2.4
    lab[cereb & deep_sulc & (np.abs(g) < 0.3)] = T["gm"]                          # cortex lines sulci
    lab[cereb & deep_sulc & (np.abs(g) < 0.1)] = T["csf"]                         # sulci
    fissure = (np.abs(x) < 0.012) & (z > 0.26) & cereb
    lab[fissure] = T["csf"]
    lab[fissure & (np.abs(x) < 0.004)] = T["dura"]                                 # falx
    cbl = _q(p, (0, 0.48, -0.42), (0.42, 0.28, 0.19)) * bs ** -0.3
    cb = (cbl < 1) & ic
    lab[cb] = T["gm"]
    lab[cb & (np.sin(55 * z + 20 * y) > 0.55)] = T["csf"]                          # folia
    lab[cb & (cbl < 0.5 + 0.1 * g)] = T["wm"]
    stem = _q(p, (0, 0.22, -0.5), (0.1, 0.11, 0.3)) < 1
    lab[stem & (z > -0.85)] = T["wm"]
    for sx in (-1, 1):
        lab[cereb & (_q(p, (sx * 0.11, 0.1, 0.0), (0.08, 0.12, 0.08)) < 1)] = T["deep_gm"]
        lab[cereb & (_q(p, (sx * 0.21, -0.05, 0.05), (0.05, 0.13, 0.09)) < 1)] = T["deep_gm"]
    v = a.vent
    for sx in (-1, 1):
        vent = _q(p, (sx * 0.08 * max(v, 0.8), 0.02, 0.14), (0.06 * v, 0.3, 0.09 * v)) < 1
        lab[vent & cereb] = T["csf"]
        lab[vent & cereb
            & (_q(p, (sx * 0.08 * max(v, 0.8), 0.15, 0.11), (0.03, 0.07, 0.03)) < 1)] = T["choroid"]
    lab[cereb & (np.abs(x) < 0.012 * v) & (np.abs(y - 0.05) < 0.1) & (np.abs(z + 0.05) < 0.08)] = T["csf"]
    lab[(_q(p, (0, 0.36, -0.45), (0.03, 0.04, 0.05)) < 1) & ic] = T["csf"]                # 4th ventricle
    lab[(_q(p, (0, -0.12, -0.4), (0.045, 0.04, 0.035)) < 1)] = T["choroid"]              # pituitary
    for c in a.pvs:
        lab[cereb & (_q(p, tuple(c[:3]), (c[3], c[3], c[3] * 3)) < 1)] = T["csf"]
    # venous sinuses and vessels (enhance; flow void on spin echo)
    sss = ic & (qh > inner - 0.04) & (np.abs(x) < 0.035) & ((z > 0.1) | (y > 0.35))
    trans = ic & (qh > inner - 0.05) & (np.abs(z + 0.3) < 0.03) & (y > 0.3)
    for m in (sss, trans):
        lab[m] = T["vessel"]
        flow[m] = 0.6
    for nodes in a.vessels:
        m = (_tube(p, nodes) < 0.012) & (body)
        lab[m] = T["vessel"]
        flow[m] = 0.9
    if a.lesion is not None:
        _paint_lesion(p, a.lesion, lab, cereb | cb)
    return lab, flow


def lesion_radius_field(p: np.ndarray, les: Lesion) -> np.ndarray:
    """Normalised radius of the lesion at points p (N, 3) in head units (< 1 inside)."""
    d = p - np.asarray(les.centre, np.float32)
    r = np.sqrt((d * d).sum(-1)) / les.radius
    if les.wobble:
        th = np.arctan2(d[:, 1], d[:, 0])
        ph = np.arctan2(d[:, 2], np.hypot(d[:, 0], d[:, 1]) + 1e-6)
        w = (np.sin(3 * th + les.phases[0]) + np.sin(2 * ph + les.phases[1])
             + np.sin(5 * th + 3 * ph + les.phases[2])) / 3
        r = r / (1 + les.wobble * w)
    return r.astype(np.float32)


def _paint_lesion(p: np.ndarray, les: Lesion, lab: np.ndarray, brain: np.ndarray) -> None:
    r = lesion_radius_field(p, les)
    oed = (r < les.oedema) & brain & (lab != T["csf"]) & (r >= 1)
    lab[oed] = T["oedema"]
    core = (r < 1) & brain
    if les.kind in ("homogeneous", "infiltrative"):
        lab[core] = T["lesion_core"]
    elif les.kind == "ring":
        lab[core] = T["lesion_rim"]
        lab[core & (r < 1 - les.rim)] = T["necrosis"]
    elif les.kind == "necrotic":
        lab[core] = T["lesion_rim"]
        lab[core & (r < 1 - les.rim * 1.4)] = T["necrosis"]
    else:   # cystic: fluid with a thin wall, sometimes a mural nodule
        lab[core] = T["lesion_rim"]
        lab[core & (r < 0.88)] = T["cyst"]


LESION_LABELS = (T["lesion_core"], T["lesion_rim"], T["necrosis"], T["cyst"])

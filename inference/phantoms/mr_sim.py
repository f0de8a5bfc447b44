"""Physics-based brain MR slices: the 3-D head model sliced in any plane and rendered through
the signal equations with domain randomisation (in the spirit of SynthSeg).

Per slice: field strength (1.5 T / 3 T relaxation times, each tissue jittered), a random protocol
of the requested contrast class (SE, 2-D / 3-D spoiled GRE, MPRAGE-like IR-GRE, T2 TSE, FLAIR with
TI near the CSF null), gadolinium for post-contrast (vessels, choroid plexus, pituitary, dura,
mucosa, enhancing lesions), plane (axial, coronal, sagittal, tilted up to 12 degrees), slice
position, field of view (the head touches the image edge on some slices), acquisition matrix
(resolution), slice thickness 1-6 mm (partial volume: three sub-slices averaged in the signal
domain), bias field, a monotonic intensity curve (gamma 0.7-1.4: tissue order kept, ratios not),
Rician noise, ghosting in the air, intensity scale. Numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.phantoms import head3d
from inference.phantoms import mr_physics as mp
from inference.phantoms.shapes import bias_field, ring_around, sub_rng

PLANES_3D = ("axial", "coronal", "sagittal")
# (row axis, column axis, normal) of each plane in the head frame (x, y, z).
_AXES = {
    "axial": ((0, 1, 0), (1, 0, 0), (0, 0, 1)),
    "coronal": ((0, 0, -1), (1, 0, 0), (0, 1, 0)),
    "sagittal": ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
}
_NORMAL_RANGE = {"axial": (-0.45, 0.7), "coronal": (-0.7, 0.65), "sagittal": (-0.6, 0.6)}


@dataclass(frozen=True)
class MRSlice:
    """A simulated MR slice: image (H, W) float32 (arbitrary units, >= 0), lesion mask and body
    mask (H, W) bool, the contrast class, plane, sequence and pixel spacing in mm (row, column)."""

    image: np.ndarray
    mask: np.ndarray
    body: np.ndarray
    lesion: bool
    contrast: str
    plane: str
    sequence: mp.Sequence
    spacing: tuple[float, float]


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    ax, ay, az = np.deg2rad(rng.uniform(-max_deg, max_deg, 3))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def upsample(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (h, w) to ``shape`` (pixel centres aligned, edges clamped)."""
    h, w = img.shape
    ys = np.clip((np.arange(shape[0]) + 0.5) * h / shape[0] - 0.5, 0, h - 1)
    xs = np.clip((np.arange(shape[1]) + 0.5) * w / shape[1] - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bot = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def _conspicuous(img: np.ndarray, mask: np.ndarray, noise_sd: float) -> bool:
    """A lesion a reader can see: its mean differs from a 2-3 pixel ring around it by more than
    10 % of the ring's mean and by more than twice the noise standard deviation."""
    ring = ring_around(mask)
    if not ring.any():
        return False
    inside, around = float(img[mask].mean()), float(img[ring].mean())
    return abs(inside - around) > max(0.1 * abs(around), 2.0 * noise_sd)


def _tissue_table(contrast: str, field: str, les: head3d.Lesion | None,
                  rng: np.random.Generator) -> np.ndarray:
    tab = mp.tissue_table(field, rng, jitter=0.15)
    wm_t1, wm_t2 = tab[mp.T["wm"], 0], tab[mp.T["wm"], 1]
    uptake = 0.0
    if les is not None:    # lesion relaxation: hypo- or hyperintense on each contrast
        kind = les.kind
        if kind == "infiltrative":
            f1, f2 = rng.uniform(1.15, 1.8), rng.uniform(1.3, 2.6)
        else:
            f1, f2 = (np.exp(rng.uniform(np.log(0.55), np.log(3.0))),
                      np.exp(rng.uniform(np.log(0.75), np.log(3.5))))
        tab[mp.T["lesion_core"]] = (wm_t1 * f1, wm_t2 * f2, rng.uniform(0.7, 1.0))
        tab[mp.T["lesion_rim"]] = (wm_t1 * rng.uniform(1.1, 2.0), wm_t2 * rng.uniform(1.0, 2.0),
                                   rng.uniform(0.75, 0.95))
        tab[mp.T["necrosis"]] = (rng.uniform(1800, 3600), rng.uniform(250, 1200), rng.uniform(0.85, 1.0))
        tab[mp.T["cyst"]] = (rng.uniform(1400, 4200), rng.uniform(400, 2000), rng.uniform(0.85, 1.0))
        tab[mp.T["oedema"]] = (wm_t1 * rng.uniform(1.25, 1.8), wm_t2 * rng.uniform(1.5, 2.8),
                               rng.uniform(0.8, 0.92))
        uptake = {"ring": 1.0, "necrotic": 1.0, "cystic": 0.5, "homogeneous": 0.6,
                  "infiltrative": 0.0}[kind] * rng.uniform(0.3, 1.0)
    if contrast == "T1 post-contrast":
        tab = mp.add_gadolinium(tab, rng, dose=rng.uniform(0.6, 1.4))
        if les is not None and uptake > 0:
            for name in ("lesion_core", "lesion_rim") if les.kind in ("homogeneous",) else ("lesion_rim",):
                i = mp.T[name]
                tab[i, 0] = 1000.0 / (1000.0 / tab[i, 0] + mp.R1_GD * uptake * 1.2)
                tab[i, 1] = 1000.0 / (1000.0 / tab[i, 1] + mp.R2_GD * uptake * 1.2)
    return tab


def mr_slice(seed: int, shape: tuple[int, int] = (128, 128), contrast: str = "T1",
             lesion: bool | None = False, plane: str | None = None, variant: int = 0) -> MRSlice:
    """A seeded simulated brain MR slice (H, W) of ``contrast`` in ``plane`` (None: random).

    ``lesion`` True puts a lesion in the head and the slice through it; the returned ``lesion``
    flag says whether it is visible (mask of at least 2 pixels) on the slice. ``variant`` draws
    another slice from the same seed (used to redraw a lesion too small to see).
    """
    if contrast not in ("T1", "T1 post-contrast", "T2", "T2-FLAIR"):
        raise ValueError(f"unknown MR contrast {contrast!r}")
    rng = sub_rng(seed, 31, variant)
    if lesion is None:
        lesion = bool(rng.integers(0, 2))
    plane = plane or str(rng.choice(PLANES_3D))
    anat = head3d.random_anatomy(rng, lesion)
    prng = sub_rng(seed, 32, variant)   # physics draws apart: one seed, same geometry in every contrast
    field = "3" if prng.random() < 0.5 else "1.5"
    tab = _tissue_table(contrast, field, anat.lesion, prng)
    seq = mp.random_sequence(contrast, field, prng, float(tab[mp.T["csf"], 0]))
    # plane geometry
    r_ax, c_ax, n_ax = (np.asarray(v, np.float64) for v in _AXES[plane])
    rot = _rotation(rng, 12.0)
    r_ax, c_ax, n_ax = rot @ r_ax, rot @ c_ax, rot @ n_ax
    centre = np.array([0.0, 0.0, -0.05 if plane == "axial" else -0.15])
    centre += rng.uniform(-0.15, 0.15, 3)
    if anat.lesion is not None:
        lc = np.asarray(anat.lesion.centre)
        off = rng.uniform(-0.5, 0.5) * anat.lesion.radius
        centre = centre + n_ax * (float((lc - centre) @ n_ax) + off)
    else:
        lo, hi = _NORMAL_RANGE[plane]
        centre = centre + n_ax * (rng.uniform(lo, hi) - float(centre @ n_ax))
    half = float(rng.uniform(0.8, 1.3))
    H, W = int(shape[0]), int(shape[1])
    f = rng.uniform(0.55, 1.0)
    h, w = max(24, int(round(H * f))), max(24, int(round(W * f)))
    longest = max(h, w)
    rows = ((np.arange(h) + 0.5 - h / 2) / (longest / 2) * half).astype(np.float32)
    cols = ((np.arange(w) + 0.5 - w / 2) / (longest / 2) * half).astype(np.float32)
    if rng.random() < 0.5:
        cols = cols[::-1].copy()
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    grid = centre + rr.reshape(-1, 1) * r_ax + cc.reshape(-1, 1) * c_ax
    thick = rng.uniform(1.0, 6.0) * head3d.MM
    tex = rng.normal(0, 1, (5, 3)) * 40
    tex_w = np.concatenate([tex, rng.uniform(0, 6.28, (5, 1))], 1).astype(np.float32)
    inflow = float(prng.uniform(0.6, 1.8))
    acc = np.zeros(h * w, np.float32)
    lesion_c = body_c = None
    for k, off in enumerate((-thick / 3, 0.0, thick / 3)):
        pts = (grid + off * n_ax).astype(np.float32)
        lab, flow = head3d.labels(pts, anat)
        t1, t2, pd = (tab[lab, i] for i in range(3))
        if anat.lesion is not None:
            inl = np.isin(lab, head3d.LESION_LABELS)
            pd = np.where(inl, pd * (1 + 0.12 * head3d._waves(pts, tex_w)), pd)
        s = mp.signal(seq, t1, t2, pd, flow_void=flow)
        if seq.kind in ("GRE", "IR-GRE") and contrast == "T1":
            s = np.where(lab == mp.T["vessel"], s * inflow, s)    # inflow
        acc += s.astype(np.float32) / 3
        if k == 1:
            lesion_c = np.isin(lab, head3d.LESION_LABELS).reshape(h, w).astype(np.float32)
            body_c = (lab != mp.T["air"]).reshape(h, w).astype(np.float32)
    img = acc.reshape(h, w)
    img = img * bias_field(rng, (h, w), float(rng.uniform(0.0, 0.35)))
    scale = float(np.percentile(img, 99)) or 1.0
    img = scale * (np.maximum(img, 0) / scale) ** float(rng.uniform(0.7, 1.4))   # monotonic: order kept
    if rng.random() < 0.3:                     # phase-encode ghost, visible in the air
        axis = int(rng.integers(0, 2))
        img = img + rng.uniform(0.01, 0.05) * np.roll(img, int(img.shape[axis] * rng.uniform(0.25, 0.5)),
                                                      axis)
    sigma = scale * float(rng.uniform(0.005, 0.05))
    n1 = rng.normal(0, sigma, img.shape)
    n2 = rng.normal(0, sigma, img.shape)
    img = np.sqrt((img + n1) ** 2 + n2 ** 2)
    gain = float(rng.uniform(200, 3000)) / scale
    img = upsample(img.astype(np.float32), (H, W)) * gain
    mask = upsample(lesion_c, (H, W)) >= 0.35
    body = upsample(body_c, (H, W)) >= 0.5
    visible = bool(mask.sum() >= 2) and _conspicuous(img, mask, sigma * gain)
    if not visible:
        mask[:] = False
    mm = 2 * half / head3d.MM / max(H, W)
    return MRSlice(img.astype(np.float32), mask, body, visible, contrast, plane, seq, (mm, mm))

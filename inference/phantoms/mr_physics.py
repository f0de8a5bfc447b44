"""MR physics for the simulated phantoms: tissue relaxation times and pulse-sequence signal equations.

Tissue properties are (T1 ms, T2 ms, proton density 0..1) at 1.5 T and 3 T, from published
relaxometry (Stanisz et al., MRM 2005; Wansapura et al., JMRI 1999; Rooney et al., MRM 2007;
Bojorquez et al., MRI 2017): e.g. at 3 T white matter T1 830-1080 / T2 70-80, grey matter
T1 1330-1820 / T2 100-110, CSF T1 about 4000 / T2 about 2000, fat T1 about 380 / T2 about 130.
Gadolinium shortens T1 and T2 where it reaches tissue: 1/T = 1/T0 + r * [Gd] with r1 about
4 and r2 about 5 per mM per s.

Every function is numpy only and works on arrays of any shape (one value per voxel).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Tissue index order used by the label maps of inference.phantoms.head3d.
TISSUES: tuple[str, ...] = (
    "air", "fat", "skin", "bone", "marrow", "muscle", "csf", "gm", "wm", "deep_gm",
    "vessel", "choroid", "dura", "vitreous", "mucosa", "lesion_core", "lesion_rim",
    "necrosis", "oedema", "cyst",
)
T = {name: i for i, name in enumerate(TISSUES)}

# (T1 ms, T2 ms, PD) at 1.5 T and 3 T. Lesion entries are starting points that each phantom
# re-draws (hypo- or hyperintense, see head3d).
_RELAX: dict[str, dict[str, tuple[float, float, float]]] = {
    "1.5": dict(air=(1.0, 1.0, 0.0), fat=(290, 165, 0.95), skin=(800, 50, 0.7),
                bone=(250, 1.5, 0.05), marrow=(330, 120, 0.8), muscle=(1010, 44, 0.72),
                csf=(4000, 2000, 1.0), gm=(1150, 95, 0.82), wm=(650, 75, 0.7),
                deep_gm=(1000, 85, 0.78), vessel=(1440, 180, 0.85), choroid=(1100, 110, 0.85),
                dura=(900, 60, 0.6), vitreous=(3500, 1000, 0.98), mucosa=(1100, 90, 0.8),
                lesion_core=(1300, 120, 0.85), lesion_rim=(1250, 110, 0.85),
                necrosis=(2500, 500, 0.95), oedema=(1150, 180, 0.9), cyst=(3800, 1500, 0.98)),
    "3": dict(air=(1.0, 1.0, 0.0), fat=(380, 133, 0.95), skin=(1000, 45, 0.7),
              bone=(300, 1.2, 0.05), marrow=(420, 110, 0.8), muscle=(1420, 32, 0.72),
              csf=(4000, 2000, 1.0), gm=(1330, 110, 0.82), wm=(830, 80, 0.7),
              deep_gm=(1200, 80, 0.78), vessel=(1930, 150, 0.85), choroid=(1400, 100, 0.85),
              dura=(1150, 55, 0.6), vitreous=(3800, 900, 0.98), mucosa=(1400, 85, 0.8),
              lesion_core=(1600, 120, 0.85), lesion_rim=(1500, 105, 0.85),
              necrosis=(3000, 450, 0.95), oedema=(1450, 170, 0.9), cyst=(3900, 1400, 0.98)),
}
#: Tissues that take up gadolinium and their typical concentration (mM) at imaging time.
GD_UPTAKE: dict[str, tuple[float, float]] = {
    "vessel": (0.6, 1.6), "choroid": (0.4, 1.0), "dura": (0.25, 0.7), "mucosa": (0.2, 0.5),
    "muscle": (0.02, 0.08), "lesion_rim": (0.4, 1.2), "skin": (0.05, 0.15),
}
R1_GD, R2_GD = 4.0, 5.0   # relaxivity, per mM per s


def tissue_table(field: str, rng: np.random.Generator, jitter: float = 0.1) -> np.ndarray:
    """(n_tissues, 3) array of T1 ms, T2 ms, PD at field '1.5' or '3', each value scaled by a
    random factor in [1 - jitter, 1 + jitter] (anatomy / scanner variation)."""
    rows = np.array([_RELAX[field][name] for name in TISSUES], dtype=np.float64)
    rows *= rng.uniform(1 - jitter, 1 + jitter, rows.shape)
    rows[T["air"]] = (1.0, 1.0, 0.0)
    return rows


def add_gadolinium(table: np.ndarray, rng: np.random.Generator, dose: float = 1.0) -> np.ndarray:
    """Copy of ``table`` with T1 and T2 shortened where tissue enhances (dose scales [Gd])."""
    out = table.copy()
    for name, (lo, hi) in GD_UPTAKE.items():
        c = dose * rng.uniform(lo, hi)
        t1, t2 = out[T[name], 0], out[T[name], 1]
        out[T[name], 0] = 1000.0 / (1000.0 / t1 + R1_GD * c)
        out[T[name], 1] = 1000.0 / (1000.0 / t2 + R2_GD * c)
    return out


@dataclass(frozen=True)
class Sequence:
    """A pulse sequence: kind 'SE' (spin / turbo spin echo), 'GRE' (spoiled gradient echo),
    'IR-GRE' (inversion-prepared GRE, MPRAGE-like, real-valued) or 'FLAIR' (magnitude IR
    spin echo); times in ms, flip in degrees."""

    kind: str
    tr: float
    te: float
    ti: float = 0.0
    flip: float = 90.0


def signal(seq: Sequence, t1: np.ndarray, t2: np.ndarray, pd: np.ndarray,
           flow_void: np.ndarray | None = None) -> np.ndarray:
    """Steady-state signal of each voxel (arbitrary units, PD-scaled) for ``seq``.

    SE: PD (1 - e^(-TR/T1)) e^(-TE/T2). Spoiled GRE: PD sin a (1 - E1) / (1 - cos a E1) e^(-TE/T2*)
    with T2* = 0.6 T2. IR-GRE: PD max(1 - 2 e^(-TI/T1) + e^(-TR/T1), 0) (phase-sensitive: negative
    magnetisation is dark). FLAIR: PD |1 - 2 e^(-TI/T1) + e^(-TR/T1)| e^(-TE/T2).
    ``flow_void`` (0..1 per voxel) removes spin-echo signal of flowing blood.
    """
    t1 = np.maximum(t1, 1e-3)
    t2 = np.maximum(t2, 1e-3)
    if seq.kind == "SE":
        s = pd * (1 - np.exp(-seq.tr / t1)) * np.exp(-seq.te / t2)
    elif seq.kind == "GRE":
        a = np.deg2rad(seq.flip)
        e1 = np.exp(-seq.tr / t1)
        s = pd * np.sin(a) * (1 - e1) / (1 - np.cos(a) * e1) * np.exp(-seq.te / (0.6 * t2))
    elif seq.kind == "IR-GRE":
        s = pd * np.maximum(1 - 2 * np.exp(-seq.ti / t1) + np.exp(-seq.tr / t1), 0.0)
        s = s * np.exp(-seq.te / (0.6 * t2))
    elif seq.kind == "FLAIR":
        s = pd * np.abs(1 - 2 * np.exp(-seq.ti / t1) + np.exp(-seq.tr / t1)) * np.exp(-seq.te / t2)
    else:
        raise ValueError(f"unknown sequence kind {seq.kind!r}")
    if flow_void is not None and seq.kind in ("SE", "FLAIR"):
        s = s * (1 - flow_void)
    return s


def flair_null_ti(t1_csf: float, tr: float) -> float:
    """Inversion time (ms) that nulls a tissue of T1 ``t1_csf`` at repetition time ``tr``."""
    return float(t1_csf * np.log(2.0 / (1.0 + np.exp(-tr / t1_csf))))


def random_sequence(contrast: str, field: str, rng: np.random.Generator, t1_csf: float) -> Sequence:
    """A randomised protocol for one of the four contrast classes (ranges from clinical protocols).

    T1 and T1 post-contrast: SE T1w (TR 400-750, TE 8-20), 2-D FLASH (TR 150-600, TE 2-6,
    flip 50-90) or 3-D GRE / MPRAGE (IR-GRE, TI 800-1100 ms, TR 1800-2500). T2: TSE (TR 2500-7000,
    TE 80-120). FLAIR: IR-SE with TR 7000-11000, TE 80-140, TI within 6 % of the CSF null.
    """
    if contrast in ("T1", "T1 post-contrast"):
        kind = rng.choice(["SE", "GRE", "GRE3D", "IR-GRE"], p=[0.3, 0.3, 0.15, 0.25])
        if kind == "SE":
            return Sequence("SE", rng.uniform(400, 750), rng.uniform(8, 20))
        if kind == "GRE":
            return Sequence("GRE", rng.uniform(150, 600), rng.uniform(2, 6), flip=rng.uniform(50, 90))
        if kind == "GRE3D":
            return Sequence("GRE", rng.uniform(8, 25), rng.uniform(2, 5), flip=rng.uniform(15, 35))
        ti = rng.uniform(800, 1000) if field == "3" else rng.uniform(700, 900)
        return Sequence("IR-GRE", rng.uniform(1800, 2500), rng.uniform(2, 4), ti=ti, flip=8.0)
    if contrast == "T2":
        return Sequence("SE", rng.uniform(2500, 7000), rng.uniform(80, 120))
    if contrast == "T2-FLAIR":
        tr = rng.uniform(7000, 11000)
        return Sequence("FLAIR", tr, rng.uniform(80, 140),
                        ti=flair_null_ti(t1_csf, tr) * rng.uniform(0.94, 1.06))
    raise ValueError(f"unknown MR contrast {contrast!r}")

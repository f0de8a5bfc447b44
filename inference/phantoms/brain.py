"""Brain MR phantoms: axial slices with or without a tumour, four contrasts.

Two lesion styles: "ring" (the sample study's ring-enhancing tumour with necrosis and oedema) and
"varied" (training data: homogeneous, ring-enhancing, cystic or infiltrative, hypo- or
hyperintense against white matter, 6-40 mm, textured, with or without oedema; lesion-sized
distractors shrink to vessel cross-sections so that a homogeneous lesion is never a negative;
the normal anatomy varies more: ragged cortex, sulci, a midline fissure, each tissue's grey level
drawn afresh per slice).

Signal is in arbitrary MR units (about 0..1000). Distractors that a classifier must learn to
ignore: vessels, a dural sinus, choroid plexus, ventricles of varying size, homogeneous
lesion-like blobs (vessel cross-sections / dural enhancement), small CSF cysts, bias fields,
intensity scaling, rotation and Rician noise.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from inference.phantoms import shapes as sh

CONTRASTS: tuple[str, ...] = ("T1", "T1 post-contrast", "T2", "T2-FLAIR")

# Tissue signal per contrast (arbitrary MR units). Post-contrast enhances vessels, sinus,
# choroid plexus and the tumour rim; T2 makes CSF bright; FLAIR nulls CSF and keeps oedema bright.
_TISSUE: dict[str, dict[str, float]] = {
    "T1": dict(scalp=820, skull=70, csf=170, gm=520, wm=760, nuclei=560, necrosis=260,
               rim=430, oedema=470, vessel=500, sinus=330, choroid=480, blob=470, cyst=170),
    "T1 post-contrast": dict(scalp=840, skull=70, csf=170, gm=520, wm=760, nuclei=560,
                             necrosis=250, rim=980, oedema=460, vessel=930, sinus=960,
                             choroid=900, blob=930, cyst=170),
    "T2": dict(scalp=560, skull=40, csf=980, gm=640, wm=430, nuclei=560, necrosis=950,
               rim=720, oedema=830, vessel=90, sinus=110, choroid=700, blob=700, cyst=980),
    "T2-FLAIR": dict(scalp=620, skull=40, csf=110, gm=610, wm=440, nuclei=560, necrosis=300,
                     rim=820, oedema=900, vessel=110, sinus=140, choroid=260, blob=800, cyst=110),
}


@dataclass(frozen=True)
class BrainSlice:
    """One synthetic axial brain MR slice: image (H, W) float32, tumour mask (H, W) bool and
    the head (scalp inwards) as ``body`` and the space inside the skull as ``intracranial``,
    both (H, W) bool."""

    image: np.ndarray
    mask: np.ndarray
    tumour: bool
    contrast: str
    spacing: tuple[float, float]
    body: np.ndarray | None = None
    intracranial: np.ndarray | None = None
    #: what the tumour looks like: {"kind": the "varied" kind or "ring", "core_vs_grey_matter":
    #: its core's signal over grey matter's (varied), "oedema": bool}; None without a tumour
    look: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Anatomy:
    centre: tuple[float, float]
    angle: float
    scale: float
    aspect: float
    cortex: float
    gyri_phase: float
    vent_size: float
    vent_angle: float
    tumour: tuple[float, float, float, float] | None   # (z, y, x, radius) in head frame
    tumour_rim: float
    tumour_oedema: float
    tumour_wobble: float
    vessels: tuple[np.ndarray, ...]
    blobs: tuple[tuple[float, float, float], ...]       # (y, x, radius)
    cysts: tuple[tuple[float, float, float], ...]
    intensity: float
    bias: float
    noise: float
    blur: float
    look: _Look | None = None                           # "varied" style; None: ring
    folds: _Folds | None = None                         # "varied" style: irregular cortex


@dataclass(frozen=True)
class _Folds:
    """Normal anatomy drawn more freely for "varied" slices (so that a lesion detector learns
    that sulci, a ragged cortex, the fissure and vessels are normal): outline wobble and lobes,
    CSF-filled sulci ((angle, depth) each), a midline fissure."""

    wobble: float
    lobes: int
    sulci: tuple[tuple[float, float], ...]
    sulcus_width: float
    fissure: float
    #: per-tissue signal factors (SynthSeg-style: each tissue's grey level drawn afresh, so that
    #: a detector learns shapes and local contrast, not one generator's grey levels)
    tissue_gain: tuple[float, ...] = ()
    #: the head outside the skull, drawn as freely (None: the thin fixed scalp and skull)
    scalp: _Scalp | None = None
    #: the grey/white boundary folded into gyri, and straight vessels and sulci ("varied-anatomy")
    gyri: _Gyri | None = None


@dataclass(frozen=True)
class _Gyri:
    """Anatomy of a "varied-anatomy" slice, beyond the "varied" one: real white matter sends
    fingers into every gyrus, so the grey/white boundary is folded at many scales, not a smooth
    oval; vessels and sulci cut straight across a slice as often as they wind. ``harmonics``:
    (count around the brain, amplitude, phase) of the boundary's folds; ``lines``: (y, x, angle,
    length, width, tissue) of straight segments in head-frame units."""

    harmonics: tuple[tuple[int, float, float], ...]
    lines: tuple[tuple[float, float, float, float, float, str], ...]


#: "varied-anatomy": each tissue's grey level drawn from this wider range (SynthSeg-style), so that
#: no normal tissue's level relative to white matter marks it; the image blur from this range
#: (sharper slices too); lesion outlines lobulated up to this wobble.
ANATOMY_GAIN = (0.55, 1.6)
ANATOMY_BLUR = (0.15, 0.9)
ANATOMY_WOBBLE = 0.2


def _gyri(rng: np.random.Generator) -> _Gyri:
    n = int(rng.integers(3, 12))
    harmonics = tuple((int(rng.integers(5, 40)), float(rng.uniform(0.01, 0.07)),
                       float(rng.uniform(0, 2 * np.pi))) for _ in range(n))
    lines = tuple((*_inside_brain(rng, 0.6), float(rng.uniform(0, np.pi)), float(rng.uniform(0.08, 0.4)),
                   float(rng.uniform(0.005, 0.016)), str(rng.choice(["vessel", "csf"])))
                  for _ in range(int(rng.integers(0, 7))))
    return _Gyri(harmonics, lines)


@dataclass(frozen=True)
class _Scalp:
    """Scalp and skull of a "varied" slice: real heads carry 3-12 mm of scalp (fat, bright on T1
    and still bright on T2) and a 4-10 mm skull, with fatty marrow in many, on outlines from
    round to square; a lesion detector must learn that none of it is a finding. Thicknesses in
    head-radius units (0.9 ~ 90 mm); ``gain`` scales the scalp signal, ``marrow`` the diploe's
    (0: none), ``texture`` the scalp's mottling; ``power`` is the outline's superellipse power."""

    scalp: float
    skull: float
    gain: float
    marrow: float
    texture: float
    power: float


def _scalp(rng: np.random.Generator) -> _Scalp:
    return _Scalp(float(rng.uniform(0.03, 0.13)), float(rng.uniform(0.03, 0.1)),
                  float(rng.uniform(0.5, 1.6)), float(rng.uniform(0.4, 1.0)) if rng.random() < 0.5 else 0.0,
                  float(rng.uniform(0.0, 0.3)), float(rng.uniform(2.0, 2.8)))


def _folds(rng: np.random.Generator, free_head: bool = False) -> _Folds:
    """Folds of a "varied" slice; ``free_head``: the scalp and skull drawn freely too."""
    n = int(rng.integers(0, 24))
    sulci = tuple((float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.04, 0.2))) for _ in range(n))
    return _Folds(float(rng.uniform(0.0, 0.15)), int(rng.integers(6, 32)), sulci,
                  float(rng.uniform(0.006, 0.018)), float(rng.uniform(0.0, 0.35)),
                  tuple(float(v) for v in rng.uniform(0.75, 1.25, len(_TISSUE["T1"]))),
                  _scalp(rng) if free_head else None)


@dataclass(frozen=True)
class _Look:
    """Appearance of a "varied" lesion: factors are relative to white matter signal."""

    kind: str             # homogeneous, ring, cystic, infiltrative
    radius: float         # head-frame units (head radius 0.9 ~ 90 mm)
    core: float
    rim: float
    rim_width: float
    texture: float
    oedema: bool
    #: grey-matter isointense: the core at the slice's grey-matter signal x0.9-1.1, whatever
    #: ``core`` says (``brain_slice(iso_share=...)``)
    iso: bool = False


STYLES = ("ring", "varied")
#: A faint tumour's step from white matter (``brain_slice(faint_share=...)``): 8-25 %, where
#: ``_factor`` draws at least 20 % (45 % for rims). The independent generator's tumours have a
#: median edge contrast of 1.05 (lesion against a 4 px ring round it, in units of the brain's
#: grey-level spread) against 1.35 here, and the model trained here found 0.43-0.56 of its
#: tumours under 0.5.
FAINT_STEP = (0.08, 0.25)


def _factor(rng: np.random.Generator, strong: bool = False) -> float:
    """A signal factor against white matter, hypo- or hyperintense, never within 20 % of 1
    (subtle lesions included: a reader sees a 20 % step against white matter)."""
    if rng.random() < 0.5:
        return float(rng.uniform(0.2, 0.6 if strong else 0.8))
    return float(rng.uniform(1.45 if strong else 1.2, 2.1))


def _look(rng: np.random.Generator) -> _Look:
    kind = str(rng.choice(["homogeneous", "ring", "cystic", "infiltrative"]))
    radius = float(rng.uniform(0.03, 0.2))
    rim = float(rng.uniform(1.45, 2.1)) if kind == "ring" else _factor(rng, strong=True)
    return _Look(kind, radius, _factor(rng, strong=kind == "infiltrative"), rim,
                 float(rng.uniform(0.15, 0.35)), float(rng.uniform(0.0, 0.25)), bool(rng.random() < 0.5))


def _inside_brain(rng: np.random.Generator, max_r: float) -> tuple[float, float]:
    while True:
        y, x = rng.uniform(-max_r, max_r, 2)
        if (y / 0.82) ** 2 + (x / 0.68) ** 2 < max_r ** 2:
            return float(y), float(x)


def _anatomy(rng: np.random.Generator, tumour: bool, hard: bool = True,
             look: _Look | None = None, folds: _Folds | None = None,
             vessel_sized: bool = False) -> _Anatomy:
    """``vessel_sized``: lesion-like distractors shrink to vessel cross-sections and cysts to
    half size, as in the "varied" style (implied by ``look``): a healthy brain then holds no
    blob a lesion detector should flag."""
    tum = None
    if tumour:
        while True:
            y, x = _inside_brain(rng, 0.62 if look is None else 0.68)
            # keep the tumour off the ventricles so that its ring stays visible
            if abs(x) > 0.2 or abs(y + 0.08) > 0.3:
                break
        tum = (float(rng.uniform(-0.25, 0.25)), y, x, float(rng.uniform(0.08, 0.17)))
    vessels = tuple(sh.random_walk(rng, _inside_brain(rng, 0.6), int(rng.integers(4, 9)),
                                   float(rng.uniform(0.05, 0.09)))
                    for _ in range(int(rng.integers(2, 6))))
    n_blobs = int(rng.integers(1, 3)) if hard else 0
    vessel_sized = vessel_sized or look is not None
    small = 0.2 if vessel_sized else 1.0
    blobs = tuple((*_inside_brain(rng, 0.6), float(rng.uniform(0.04, 0.09)) * small) for _ in range(n_blobs))
    cysts = tuple((*_inside_brain(rng, 0.6), float(rng.uniform(0.02, 0.05)) * (0.5 if vessel_sized else 1.0))
                  for _ in range(int(rng.integers(0, 3))))
    if tum is not None and look is not None:
        tum = (*tum[:3], look.radius)
    return _Anatomy(
        centre=(float(rng.uniform(-0.06, 0.06)), float(rng.uniform(-0.06, 0.06))),
        angle=float(rng.uniform(-15, 15)), scale=float(rng.uniform(0.85, 1.05)),
        aspect=float(rng.uniform(0.78, 0.9)), cortex=float(rng.uniform(0.7, 0.8)),
        gyri_phase=float(rng.uniform(0, 6.28)), vent_size=float(rng.uniform(0.5, 1.7)),
        vent_angle=float(rng.uniform(-12, 12)), tumour=tum,
        tumour_rim=float(rng.uniform(0.22, 0.4)), tumour_oedema=float(rng.uniform(1.3, 2.0)),
        tumour_wobble=float(rng.uniform(0.0, 0.15)), vessels=vessels, blobs=blobs, cysts=cysts,
        intensity=float(rng.uniform(0.6, 1.5)), bias=float(rng.uniform(0.05, 0.3)),
        noise=float(rng.uniform(0.01, 0.04)), blur=float(rng.uniform(0.5, 0.9)), look=look,
        folds=folds)


def _render(anat: _Anatomy, shape: tuple[int, int], contrast: str, z: float,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Render the anatomy at head height z (-1 top .. 1 bottom) into (H, W) signal, lesion mask,
    head mask and the space inside the skull."""
    t = _TISSUE[contrast]
    if anat.folds is not None and anat.folds.tissue_gain:
        t = {name: value * g for (name, value), g in zip(t.items(), anat.folds.tissue_gain)}
    zf = float(np.sqrt(max(1.0 - (z * 0.9) ** 2, 0.05)))
    v, u = sh.frame_2d(shape, anat.centre, anat.angle, anat.scale)
    img = np.zeros(shape, dtype=np.float32)
    folds = anat.folds
    scalp = None if folds is None else folds.scalp
    if scalp is None:
        head = sh.ellipse(v, u, 0, 0, 0.9 * zf, 0.9 * anat.aspect * zf)
        outer = 1.0
        img[head < 1] = t["scalp"]
        img[head < 0.95] = t["skull"]
    else:   # the inner table stays at 0.9: scalp and skull grow outwards
        head = sh.ellipse(v, u, 0, 0, 0.9 * zf, 0.9 * anat.aspect * zf, power=scalp.power)
        outer = 0.9 + scalp.skull + scalp.scalp
        fat = np.full(shape, t["scalp"] * scalp.gain, dtype=np.float32)
        if scalp.texture:
            mottle = sh.gaussian_blur(rng.standard_normal(shape).astype(np.float32), max(shape) / 64.0)
            fat *= np.clip(1 + scalp.texture * mottle / (float(mottle.std()) + 1e-6), 0.3, 2.0)
        img[head < outer] = fat[head < outer]
        img[head < 0.9 + scalp.skull] = t["skull"]
        if scalp.marrow:
            diploe = (head < 0.9 + scalp.skull * 0.7) & (head > 0.9 + scalp.skull * 0.3)
            img[diploe] = t["scalp"] * scalp.marrow
    img[head < 0.9] = t["csf"]
    brain_r = sh.ellipse(v, u, 0, 0, 0.78 * zf, 0.78 * anat.aspect * zf,
                         wobble=0.03 if folds is None else folds.wobble,
                         lobes=14 if folds is None else folds.lobes, phase=anat.gyri_phase)
    brain = brain_r < 1
    img[brain] = t["gm"]
    gyri = None if folds is None else folds.gyri
    if gyri is None:
        img[brain_r < anat.cortex] = t["wm"]
    else:
        theta = np.arctan2(v, u / anat.aspect)   # angle around the (elliptic) brain
        fold = 1.0 + sum(a * np.cos(k * theta + p) for k, a, p in gyri.harmonics)
        img[brain & (brain_r < anat.cortex * fold)] = t["wm"]
    if folds is not None:
        ry, rx = 0.78 * zf, 0.78 * anat.aspect * zf
        for angle, depth in folds.sulci:     # CSF clefts from the surface inwards
            a = np.array([np.sin(angle), np.cos(angle)])
            nodes = np.array([a * (ry, rx) * 1.05, a * (ry, rx) * (1.0 - depth / 0.78)])
            img[(sh.polyline_distance(v, u, nodes) < folds.sulcus_width) & brain] = t["csf"]
        if folds.fissure > 0:                # interhemispheric fissure, front and back
            for sy in (-1, 1):
                nodes = np.array([[sy * ry * 1.05, 0.0], [sy * ry * (1.0 - folds.fissure), 0.0]])
                img[(sh.polyline_distance(v, u, nodes) < folds.sulcus_width) & brain] = t["csf"]
    if abs(z) < 0.5:
        for sx in (-1, 1):
            img[sh.ellipse(v, u, 0.05, sx * 0.22, 0.11, 0.07) < 1] = t["nuclei"]
        vs = anat.vent_size * (1.0 - abs(z) * 1.5)
        for sx in (-1, 1):
            vent = sh.ellipse(v, u, -0.1, sx * 0.1 * max(vs, 0.6), 0.24 * vs, 0.055 * vs,
                              angle_deg=anat.vent_angle + sx * 12)
            img[vent < 1] = t["csf"]
            img[sh.ellipse(v, u, -0.03, sx * 0.1 * max(vs, 0.6), 0.05 * vs, 0.03 * vs) < 1] = t["choroid"]
        if contrast == "T2-FLAIR":   # periventricular caps, bright on FLAIR
            for sx in (-1, 1):
                cap = sh.ellipse(v, u, -0.1 - 0.24 * vs, sx * 0.1 * max(vs, 0.6), 0.05, 0.05)
                img[(cap < 1) & (img != t["csf"])] = 0.5 * (t["oedema"] + t["wm"])
    for y, x, r in anat.cysts:
        img[(sh.ellipse(v, u, y, x, r, r) < 1) & brain] = t["cyst"]
    for nodes in anat.vessels:
        d = sh.polyline_distance(v, u, nodes)
        img[(d < 0.012) & brain] = t["vessel"]
    for y, x, angle, length, width, tissue in (() if gyri is None else gyri.lines):
        ends = np.array([[y, x], [y + length * np.sin(angle), x + length * np.cos(angle)]])
        img[(sh.polyline_distance(v, u, ends) < width) & brain] = t[tissue]
    for y, x, r in anat.blobs:
        img[(sh.ellipse(v, u, y, x, r, r * 0.85) < 1) & brain] = t["blob"]
    # superior sagittal sinus at the back of the midline
    img[sh.ellipse(v, u, 0.86 * zf, 0, 0.035, 0.045) < 1] = t["sinus"]
    mask = np.zeros(shape, dtype=bool)
    if anat.tumour is not None:
        tz, ty, tx, tr = anat.tumour
        r = float(np.sqrt(max(tr ** 2 - (z - tz) ** 2 * 0.6, 0.0)))
        if anat.look is not None:
            mask = _varied_lesion(img, anat, v, u, brain, t, rng, r)
        elif r > 0.02:
            rr = sh.ellipse(v, u, ty, tx, r, r * 0.9, wobble=anat.tumour_wobble, lobes=4,
                            phase=anat.gyri_phase)
            oed = (rr < anat.tumour_oedema) & brain
            img[oed] = np.where(img[oed] == t["csf"], t["csf"], t["oedema"])
            img[rr < 1] = t["rim"]
            img[rr < 1 - anat.tumour_rim] = t["necrosis"]
            mask = rr < 1
    img *= anat.intensity * sh.bias_field(rng, shape, anat.bias)
    img = sh.gaussian_blur(img, anat.blur * max(shape) / 128.0)
    img = sh.rician_noise(rng, img, anat.noise * 1000.0 * anat.intensity)
    return img.astype(np.float32), mask, head < outer, head < 0.9


def _varied_lesion(img: np.ndarray, anat: _Anatomy, v: np.ndarray, u: np.ndarray,
                   brain: np.ndarray, t: dict[str, float], rng: np.random.Generator,
                   r: float) -> np.ndarray:
    """Draw a "varied" lesion of radius ``r`` into ``img`` (in place); returns its mask."""
    look = anat.look
    assert look is not None and anat.tumour is not None
    _, ty, tx, _ = anat.tumour
    if r < 0.012:
        return np.zeros(img.shape, bool)
    rr = sh.ellipse(v, u, ty, tx, r, r * 0.9, wobble=anat.tumour_wobble, lobes=4, phase=anat.gyri_phase)
    wm = t["wm"]
    if look.oedema:
        oed = (rr < anat.tumour_oedema) & brain
        img[oed] = np.where(img[oed] == t["csf"], t["csf"], t["oedema"])
    mask = (rr < 1) & brain
    if look.kind == "infiltrative":   # ill-defined: the signal fades over the outer half
        sh.blend_ill_defined(img, rr, brain, wm * look.core)
    else:
        img[mask] = t["gm"] * rng.uniform(0.9, 1.1) if look.iso else wm * look.core
        if look.kind == "ring":
            img[mask & (rr > 1 - look.rim_width)] = wm * look.rim
        elif look.kind == "cystic":
            img[mask] = t["csf"] * rng.uniform(0.85, 1.15)
            img[mask & (rr > 1 - look.rim_width * 0.6)] = wm * look.rim
    if look.texture > 0:
        tex = sh.gaussian_blur(rng.standard_normal(img.shape).astype(np.float32), max(img.shape) / 96.0)
        tex /= float(tex.std()) + 1e-6
        img[mask] *= np.clip(1 + look.texture * tex[mask], 0.3, 2.0)
    return mask


def brain_slice(seed: int, size: int | tuple[int, int] = 128, tumour: bool | None = None,
                contrast: str = "T1 post-contrast", hard: bool = True, style: str = "ring",
                free_head: bool = False, anatomy: bool = False, iso_share: float = 0.0,
                free_looks: bool = False, faint_share: float = 0.0) -> BrainSlice:
    """A seeded axial brain slice (H, W) with ground-truth tumour mask; tumour=None draws it.
    ``style`` "varied" draws the lesion's appearance at random (see the module docstring);
    with ``free_head`` also the scalp, skull and head outline (``_Scalp``); with ``anatomy``
    (implies ``free_head``) a folded grey/white boundary, straight vessels and sulci, wider tissue
    grey levels, sharper slices and lobulated lesions (``_Gyri``, ``ANATOMY_*``), drawn from a
    stream of their own: the rest of the seed's slice is the "varied" one. ``iso_share``: that
    share of the tumours homogeneous, grey-matter isointense, without oedema; ``free_looks``: the
    others' core and rim levels (hypo or hyper) and rim width drawn independently, oedema halved.
    ``faint_share``: that share of the tumours faint, their core and rim levels each within
    :data:`FAINT_STEP` of white matter (hypo or hyper; oedema as drawn). All three draw from
    streams of their own too."""
    if contrast not in _TISSUE:
        raise ValueError(f"unknown MR contrast {contrast!r}; choose one of {CONTRASTS}")
    if style not in STYLES:
        raise ValueError(f"unknown lesion style {style!r}; choose one of {STYLES}")
    rng = sh.sub_rng(seed, 1)
    if tumour is None:
        tumour = bool(rng.integers(0, 2))
    varied = style == "varied"
    look = _look(sh.sub_rng(seed, 5)) if varied else None
    if look is not None and iso_share > 0 and sh.sub_rng(seed, 19).random() < iso_share:
        look = replace(look, kind="homogeneous", iso=True, oedema=False)
    elif look is not None and free_looks:   # core, rim level and rim width drawn independently
        frng = sh.sub_rng(seed, 20)
        look = replace(look, core=_factor(frng), rim=_factor(frng),
                       rim_width=float(frng.uniform(0.1, 0.5)), oedema=look.oedema and frng.random() < 0.5)
    if look is not None and faint_share > 0 and sh.sub_rng(seed, 22).random() < faint_share:
        frng = sh.sub_rng(seed, 23)
        look = replace(look, core=1 + sh.signed_uniform(frng, *FAINT_STEP),
                       rim=1 + sh.signed_uniform(frng, *FAINT_STEP))
    anat = _anatomy(rng, tumour, hard, look,
                    _folds(sh.sub_rng(seed, 8), free_head or anatomy) if varied else None)
    if varied and anatomy and anat.folds is not None:
        arng = sh.sub_rng(seed, 18)
        gains = tuple(float(g) for g in arng.uniform(*ANATOMY_GAIN, len(anat.folds.tissue_gain)))
        anat = replace(anat, folds=replace(anat.folds, gyri=_gyri(arng), tissue_gain=gains),
                       blur=float(arng.uniform(*ANATOMY_BLUR)),
                       tumour_wobble=float(arng.uniform(0.0, ANATOMY_WOBBLE)))
    if varied:   # a wider range of noise floors, and slices from vertex to skull base
        vrng = sh.sub_rng(seed, 9)
        anat = replace(anat, noise=float(vrng.uniform(0.005, 0.07)))
        zv = float(vrng.uniform(-0.7, 0.7))
        if anat.tumour is not None:      # the lesion stays inside the smaller brain of that level
            zf = float(np.sqrt(max(1.0 - (zv * 0.9) ** 2, 0.05)))
            _, ty, tx, tr = anat.tumour
            anat = replace(anat, tumour=(zv, ty * zf, tx * zf, tr))
    shape = (size, size) if isinstance(size, int) else tuple(size)
    if varied:
        z = zv
    else:
        z = anat.tumour[0] if anat.tumour is not None else float(rng.uniform(-0.25, 0.25))
    img, mask, body, intracranial = _render(anat, shape, contrast, z, rng)
    return BrainSlice(img, mask, bool(mask.any()), contrast, (1.0, 1.0), body, intracranial,
                      _seen(anat, contrast) if mask.any() else None)


def _seen(anat: _Anatomy, contrast: str) -> dict[str, Any]:
    """What a drawn tumour looks like, for subgroup figures (``inference.evaluate``)."""
    look = anat.look
    if look is None:
        return {"kind": "ring", "oedema": True}
    t = _TISSUE[contrast]
    gains = anat.folds.tissue_gain if anat.folds is not None and anat.folds.tissue_gain else ()
    gain = dict(zip(t, gains)) if gains else {}
    wm, gm = t["wm"] * gain.get("wm", 1.0), t["gm"] * gain.get("gm", 1.0)
    seen: dict[str, Any] = {"kind": look.kind, "oedema": look.oedema}
    if look.kind != "cystic":   # a cyst's core is fluid, not the drawn factor
        seen["core_vs_grey_matter"] = 1.0 if look.iso else float(wm * look.core / gm)
    return seen


def brain_mr_volume(seed: int = 0, n_slices: int = 24, size: int = 256, tumour: bool = True,
                    contrast: str = "T1 post-contrast") -> tuple[np.ndarray, np.ndarray]:
    """A seeded axial brain MR volume: float32 (z, y, x) signal about 0..1000 and bool tumour mask.
    Its healthy anatomy follows the "varied" truth: distractors are vessel-sized, so that every
    lesion-like blob in it is the tumour of the mask (the sample study and teaching cases)."""
    if contrast not in _TISSUE:
        raise ValueError(f"unknown MR contrast {contrast!r}; choose one of {CONTRASTS}")
    rng = sh.sub_rng(seed, 2)
    anat = _anatomy(rng, tumour, vessel_sized=True)
    vol = np.zeros((n_slices, size, size), dtype=np.float32)
    mask = np.zeros((n_slices, size, size), dtype=bool)
    for i, z in enumerate(np.linspace(-0.75, 0.75, n_slices)):
        vol[i], mask[i], _, _ = _render(anat, (size, size), contrast, float(z), sh.sub_rng(seed, 3, i))
    return vol, mask

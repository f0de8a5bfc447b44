"""Abdominal CT phantoms in Hounsfield units, with or without a hypodense liver lesion.

Air -1000, fat about -100, soft tissue 30-60, contrast-filled vessels 150-200, bone 700+.
Distractors: a hypodense gallbladder at the liver edge, fluid-filled bowel loops, bright
portal vessels inside the liver, fatty livers of lower density, noise and rotation.

Two lesion styles: "classic" (a hypodense lesion 35-60 HU below the liver, the sample study's)
and "varied" (training data: homogeneous, rim-enhancing, cystic or ill-defined; hypo- or
hyperdense by 15-70 HU; 5-40 mm; textured; field of view, body and liver size, a liver touching
the abdominal wall, portal vessels, visceral fat and noise varied more; lobulated, notched livers
with left lobes of any size, and bowel with positive oral contrast).
``free_kidneys`` (generator "varied-kidneys", with ``small_lesions``) draws each kidney freely:
present or not at the slice's level, its position, size and tilt, cortex and medulla densities
from unenhanced to corticomedullary and nephrographic phases, and the right one half the time
behind the liver, showing only as a crescent beside it (the hepatorenal interface; the fixed
kidneys of "varied" always lie on top of the liver as whole ovals, and a lesion detector
trained on them took the cut kidney rim beside the independent generator's livers for a rim
lesion).
``small_lesions`` (generator "varied-small") draws the varied lesion's radius log-uniformly from
3 to 39 mm instead of uniformly from 5 to 39 mm: a quarter of its lesions are under 11 mm across,
where the varied generator has almost none; everything else is the varied slice of that seed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from inference.phantoms import shapes as sh


@dataclass(frozen=True)
class CTSlice:
    """One synthetic axial CT slice: image (H, W) float32 HU, lesion mask (H, W) bool and the
    body (skin inwards) as ``body`` (H, W) bool."""

    image: np.ndarray
    mask: np.ndarray
    lesion: bool
    spacing: tuple[float, float]
    body: np.ndarray | None = None
    #: what the lesion looks like: {"kind": the "varied" kind, or "classic"}; None without a lesion
    look: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Abdomen:
    centre: tuple[float, float]
    angle: float
    scale: float
    fat: float
    liver_hu: float
    liver_wobble: float
    lesion: tuple[float, float, float, float] | None   # (z, y, x, radius)
    lesion_hu: float
    portal: tuple[np.ndarray, ...]
    bowel: tuple[tuple[float, float, float, float], ...]   # (y, x, radius, hu)
    gas: tuple[tuple[float, float, float], ...]
    gallbladder: bool
    noise: float
    look: _Look | None = None


@dataclass(frozen=True)
class _Look:
    """A "varied" lesion: kind, radius (frame units, body half-width 0.88 ~ 170 mm), density
    offset from the liver (HU), rim offset, rim width, texture (HU)."""

    kind: str
    radius: float
    offset: float
    rim: float
    rim_width: float
    texture: float
    #: the anatomy around it, varied too: liver size, a liver touching the abdominal wall,
    #: portal vessels shown or not, visceral fat density, noise (HU)
    liver_scale: float = 1.0
    touches_wall: bool = False
    vessels: bool = True
    visceral_hu: float = -90.0
    noise: float | None = None
    #: the liver's outline and the bowel beside it (None: one ellipse, as in "classic")
    outline: _Outline | None = None
    #: kidneys drawn freely (``free_kidneys``), one per side; None: the fixed pair
    kidneys: tuple[_Kidney | None, ...] | None = None


@dataclass(frozen=True)
class _Outline:
    """A "varied" liver outline and bowel: livers are lobulated and notched, with a left lobe of
    any size reaching across the midline, and bowel beside them holds water, gas or positive oral
    contrast; a lesion detector must learn that none of it is a lesion. ``left``: the left
    lobe's (y, x, radius y, radius x) in frame units, or None; ``wobble`` / ``lobes``: outline
    irregularity; ``bulges``: (angle, size) of rounded bumps on the outline; ``oral``: HU of the
    contrast-filled bowel loops (0: none)."""

    left: tuple[float, float, float, float] | None
    wobble: float
    lobes: int
    bulges: tuple[tuple[float, float], ...]
    oral: float


def _outline(rng: np.random.Generator) -> _Outline:
    left = None
    if rng.random() < 0.7:
        left = (float(rng.uniform(-0.25, 0.0)), float(rng.uniform(-0.1, 0.15)),
                float(rng.uniform(0.12, 0.25)), float(rng.uniform(0.12, 0.3)))
    bulges = tuple((float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.04, 0.12)))
                   for _ in range(int(rng.integers(0, 4))))
    return _Outline(left, float(rng.uniform(0.0, 0.15)), int(rng.integers(2, 7)), bulges,
                    float(rng.uniform(150, 320)) if rng.random() < 0.4 else 0.0)


@dataclass(frozen=True)
class _Kidney:
    """One kidney drawn freely: centre and radii (frame units), tilt (degrees), cortex and medulla
    density (HU), medulla size relative to the kidney, and whether the liver covers it."""

    y: float
    x: float
    ry: float
    rx: float
    angle: float
    cortex: float
    medulla: float
    medulla_size: float
    behind_liver: bool


def _kidneys(rng: np.random.Generator) -> tuple[_Kidney | None, ...]:
    """Right then left kidney, each absent at this level 15 % of the time."""
    out: list[_Kidney | None] = []
    for sx in (-1, 1):
        present = rng.random() >= 0.15
        phase = rng.random()
        cortex = float(rng.uniform(120, 230)) if phase >= 0.15 else float(rng.uniform(25, 45))
        if phase < 0.15:          # unenhanced: cortex and medulla alike
            medulla = cortex + float(rng.uniform(-5, 5))
        elif phase < 0.45:        # nephrographic: the medulla enhances too
            medulla = cortex - float(rng.uniform(0, 40))
        else:                     # corticomedullary
            medulla = float(rng.uniform(20, 70))
        k = _Kidney(float(rng.uniform(0.16, 0.36)), sx * float(rng.uniform(0.2, 0.4)),
                    float(rng.uniform(0.09, 0.16)), float(rng.uniform(0.06, 0.1)),
                    sx * float(rng.uniform(0, 50)), cortex, medulla, float(rng.uniform(0.4, 0.7)),
                    sx < 0 and rng.random() < 0.5)
        out.append(k if present else None)
    return tuple(out)


STYLES = ("classic", "varied")


def _look(rng: np.random.Generator) -> _Look:
    kind = str(rng.choice(["homogeneous", "rim", "cystic", "ill-defined"]))
    offset = float(rng.uniform(15, 70)) * (1 if rng.random() < 0.35 else -1)
    return _Look(kind, float(rng.uniform(0.028, 0.2)), offset, float(rng.uniform(20, 70)),
                 float(rng.uniform(0.15, 0.35)), float(rng.uniform(0, 12)),
                 float(rng.uniform(0.95, 1.35)), bool(rng.random() < 0.5), bool(rng.random() < 0.6),
                 float(rng.uniform(-105, -40)), float(rng.uniform(5, 18)))


def _liver_point(rng: np.random.Generator) -> tuple[float, float]:
    while True:
        y, x = rng.uniform(-0.4, 0.4), rng.uniform(-0.55, 0.15)
        if ((y + 0.05) / 0.34) ** 2 + ((x + 0.3) / 0.3) ** 2 < 0.8:
            return float(y), float(x)


def _abdomen(rng: np.random.Generator, lesion: bool, hard: bool = True,
             look: _Look | None = None) -> _Abdomen:
    les = None
    if lesion:
        y, x = _liver_point(rng)
        les = (float(rng.uniform(-0.2, 0.2)), y, x, float(rng.uniform(0.08, 0.14)))
    liver_hu = float(rng.uniform(45, 70))
    portal = tuple(sh.random_walk(rng, (-0.05, -0.12), int(rng.integers(3, 6)),
                                  float(rng.uniform(0.06, 0.09)), turn=0.4)
                   for _ in range(int(rng.integers(2, 5))))
    bowel = []
    for _ in range(int(rng.integers(2, 6)) if hard else 1):
        bowel.append((float(rng.uniform(-0.5, 0.1)), float(rng.uniform(0.05, 0.6)),
                      float(rng.uniform(0.04, 0.1)), float(rng.uniform(0, 40))))
    gas = tuple((float(rng.uniform(-0.55, 0.0)), float(rng.uniform(0.0, 0.6)),
                 float(rng.uniform(0.02, 0.06))) for _ in range(int(rng.integers(0, 4))))
    return _Abdomen(
        centre=(float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.05, 0.05))),
        angle=float(rng.uniform(-8, 8)), scale=float(rng.uniform(0.85, 1.05)),
        fat=float(rng.uniform(0.04, 0.14)), liver_hu=liver_hu,
        liver_wobble=float(rng.uniform(0, 0.06)), lesion=les,
        lesion_hu=float(liver_hu - rng.uniform(35, 60)), portal=portal, bowel=tuple(bowel),
        gas=gas, gallbladder=bool(rng.random() < (0.7 if hard else 0.0)),
        noise=float(rng.uniform(6, 14)), look=look)


def _render(a: _Abdomen, shape: tuple[int, int], z: float,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render the abdomen at height z (-1..1) into (H, W) HU, lesion mask and body mask."""
    v, u = sh.frame_2d(shape, a.centre, a.angle, a.scale)
    img = np.full(shape, -1000.0, dtype=np.float32)
    body = sh.ellipse(v, u, 0.02, 0, 0.62, 0.88)
    img[body < 1] = -100.0                                  # subcutaneous fat
    img[body < 1 - a.fat] = 45.0                            # abdominal wall muscle
    inner = body < 1 - a.fat - 0.05
    look = a.look
    img[inner] = -90.0 if look is None else look.visceral_hu  # visceral fat
    lz = 1.0 - 0.3 * abs(z) * (1.0 if look is None else 1.0 / look.liver_scale)
    ls = 1.0 if look is None else look.liver_scale
    outline = None if look is None else look.outline
    cy, cx, ry, rx = -0.05, -0.3 - 0.1 * (ls - 1), 0.38 * lz * ls, 0.36 * lz * ls
    if outline is None:
        liver = sh.ellipse(v, u, cy, cx, ry, rx, wobble=a.liver_wobble, lobes=3) < 1
    else:
        liver = sh.ellipse(v, u, cy, cx, ry, rx, wobble=outline.wobble, lobes=outline.lobes) < 1
        if outline.left is not None:
            ly, lx, lry, lrx = outline.left
            liver |= sh.ellipse(v, u, ly, lx, lry * lz, lrx * lz, angle_deg=-20) < 1
        for angle, size in outline.bulges:
            liver |= sh.ellipse(v, u, cy + ry * np.sin(angle), cx + rx * np.cos(angle), size, size) < 1
    liver &= (body < 1 - a.fat) if look is not None and look.touches_wall else inner
    img[liver] = a.liver_hu
    img[(sh.ellipse(v, u, 0.12, 0.45, 0.2, 0.12, angle_deg=30) < 1) & inner] = 48.0   # spleen
    kidneys = None if look is None else look.kidneys
    if kidneys is None:
        for sx in (-1, 1):                                 # kidneys, enhancing cortex
            k = sh.ellipse(v, u, 0.28, sx * 0.3, 0.13, 0.08, angle_deg=sx * 25)
            img[k < 1] = 160.0
            img[k < 0.55] = 30.0
    for kid in kidneys or ():
        if kid is None:
            continue
        k = sh.ellipse(v, u, kid.y, kid.x, kid.ry, kid.rx, angle_deg=kid.angle)
        shown = inner & ~liver if kid.behind_liver else inner
        img[(k < 1) & shown] = kid.cortex
        img[(k < kid.medulla_size) & shown] = kid.medulla
    img[sh.ellipse(v, u, 0.15, 0.06, 0.055, 0.055) < 1] = 180.0   # aorta
    img[sh.ellipse(v, u, 0.12, -0.1, 0.05, 0.07) < 1] = 130.0     # IVC
    vert = sh.ellipse(v, u, 0.36, 0, 0.11, 0.11)
    img[vert < 1] = 800.0
    img[vert < 0.8] = 250.0
    img[(sh.ellipse(v, u, 0.52, 0, 0.08, 0.03) < 1)] = 700.0     # spinous process
    for nodes in (a.portal if look is None or look.vessels else ()):
        d = sh.polyline_distance(v, u, nodes)
        img[(d < 0.013) & liver] = 170.0
    for y, x, r, hu in a.bowel:
        b = sh.ellipse(v, u, y, x, r, r * 1.1)
        img[(b < 1) & inner & ~liver] = 50.0
        img[(b < 0.8) & inner & ~liver] = hu
    for y, x, r in a.gas:
        img[(sh.ellipse(v, u, y, x, r, r * 1.3) < 1) & inner & ~liver] = -1000.0
    if outline is not None and outline.oral:     # contrast-filled loops among the bowel
        for y, x, r, _ in a.bowel[::2]:
            img[(sh.ellipse(v, u, y, x, r * 0.8, r * 0.9) < 1) & inner & ~liver] = outline.oral
    if a.gallbladder and abs(z) < 0.6:
        gb = sh.ellipse(v, u, 0.05, -0.02, 0.1, 0.05, angle_deg=-35) < 1
        img[gb & inner] = 8.0
    mask = np.zeros(shape, dtype=bool)
    if a.lesion is not None:
        lz_, ly, lx, lr = a.lesion
        r = float(np.sqrt(max(lr ** 2 - (z - lz_) ** 2 * 0.5, 0.0)))
        if a.look is not None:
            mask = _varied_lesion(img, a, v, u, liver, rng)
        elif r > 0.025:
            rr = sh.ellipse(v, u, ly, lx, r, r * 1.1, wobble=0.08, lobes=3)
            mask = (rr < 1) & liver
            img[mask] = a.lesion_hu
    img = sh.gaussian_blur(img, 0.7 * max(shape) / 128.0)
    noise = a.noise if look is None or look.noise is None else look.noise
    img += rng.normal(0, noise, shape).astype(np.float32)
    return np.maximum(img, -1024.0).astype(np.float32), mask, body < 1


def _varied_lesion(img: np.ndarray, a: _Abdomen, v: np.ndarray, u: np.ndarray,
                   liver: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw a "varied" lesion into ``img`` (in place, HU); returns its mask."""
    look = a.look
    assert look is not None and a.lesion is not None
    _, ly, lx, _ = a.lesion
    rr = sh.ellipse(v, u, ly, lx, look.radius, look.radius * 1.1, wobble=0.08, lobes=3)
    mask = (rr < 1) & liver
    core = a.liver_hu + look.offset
    if look.kind == "ill-defined":      # the density fades over the outer half
        sh.blend_ill_defined(img, rr, liver, core)
    else:
        img[mask] = core
        if look.kind == "rim":
            img[mask & (rr > 1 - look.rim_width)] = a.liver_hu + look.rim
        elif look.kind == "cystic":
            img[mask] = rng.uniform(-5, 15)
            img[mask & (rr > 1 - look.rim_width * 0.6)] = a.liver_hu + look.rim * 0.5
    if look.texture > 0:
        img[mask] += look.texture * rng.standard_normal(int(mask.sum())).astype(np.float32)
    return mask


#: A faint lesion's core and rim against the liver (HU; ``ct_slice(faint_share=...)``), where the
#: varied lesion keeps 15-70 HU: the independent generator draws 17 % of its lesions within 10 HU
#: of the tissue around them (6 % here), and the CT model found 0.60 of those.
FAINT_HU = (5.0, 15.0)

#: Lesion radius range of ``small_lesions`` (frame units; the body's half-width 0.88 is ~170 mm).
SMALL_RADII = (0.0155, 0.2)


def ct_slice(seed: int, size: int | tuple[int, int] = 128, lesion: bool | None = None,
             hard: bool = True, style: str = "classic", small_lesions: bool = False,
             free_looks: bool = False, free_kidneys: bool = False, faint_share: float = 0.0) -> CTSlice:
    """A seeded axial abdominal CT slice in HU (H, W) with lesion mask; lesion=None draws it.
    ``style`` "varied" draws the lesion's appearance at random (see the module docstring);
    ``small_lesions`` (varied only) draws its radius log-uniformly over :data:`SMALL_RADII`;
    ``free_looks`` (varied only) the core and rim densities (hypo or hyper, 15-70 HU from the
    liver) and the rim width independently; ``free_kidneys`` (varied only) the kidneys (see the
    module docstring), from a stream of their own: the rest of the slice is the seed's varied one.
    ``faint_share`` (varied only): that share of the lesions faint, core and rim each
    :data:`FAINT_HU` above or below the liver (cysts keep their fluid core)."""
    if style not in STYLES:
        raise ValueError(f"unknown lesion style {style!r}; choose one of {STYLES}")
    rng = sh.sub_rng(seed, 11)
    if lesion is None:
        lesion = bool(rng.integers(0, 2))
    look = _look(sh.sub_rng(seed, 14)) if style == "varied" else None
    if look is not None:
        look = replace(look, outline=_outline(sh.sub_rng(seed, 16)))
        if small_lesions:
            lo, hi = np.log(SMALL_RADII)
            look = replace(look, radius=float(np.exp(sh.sub_rng(seed, 17).uniform(lo, hi))))
        if free_looks:   # core and rim density (hypo or hyper) and rim width drawn independently
            frng = sh.sub_rng(seed, 21)
            look = replace(look, offset=sh.signed_uniform(frng, 15, 70), rim=sh.signed_uniform(frng, 15, 70),
                           rim_width=float(frng.uniform(0.1, 0.5)))
        if free_kidneys:
            look = replace(look, kidneys=_kidneys(sh.sub_rng(seed, 23)))
        if faint_share > 0 and sh.sub_rng(seed, 24).random() < faint_share:
            frng = sh.sub_rng(seed, 25)
            look = replace(look, offset=sh.signed_uniform(frng, *FAINT_HU),
                           rim=sh.signed_uniform(frng, *FAINT_HU))
    a = _abdomen(rng, lesion, hard, look)
    if look is not None:     # varied: a wider field of view and body size
        f = sh.sub_rng(seed, 15).uniform(0.85, 1.25)
        a = replace(a, scale=a.scale * f)
    shape = (size, size) if isinstance(size, int) else tuple(size)
    z = a.lesion[0] if a.lesion is not None else float(rng.uniform(-0.3, 0.3))
    img, mask, body = _render(a, shape, z, rng)
    seen = {"kind": look.kind if look is not None else "classic"} if mask.any() else None
    return CTSlice(img, mask, bool(mask.any()), (0.8, 0.8), body, seen)


def ct_volume(seed: int = 0, n_slices: int = 24, size: int = 256,
              lesion: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A seeded abdominal CT volume: float32 (z, y, x) HU and bool lesion mask (z, y, x)."""
    rng = sh.sub_rng(seed, 12)
    a = _abdomen(rng, lesion)
    vol = np.zeros((n_slices, size, size), dtype=np.float32)
    mask = np.zeros((n_slices, size, size), dtype=bool)
    for i, z in enumerate(np.linspace(-0.6, 0.6, n_slices)):
        vol[i], mask[i], _ = _render(a, (size, size), float(z), sh.sub_rng(seed, 13, i))
    return vol, mask

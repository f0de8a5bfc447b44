"""Drawing helpers for the synthetic phantoms (numpy only, no torch, no scipy).

Coordinates are row-major: a 2D grid is (y, x), a 3D grid is (z, y, x). Shapes are
painted in a normalised frame where the image spans [-1, 1] on its longer axis.
"""
from __future__ import annotations

import numpy as np


def frame_2d(shape: tuple[int, int], centre: tuple[float, float] = (0.0, 0.0),
             angle_deg: float = 0.0, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Normalised (v, u) coordinates of every pixel of an (H, W) image in an object frame.

    The object frame is shifted by ``centre`` (normalised units), rotated by ``angle_deg``
    and scaled by ``scale`` (bigger scale -> bigger object). Pixels are square.
    """
    h, w = shape
    half = max(h, w) / 2.0
    y = (np.arange(h, dtype=np.float32) + 0.5 - h / 2.0) / half
    x = (np.arange(w, dtype=np.float32) + 0.5 - w / 2.0) / half
    yy, xx = np.meshgrid(y, x, indexing="ij")
    yy = yy - centre[0]
    xx = xx - centre[1]
    a = np.deg2rad(angle_deg)
    c, s = np.float32(np.cos(a)), np.float32(np.sin(a))
    v = (c * yy - s * xx) / scale
    u = (s * yy + c * xx) / scale
    return v.astype(np.float32), u.astype(np.float32)


def ellipse(v: np.ndarray, u: np.ndarray, cy: float, cx: float, ry: float, rx: float,
            angle_deg: float = 0.0, wobble: float = 0.0, lobes: int = 5,
            phase: float = 0.0, power: float = 2.0) -> np.ndarray:
    """Normalised radius field of an ellipse (< 1 inside); ``wobble`` makes the outline irregular;
    ``power`` > 2 squares it off (a superellipse)."""
    a = np.deg2rad(angle_deg)
    dy, dx = v - cy, u - cx
    c, s = np.cos(a), np.sin(a)
    p = (c * dy - s * dx) / max(ry, 1e-6)
    q = (s * dy + c * dx) / max(rx, 1e-6)
    if power == 2.0:
        r = np.sqrt(p * p + q * q)
    else:
        r = (np.abs(p) ** power + np.abs(q) ** power) ** (1.0 / power)
    if wobble:
        theta = np.arctan2(p, q)
        r = r / (1.0 + wobble * np.sin(lobes * theta + phase))
    return r.astype(np.float32)


def ellipsoid(zz: np.ndarray, yy: np.ndarray, xx: np.ndarray, centre: tuple[float, float, float],
              radii: tuple[float, float, float]) -> np.ndarray:
    """Normalised radius field of an axis-aligned ellipsoid (< 1 inside)."""
    return np.sqrt(((zz - centre[0]) / radii[0]) ** 2 + ((yy - centre[1]) / radii[1]) ** 2
                   + ((xx - centre[2]) / radii[2]) ** 2).astype(np.float32)


def segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from every point (..., D) to the segment a-b (D,), same units as the points."""
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    closest = a + t[..., None] * ab
    return np.linalg.norm(points - closest, axis=-1).astype(np.float32)


def polyline_distance(v: np.ndarray, u: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Distance (normalised units) from each pixel to a polyline with nodes (K, 2) as (v, u)."""
    pts = np.stack([v, u], axis=-1)
    d = np.full(v.shape, np.inf, dtype=np.float32)
    for a, b in zip(nodes[:-1], nodes[1:]):
        d = np.minimum(d, segment_distance(pts, a, b))
    return d


def random_walk(rng: np.random.Generator, start: tuple[float, float], steps: int,
                step: float, turn: float = 0.5) -> np.ndarray:
    """A smooth random polyline (steps + 1, 2) starting at ``start`` (normalised units)."""
    heading = rng.uniform(0, 2 * np.pi)
    nodes = [np.asarray(start, dtype=np.float32)]
    for _ in range(steps):
        heading += rng.normal(0.0, turn)
        nodes.append(nodes[-1] + step * np.array([np.sin(heading), np.cos(heading)], np.float32))
    return np.stack(nodes)


def _kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(img: np.ndarray, sigma: float | tuple[float, ...]) -> np.ndarray:
    """Separable Gaussian blur (reflect borders) over every axis of ``img``; sigma in pixels."""
    out = np.asarray(img, dtype=np.float32)
    sig = (sigma,) * out.ndim if np.isscalar(sigma) else tuple(sigma)
    for axis, s in enumerate(sig):
        if s <= 0:
            continue
        k = _kernel(float(s))
        r = len(k) // 2
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > r else "edge")
        acc = np.zeros_like(out)
        for i, kv in enumerate(k):
            sl = [slice(None)] * out.ndim
            sl[axis] = slice(i, i + out.shape[axis])
            acc += kv * padded[tuple(sl)]
        out = acc
    return out


def bias_field(rng: np.random.Generator, shape: tuple[int, ...], strength: float) -> np.ndarray:
    """Smooth multiplicative field around 1 (relative amplitude ``strength``), any dimension."""
    grids = np.meshgrid(*[np.linspace(-1, 1, n, dtype=np.float32) for n in shape], indexing="ij")
    field = np.zeros(shape, dtype=np.float32)
    for _ in range(3):
        coef = rng.normal(0, 1, size=len(shape)).astype(np.float32)
        arg = sum(c * g for c, g in zip(coef, grids)) * rng.uniform(0.5, 1.5) + rng.uniform(0, 6.28)
        field += np.cos(arg).astype(np.float32)
    field /= 3.0
    return (1.0 + strength * field).astype(np.float32)


def rician_noise(rng: np.random.Generator, img: np.ndarray, sigma: float) -> np.ndarray:
    """Magnitude-image noise (Rician) of standard deviation ``sigma`` in image units."""
    n1 = rng.normal(0, sigma, img.shape).astype(np.float32)
    n2 = rng.normal(0, sigma, img.shape).astype(np.float32)
    return np.sqrt((img + n1) ** 2 + n2 ** 2).astype(np.float32)


def signed_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A magnitude uniform in [lo, hi), then above or below zero with equal chance (in that order
    of draws): a lesion level above or below the tissue around it."""
    value = float(rng.uniform(lo, hi))
    return value if rng.random() < 0.5 else -value


def sub_rng(seed: int, *keys: int) -> np.random.Generator:
    """A generator derived deterministically from ``seed`` and integer keys."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *[int(k) for k in keys]]))


def ring_around(mask: np.ndarray, width: int = 3) -> np.ndarray:
    """The pixels within ``width`` 4-connected steps outside a 2D boolean ``mask``."""
    grown = mask.copy()
    for _ in range(width):
        g = grown.copy()
        g[1:] |= grown[:-1]
        g[:-1] |= grown[1:]
        g[:, 1:] |= grown[:, :-1]
        g[:, :-1] |= grown[:, 1:]
        grown = g
    return grown & ~mask


def blend_ill_defined(img: np.ndarray, rr: np.ndarray, region: np.ndarray, value: float) -> None:
    """Paint an ill-defined lesion into ``img`` in place: full ``value`` in the inner part of the
    radius field ``rr`` (< 1 inside), fading to the background over the outer half, only inside
    ``region`` (the organ that holds it)."""
    weight = np.clip((1.0 - rr) / 0.5 + 0.35, 0.0, 1.0) * region
    img[:] = img * (1 - weight) + value * weight

"""Slice (H, W) in physical units -> model tensor, and model-grid maps -> slice pixels.

Forward: window or normalise per the manifest's ``input.normalisation`` to [0, 1], make pixels
square with the optional pixel spacing, resize keeping the aspect ratio so that the longer side
fills ``size``, pad the shorter side symmetrically with 0 (the bottom of the window), optionally
low-pass it (``input.smooth``: a Gaussian sigma in model pixels, so that a model reads the image
at the scale of its findings rather than its scanner's or generator's finest detail), then
standardise with the manifest's mean / std. ``Geometry`` records the transform; ``to_slice``
maps any model-grid map (h, w) (a 7x7 CAM or a full-size occlusion map) back onto the slice
pixels (H, W) with bilinear interpolation, exactly inverting the placement.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from inference.value_stats import SortedValues


@dataclass(frozen=True)
class Geometry:
    """Placement of an (H, W) slice inside the (size, size) model input.

    ``content`` is the (h, w) size in model pixels the slice was resized to, ``offset`` the
    (top, left) padding in model pixels. Model pixel coordinate = offset + slice coordinate *
    content / shape, in continuous pixel-edge coordinates (pixel i spans [i, i + 1)).
    """

    shape: tuple[int, int]
    size: int
    content: tuple[int, int]
    offset: tuple[int, int]
    spacing: tuple[float, float] | None = None


def plan_geometry(shape: tuple[int, int], size: int,
                  spacing: tuple[float, float] | None = None) -> Geometry:
    """Geometry for an (H, W) slice with optional (row, column) pixel spacing in mm."""
    h, w = int(shape[0]), int(shape[1])
    dy, dx = (1.0, 1.0) if spacing is None else (float(spacing[0]), float(spacing[1]))
    ext_y, ext_x = h * dy, w * dx
    scale = size / max(ext_y, ext_x)
    ch = min(size, max(1, int(round(ext_y * scale))))
    cw = min(size, max(1, int(round(ext_x * scale))))
    return Geometry((h, w), int(size), (ch, cw), ((size - ch) // 2, (size - cw) // 2),
                    None if spacing is None else (dy, dx))


def percentile_bounds(spec_input: Mapping[str, object]) -> tuple[float, float] | None:
    """The (low, high) percentiles of a percentile normalisation, None for a fixed window."""
    norm = dict(spec_input.get("normalisation", {}) or {})  # type: ignore[arg-type]
    if norm.get("kind", "percentile") != "percentile":
        return None
    return float(norm.get("low", 0.5)), float(norm.get("high", 99.5))


def normalise(image: np.ndarray, spec_input: Mapping[str, object],
              percentiles: Mapping[float, float] | None = None) -> np.ndarray:
    """Window (fixed level/width, e.g. HU) or per-image percentile scaling to [0, 1], float32.
    ``percentiles``: {q: value} of ``image`` already computed (``inference.value_stats``: one
    sort of the same float32 pixels serves the domain check and this scaling); without them they
    are computed here, with the same (numpy 'linear') definition."""
    norm = dict(spec_input.get("normalisation", {}) or {})  # type: ignore[arg-type]
    kind = norm.get("kind", "percentile")
    img = np.asarray(image, dtype=np.float32)
    if kind == "window":
        centre, width = float(norm["center"]), float(norm["width"])
        lo = centre - width / 2.0
        return np.clip((img - lo) / width, 0.0, 1.0).astype(np.float32)
    if kind == "percentile":
        qs = percentile_bounds(spec_input)
        assert qs is not None
        if percentiles is not None and all(q in percentiles for q in qs):
            lo, hi = (percentiles[q] for q in qs)
        else:
            lo, hi = SortedValues.of(img).percentiles(qs).values()
        if hi - lo < 1e-6:
            return np.zeros_like(img)
        return np.clip((img - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    raise ValueError(f"unknown normalisation kind {kind!r} (expected 'window' or 'percentile')")


def place(unit: np.ndarray, geom: Geometry) -> torch.Tensor:
    """Resize an (H, W) [0, 1] image into its content box and pad to (1, size, size)."""
    t = torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32))[None, None]
    ch, cw = geom.content
    antialias = ch < geom.shape[0] or cw < geom.shape[1]
    t = F.interpolate(t, size=(ch, cw), mode="bilinear", align_corners=False, antialias=antialias)
    out = torch.zeros(1, 1, geom.size, geom.size)
    top, left = geom.offset
    out[..., top:top + ch, left:left + cw] = t
    return out[0]


def blur(u: torch.Tensor, sigma: torch.Tensor | float, mode: str = "replicate") -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) images, one sigma per image or one for all (pixels,
    radius ceil(3 sigma); 0 leaves an image as it is). Edges ``"replicate"`` or ``"reflect"``; a
    kernel wider than the image replicates whatever ``mode`` says, so any sigma works."""
    n, c, h, w = u.shape
    s = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1).expand(n)
    r = max(1, int(math.ceil(3.0 * float(s.max()))))
    offsets = torch.arange(-r, r + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (offsets.view(1, -1) / s.clamp_min(1e-3).view(-1, 1)) ** 2)
    k = (k / k.sum(1, keepdim=True)).to(dtype=u.dtype, device=u.device)   # (N, 2r+1)
    kc = k.repeat_interleave(c, 0)
    mode_h = mode if mode == "replicate" or r < h else "replicate"
    mode_w = mode if mode == "replicate" or r < w else "replicate"
    flat = u.reshape(1, n * c, h, w)
    flat = F.conv2d(F.pad(flat, (r, r, 0, 0), mode=mode_w), kc.view(n * c, 1, 1, -1), groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, r, r), mode=mode_h), kc.view(n * c, 1, -1, 1), groups=n * c)
    return flat.reshape(n, c, h, w)


def smooth(unit: torch.Tensor, spec_input: Mapping[str, object]) -> torch.Tensor:
    """The manifest's input low-pass (``input.smooth``, sigma in model pixels; absent or 0: none)
    applied to placed [0, 1] images (C, H, W) or (N, C, H, W)."""
    sigma = float(spec_input.get("smooth", 0.0) or 0.0)  # type: ignore[arg-type]
    if sigma <= 0:
        return unit
    return blur(unit[None] if unit.dim() == 3 else unit, sigma).reshape(unit.shape)


def to_tensor(image: np.ndarray, spec_input: Mapping[str, object],
              spacing: tuple[float, float] | None = None,
              percentiles: Mapping[float, float] | None = None) -> tuple[torch.Tensor, Geometry]:
    """(H, W) slice in physical units -> ((1, size, size) float32 tensor, Geometry)."""
    geom = plan_geometry(np.shape(image), int(spec_input["size"]), spacing)  # type: ignore[arg-type]
    t = smooth(place(normalise(image, spec_input, percentiles), geom), spec_input)
    mean = float(spec_input.get("mean", 0.0))  # type: ignore[arg-type]
    std = float(spec_input.get("std", 1.0))  # type: ignore[arg-type]
    return (t - mean) / std, geom


def to_slice(grid_map: np.ndarray | torch.Tensor, geom: Geometry) -> np.ndarray:
    """Map a model-grid map (h, w) covering the whole (size, size) input onto slice pixels (H, W).

    Each slice pixel centre is projected into model coordinates and sampled bilinearly from the
    map (cell centres at (i + 0.5) * size / h). Values are kept raw (no normalisation).
    """
    m = torch.as_tensor(np.asarray(grid_map, dtype=np.float32) if not isinstance(grid_map, torch.Tensor)
                        else grid_map.detach().float().cpu())
    if m.dim() != 2:
        raise ValueError(f"expected a 2D (h, w) map, got shape {tuple(m.shape)}")
    h, w = geom.shape
    ch, cw = geom.content
    top, left = geom.offset
    ys = top + (torch.arange(h, dtype=torch.float32) + 0.5) * ch / h      # model pixel coords
    xs = left + (torch.arange(w, dtype=torch.float32) + 0.5) * cw / w
    gy = ys / geom.size * 2 - 1                                           # -1..1 over the whole input
    gx = xs / geom.size * 2 - 1
    grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1)[None]  # (1, H, W, 2) as (x, y)
    out = F.grid_sample(m[None, None], grid, mode="bilinear", padding_mode="border",
                        align_corners=False)
    return out[0, 0].numpy().astype(np.float32)


def stack_to_tensor(stack: np.ndarray, spec_input: Mapping[str, object], n_slices: int,
                    spacing: tuple[float, float] | None = None) -> tuple[torch.Tensor, Geometry, np.ndarray]:
    """(S, H, W) plane stack -> ((n_slices, 1, size, size), Geometry, source index per model slice).

    Slices are resampled to a fixed count by nearest-slice selection (even spacing); the whole
    stack is normalised together so that slice-to-slice contrast is kept.
    """
    stack = np.asarray(stack, dtype=np.float32)
    idx = np.round(np.linspace(0, stack.shape[0] - 1, n_slices)).astype(int)
    unit = normalise(stack, spec_input)
    geom = plan_geometry(stack.shape[1:], int(spec_input["size"]), spacing)  # type: ignore[arg-type]
    t = smooth(torch.cat([place(unit[i], geom) for i in idx])[:, None], spec_input)
    mean = float(spec_input.get("mean", 0.0))  # type: ignore[arg-type]
    std = float(spec_input.get("std", 1.0))  # type: ignore[arg-type]
    return (t - mean) / std, geom, idx


def stack_to_slices(maps: np.ndarray | torch.Tensor, geom: Geometry, idx: Sequence[int],
                    n_source: int) -> np.ndarray:
    """(n_model, h, w) per-model-slice maps -> (S, H, W) on the source stack (nearest model slice)."""
    m = np.asarray(maps.detach().cpu() if isinstance(maps, torch.Tensor) else maps, dtype=np.float32)
    idx = np.asarray(idx)
    per = [to_slice(m[k], geom) for k in range(len(m))]
    out = np.zeros((n_source, *geom.shape), dtype=np.float32)
    for s in range(n_source):
        out[s] = per[int(np.argmin(np.abs(idx - s)))]
    return out

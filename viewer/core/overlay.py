"""The one overlay rule: a heat map and a style become colours and alpha (no Qt, no torch).

Every place that shows a map calls :func:`overlay_rgba`: the slice view, the plane views, the
linked occlusion view, the quiz, presenter mode, PNG and montage exports, the screenshot command
and ``classify --out``. So the same map with the same style gives the same pixels everywhere.

The rule: the map is normalised by its top, its positive maximum (negative evidence counts as
0) or the map's ``reference`` when that is larger; values below ``threshold`` (a fraction of the
top) and unknown values (NaN) are transparent; the colormap spans ``threshold`` .. top; shown
pixels have alpha ``opacity``, fading in over the first tenth of the span (a soft edge). Arrays
are ``(y, x)`` (rows, columns) in the slice's pixel grid.

``reference`` (``Explanation.reference``, from the model's manifest) is what a weak finding's map
reaches: a detector's map of its finding on a slice without one is then drawn faint, as weak as
its evidence, instead of its strongest noise stretched to full colour. None (other classes,
models without one): each map is scaled to its own maximum.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

COLORMAPS = ("inferno", "jet", "hot", "turbo")
LUT_SIZE = 256


@dataclass(frozen=True)
class OverlayStyle:
    """How a map is shown: ``colormap`` (one of :data:`COLORMAPS`), ``opacity`` 0..1 and
    ``threshold`` 0..1 (fraction of the map's positive maximum below which it is transparent)."""

    colormap: str = "inferno"
    opacity: float = 0.5
    threshold: float = 0.2

    def __post_init__(self) -> None:
        if self.colormap not in COLORMAPS:
            raise ValueError(f"unknown colormap {self.colormap!r}; choose one of "
                             f"{', '.join(COLORMAPS)}")


@lru_cache(maxsize=16)
def _table(name: str, n: int) -> np.ndarray:
    from matplotlib import colormaps

    if name not in COLORMAPS:
        raise ValueError(f"unknown colormap {name!r}; choose one of {', '.join(COLORMAPS)}")
    rgba = colormaps[name].resampled(n)(np.linspace(0.0, 1.0, n))
    table = np.round(rgba[:, :3] * 255.0).astype(np.uint8)
    table.setflags(write=False)
    return table


def lookup_table(name: str, n: int = LUT_SIZE) -> np.ndarray:
    """(n, 3) uint8 colour table of a named colormap (matplotlib's tables)."""
    return _table(name, int(n))


def window_to_gray(image: np.ndarray, center: float, width: float, invert: bool = False) -> np.ndarray:
    """(y, x) physical values -> (y, x) uint8 grey through a window (center, width)."""
    lo = center - width / 2.0
    g = np.clip((image.astype(np.float32) - lo) / max(width, 1e-6), 0.0, 1.0)
    if invert:
        g = 1.0 - g
    return (g * 255.0 + 0.5).astype(np.uint8)


def _usable(reference: float | None) -> bool:
    """Whether ``reference`` can scale a map (finite and positive); otherwise it is ignored."""
    return reference is not None and bool(np.isfinite(reference)) and reference > 0


def _with_reference(top: float, reference: float | None) -> float:
    """The top of the rule: the map's positive maximum ``top``, or ``reference`` when larger
    (0 stays 0: a map without positive evidence is not shown, whatever its reference)."""
    if top > 0 and _usable(reference) and reference > top:  # type: ignore[operator]
        return float(reference)  # type: ignore[arg-type]
    return top


def map_strength(heat: np.ndarray, reference: float | None) -> float | None:
    """The map's positive maximum as a fraction of its ``reference``: 1 or more is drawn at full
    colour, less is faint (nothing is drawn below the display threshold); 0 without positive
    evidence; None for a map without a usable reference (scaled to its own maximum)."""
    if not _usable(reference):
        return None
    h = np.asarray(heat, np.float32)
    finite = h[np.isfinite(h)]
    top = float(finite.max()) if finite.size else 0.0
    return max(0.0, top) / float(reference)  # type: ignore[arg-type]


def normalise_map(heat: np.ndarray, reference: float | None = None) -> np.ndarray:
    """Raw map -> float32 [0, 1] by its top (positive maximum, or ``reference`` when larger;
    negative evidence and NaN become 0)."""
    h = np.nan_to_num(np.asarray(heat, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(h, 0.0, None, out=h)
    top = _with_reference(float(h.max()) if h.size else 0.0, reference)
    if top > 0:
        h /= top
    return h


#: The first tenth of the colour span fades in (alpha 0 -> opacity), so a map's edge at the
#: threshold is soft instead of a hard, stair-stepped line.
RAMP_STEPS = LUT_SIZE // 10


@lru_cache(maxsize=64)
def _rgba_words(name: str, alpha: int) -> np.ndarray:
    """(LUT_SIZE + 1,) uint32: the colormap's RGBA as packed words, alpha rising over the first
    :data:`RAMP_STEPS` entries to ``alpha``; the extra last entry is fully transparent (values
    below the threshold, unknown or without evidence)."""
    table = np.zeros((LUT_SIZE + 1, 4), np.uint8)
    table[:LUT_SIZE, :3] = lookup_table(name)
    ramp = np.minimum(1.0, (np.arange(LUT_SIZE) + 1.0) / RAMP_STEPS)
    table[:LUT_SIZE, 3] = np.maximum(1, np.round(alpha * ramp)).astype(np.uint8) if alpha else 0
    words = table.view(np.uint32).reshape(-1).copy()
    words.setflags(write=False)
    return words


def overlay_rgba(heat: np.ndarray, style: OverlayStyle, normalised: bool = False,
                 reference: float | None = None) -> np.ndarray:
    """(y, x, 4) uint8 colours and alpha of a map under ``style``.

    ``heat``: float (y, x) with its raw range, scaled by its top (see the module docstring for
    ``reference``); ``normalised=True`` says it is already in 0..1 per slice with NaN where
    nothing is known (the plane views' map volume), so it is used as it is. A map without
    positive evidence is fully transparent. (One pass per step and one
    table look-up of packed RGBA words: a 512 x 512 map takes a few milliseconds.)
    """
    h = np.asarray(heat, np.float32)
    if h.size == 0:
        return np.zeros(h.shape + (4,), np.uint8)
    if normalised:
        scaled = h
    else:
        top = float(h.max())
        if np.isnan(top):  # some pixels unknown
            known = h[~np.isnan(h)]
            top = float(known.max()) if known.size else 0.0
        if not np.isfinite(top):  # infinite values count as no evidence (normalise_map)
            scaled = normalise_map(h, reference)
        elif top > 0:
            scaled = h / np.float32(_with_reference(top, reference))
        else:
            return np.zeros(h.shape + (4,), np.uint8)
    cut = float(np.clip(style.threshold, 0.0, 1.0))
    span = 1.0 - cut if cut < 1.0 else 1e-6
    gain = np.float32(LUT_SIZE / span)
    f = scaled * gain                       # a new array: the input is never changed
    f -= np.float32(cut) * gain
    shown = f > 0 if cut == 0.0 else f >= 0  # NaN compares False: transparent
    np.minimum(f, LUT_SIZE - 1, out=f)
    with np.errstate(invalid="ignore"):  # NaN and negative entries are replaced just below
        index = f.astype(np.int32)
    index[~shown] = LUT_SIZE
    alpha = int(round(float(np.clip(style.opacity, 0.0, 1.0)) * 255))
    words = _rgba_words(style.colormap, alpha)[index]
    return words.view(np.uint8).reshape(h.shape + (4,))


def display_range(heat: np.ndarray, threshold: float,
                  reference: float | None = None) -> tuple[float, float] | None:
    """(low, high) raw map values the colormap spans under the rule (threshold x top .. top),
    for colour-bar labels; None when the map has no positive evidence."""
    finite = np.asarray(heat, np.float32)
    finite = finite[np.isfinite(finite)]
    top = _with_reference(float(finite.max()) if finite.size else 0.0, reference)
    if top <= 0:
        return None
    return (float(np.clip(threshold, 0.0, 1.0)) * top, top)


def blend(gray_or_rgb: np.ndarray, rgba: np.ndarray | None) -> np.ndarray:
    """(y, x, 3) uint8: an image (grey (y, x) or RGB (y, x, 3) uint8) with ``rgba`` laid over."""
    base = np.asarray(gray_or_rgb)
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    base = base.astype(np.float32)
    if rgba is None:
        return np.clip(base + 0.5, 0, 255).astype(np.uint8)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    out = base * (1.0 - alpha) + rgba[..., :3].astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def compose(image: np.ndarray, window: tuple[float, float], heat: np.ndarray | None,
            style: OverlayStyle | None = None, invert: bool = False,
            reference: float | None = None, normalised: bool = False) -> np.ndarray:
    """(y, x, 3) uint8: the windowed slice (``window`` = (center, width)) with the map laid over
    by :func:`overlay_rgba` (``reference``, ``normalised``: as there); ``heat`` None gives the
    plain slice."""
    gray = window_to_gray(image, *window, invert=invert)
    if heat is None:
        return blend(gray, None)
    if heat.shape != image.shape[:2]:
        raise ValueError(f"map shape {heat.shape} does not match the slice {image.shape[:2]}")
    return blend(gray, overlay_rgba(heat, style or OverlayStyle(), normalised=normalised,
                                    reference=reference))


def save_png(rgb: np.ndarray, path: Path) -> Path:
    """Writes an (y, x, 3) or (y, x, 4) uint8 array as PNG (Pillow; no display needed)."""
    from PIL import Image

    data = np.ascontiguousarray(rgb, dtype=np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        Image.fromarray(data).save(str(path), "PNG")
    except (OSError, ValueError) as exc:
        raise OSError(f"could not write {path}: {exc}") from exc
    return path

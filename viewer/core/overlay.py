"""Heat-map overlays composed into RGB images without widgets (CLI exports, reports).

Arrays are (y, x); the slice is in physical units, the map float32 with its raw range.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

COLORMAPS = ("inferno", "jet", "hot", "turbo")


def lookup_table(name: str, n: int = 256) -> np.ndarray:
    """(n, 3) uint8 colour table of a named colormap (pyqtgraph's, or matplotlib's 'jet' and 'hot')."""
    import pyqtgraph as pg

    if name == "jet":
        x = np.linspace(0.0, 1.0, n)
        r = np.clip(1.5 - np.abs(4 * x - 3), 0, 1)
        g = np.clip(1.5 - np.abs(4 * x - 2), 0, 1)
        b = np.clip(1.5 - np.abs(4 * x - 1), 0, 1)
        return (np.stack([r, g, b], axis=1) * 255).astype(np.uint8)
    if name == "hot":
        x = np.linspace(0.0, 1.0, n)
        r, g, b = np.clip(3 * x, 0, 1), np.clip(3 * x - 1, 0, 1), np.clip(3 * x - 2, 0, 1)
        return (np.stack([r, g, b], axis=1) * 255).astype(np.uint8)
    try:
        cmap = pg.colormap.get(name)
    except (FileNotFoundError, KeyError, ValueError):
        cmap = None
    if cmap is None:
        raise ValueError(f"unknown colormap {name!r}; choose one of {', '.join(COLORMAPS)}")
    return cmap.getLookupTable(0.0, 1.0, n, alpha=False).astype(np.uint8)


def window_to_gray(image: np.ndarray, center: float, width: float, invert: bool = False) -> np.ndarray:
    """(y, x) physical values -> (y, x) uint8 grey through a window (center, width)."""
    lo = center - width / 2.0
    g = np.clip((image.astype(np.float32) - lo) / max(width, 1e-6), 0.0, 1.0)
    if invert:
        g = 1.0 - g
    return (g * 255.0 + 0.5).astype(np.uint8)


def normalise_map(heat: np.ndarray) -> np.ndarray:
    """Raw map -> [0, 1] by its positive range (negative evidence shown as 0)."""
    h = np.nan_to_num(np.asarray(heat, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(h, 0.0, None, out=h)
    top = float(h.max()) if h.size else 0.0
    if top > 0:
        h /= top
    return h


def compose(image: np.ndarray, window: tuple[float, float], heat: np.ndarray | None, *,
            colormap: str = "inferno", opacity: float = 0.5, threshold: float = 0.2,
            invert: bool = False) -> np.ndarray:
    """(y, x, 3) uint8: the windowed slice with the map blended where it exceeds ``threshold``.

    ``threshold`` and ``opacity`` are fractions of the map's positive maximum and of full cover.
    """
    gray = window_to_gray(image, *window, invert=invert)
    rgb = np.repeat(gray[..., None], 3, axis=2).astype(np.float32)
    if heat is None:
        return rgb.astype(np.uint8)
    if heat.shape != image.shape:
        raise ValueError(f"map shape {heat.shape} does not match the slice {image.shape}")
    h = normalise_map(heat)
    lut = lookup_table(colormap).astype(np.float32)
    colour = lut[np.clip((h * 255).astype(np.int32), 0, 255)]
    alpha = (opacity * (h >= threshold) * np.clip(h * 1.5, 0, 1))[..., None]
    out = rgb * (1.0 - alpha) + colour * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def save_png(rgb: np.ndarray, path: Path) -> Path:
    """Writes an (y, x, 3) uint8 array as PNG (Qt's encoder; no display needed)."""
    from PySide6.QtGui import QImage

    data = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = data.shape[:2]
    img = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not img.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path

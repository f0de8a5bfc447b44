"""Drawing primitives of the independent generator (own code; nothing from inference.phantoms).

Pixel grids are in millimetres, (row, column) = (y, x), origin at the image centre.
"""
from __future__ import annotations

import numpy as np


def mm_grid(shape: tuple[int, int], pixel_mm: float, shift: tuple[float, float] = (0.0, 0.0),
            turn_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) position in mm of every pixel centre, shifted and turned by ``turn_deg``."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    yy = (yy - (h - 1) / 2) * pixel_mm - shift[0]
    xx = (xx - (w - 1) / 2) * pixel_mm - shift[1]
    t = np.radians(turn_deg)
    return np.cos(t) * yy + np.sin(t) * xx, -np.sin(t) * yy + np.cos(t) * xx


def superellipse(y: np.ndarray, x: np.ndarray, cy: float, cx: float, ay: float, ax: float,
                 power: float = 2.0) -> np.ndarray:
    """Level |dy/ay|^p + |dx/ax|^p (inside where <= 1)."""
    return np.abs((y - cy) / ay) ** power + np.abs((x - cx) / ax) ** power


def polar_blob(y: np.ndarray, x: np.ndarray, cy: float, cx: float, radius: float,
               harmonics: np.ndarray) -> np.ndarray:
    """Distance from the centre over the outline radius at that angle (inside where < 1).
    ``harmonics`` (K, 2): relative amplitude and phase of harmonics 2..K+1."""
    ang = np.arctan2(y - cy, x - cx)
    outline = np.ones_like(ang)
    for k, (amp, ph) in enumerate(harmonics, start=2):
        outline += amp * np.cos(k * ang + ph)
    return np.hypot(y - cy, x - cx) / (radius * np.maximum(outline, 0.3))


def fft_smooth(img: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian smoothing through the Fourier domain (periodic borders), sigma in pixels."""
    if sigma_px <= 0:
        return img
    fy = np.fft.fftfreq(img.shape[0])[:, None]
    fx = np.fft.rfftfreq(img.shape[1])[None, :]
    gain = np.exp(-2 * (np.pi * sigma_px) ** 2 * (fy ** 2 + fx ** 2))
    return np.fft.irfft2(np.fft.rfft2(img) * gain, s=img.shape)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Zero-mean, unit-std smooth random texture."""
    n = fft_smooth(rng.standard_normal(shape), sigma_px)
    return (n - n.mean()) / (n.std() + 1e-9)

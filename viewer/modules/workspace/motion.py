"""Cine of a view as a movie: frames through the one overlay rule, written as MP4 or animated GIF.

No Qt. Frames are ``(y, x, 3)`` uint8 images: the windowed image with the heat map laid over by
the one overlay rule (:func:`viewer.core.overlay.window_to_gray`, ``overlay_rgba`` and ``blend``,
as the screen draws it), scaled to the pixels' physical
aspect (``spacing`` (row, column) mm) and to at least :data:`MIN_SIDE` pixels, with a caption
band under the image. MP4 is H.264 (yuv420p, so the size is padded to even numbers) written by
imageio's FFmpeg plugin with the encoder shipped in the imageio-ffmpeg wheel; GIF by imageio's
Pillow plugin, looping forever.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.core.overlay import OverlayStyle, blend, overlay_rgba, window_to_gray

MIN_SIDE = 384       # px: small series (64 x 64 EPI) are scaled up to stay readable
CAPTION_PX = 22      # height of the caption band under each frame
MOVIE_SUFFIXES = (".mp4", ".gif")


@dataclass(frozen=True)
class Frame:
    """One picture of a cine: ``image`` ``(y, x)`` (or ``(y, x, 3)`` RGB 0..255) in the volume's
    units, ``heat`` ``(y, x)`` map normalised to 0..1 with NaN where unknown (the workspace's
    map volume, as the plane views show it) or None, ``caption`` (e.g. "slice 3 / 35")."""

    image: np.ndarray
    heat: np.ndarray | None
    caption: str


def render_frame(frame: Frame, window: tuple[float, float], style: OverlayStyle | None,
                 spacing: tuple[float, float] = (1.0, 1.0), invert: bool = False,
                 min_side: int = MIN_SIDE) -> np.ndarray:
    """``frame`` as ``(y, x, 3)`` uint8: windowed (``window`` = centre, width), map laid over,
    scaled to physical aspect and ``min_side``, caption band below."""
    from PIL import Image, ImageDraw

    if frame.image.ndim == 3:
        rgb = np.clip(frame.image, 0, 255).astype(np.uint8)
    else:
        gray = window_to_gray(frame.image, *window, invert=invert)
        rgba = (overlay_rgba(frame.heat, style, normalised=True)
                if frame.heat is not None and style is not None else None)
        rgb = blend(gray, rgba)
    ny, nx = rgb.shape[:2]
    height, width = ny * float(spacing[0]), nx * float(spacing[1])
    scale = max(min_side / min(height, width), 1.0 / min(spacing))
    size = (max(1, int(round(width * scale))), max(1, int(round(height * scale))))
    picture = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (size[0], size[1] + CAPTION_PX), (0, 0, 0))
    canvas.paste(picture, (0, 0))
    ImageDraw.Draw(canvas).text((6, size[1] + 4), frame.caption, fill=(230, 230, 230))
    return np.asarray(canvas)


def even(image: np.ndarray) -> np.ndarray:
    """``image`` padded with black to an even height and width (H.264 in yuv420p needs it)."""
    pad_y, pad_x = image.shape[0] % 2, image.shape[1] % 2
    if not (pad_y or pad_x):
        return image
    return np.pad(image, ((0, pad_y), (0, pad_x), (0, 0)))


def write_movie(frames: Sequence[np.ndarray], path: Path, fps: float) -> Path:
    """Write ``(y, x, 3)`` uint8 ``frames`` (same size) at ``fps`` frames per second: MP4 or GIF
    by the suffix of ``path``. Raises ``ValueError`` for another suffix or no frame."""
    import imageio.v3 as iio

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MOVIE_SUFFIXES:
        raise ValueError(f"a movie is written as {' or '.join(MOVIE_SUFFIXES)}, not {suffix!r}")
    if not frames:
        raise ValueError("a movie needs at least one frame")
    path.parent.mkdir(parents=True, exist_ok=True)
    stack = np.stack([np.ascontiguousarray(f[..., :3], dtype=np.uint8) for f in frames])
    if suffix == ".gif":
        # GIF delays are whole hundredths of a second; Pillow takes milliseconds
        iio.imwrite(path, stack, extension=".gif", plugin="pillow",
                    duration=int(round(1000.0 / fps)), loop=0)
    else:
        stack = np.stack([even(f) for f in stack])
        iio.imwrite(path, stack, extension=".mp4", plugin="FFMPEG", fps=float(fps),
                    codec="libx264", pixelformat="yuv420p", macro_block_size=1)
    return path


def render_frames(frames: Iterable[Frame], window: tuple[float, float],
                  style: OverlayStyle | None, spacing: tuple[float, float], invert: bool,
                  check: Callable[[], None] = lambda: None,
                  report: Callable[[tuple[int, int]], None] | None = None, total: int = 0
                  ) -> list[np.ndarray]:
    """:func:`render_frame` for each frame; ``check()`` between frames (a job's cancellation
    point), ``report((done, total))`` after each."""
    out = []
    for n, frame in enumerate(frames):
        check()
        out.append(render_frame(frame, window, style, spacing, invert))
        if report is not None:
            report((n + 1, total))
    return out

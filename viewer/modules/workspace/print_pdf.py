"""Print-ready PDF of pictures (a view, a montage), each on an A4 page with its caption.

No Qt: matplotlib's PDF backend (``matplotlib.backends.backend_pdf.PdfPages`` with
``matplotlib.figure.Figure``, never pyplot, so it runs in a worker thread). Each picture is an
``(y, x, 3)`` uint8 array placed as large as the page allows at its own aspect (pixels are
square: the views and montages are already at physical aspect), embedded losslessly at
:data:`DPI`, with the caption in a line below and "SliceWise" plus the date in the footer.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

A4_INCHES = (8.27, 11.69)   # portrait width, height
LANDSCAPE_RATIO = 1.2       # pictures wider than tall by this much go on landscape pages
MARGIN_IN = 0.5
CAPTION_IN = 0.9            # room under the picture for the caption
DPI = 300


@dataclass(frozen=True)
class Page:
    """One page: ``image`` ``(y, x, 3)`` uint8, ``caption`` (one or more lines), ``title``."""

    image: np.ndarray
    caption: str = ""
    title: str = ""


def write_pdf(pages: Sequence[Page], path: Path, *, author: str = "SliceWise") -> Path:
    """Write ``pages`` as one PDF (one picture per A4 page, portrait or landscape to fit)."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    if not pages:
        raise ValueError("a PDF needs at least one page")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    with PdfPages(path, metadata={"Creator": author, "Title": pages[0].title or path.stem}) as pdf:
        for page in pages:
            image = np.ascontiguousarray(page.image[..., :3], dtype=np.uint8)
            ny, nx = image.shape[:2]
            width, height = A4_INCHES
            if nx > LANDSCAPE_RATIO * ny:
                width, height = height, width
            fig = Figure(figsize=(width, height))
            box_w = width - 2 * MARGIN_IN
            box_h = height - 2 * MARGIN_IN - CAPTION_IN - (0.4 if page.title else 0.0)
            scale = min(box_w / nx, box_h / ny)
            w_in, h_in = nx * scale, ny * scale
            left = (width - w_in) / 2
            bottom = MARGIN_IN + CAPTION_IN
            ax = fig.add_axes((left / width, bottom / height, w_in / width, h_in / height))
            ax.imshow(image, interpolation="nearest", aspect="auto")
            ax.set_axis_off()
            if page.title:
                fig.text(0.5, 1 - MARGIN_IN / height, page.title, ha="center", va="top",
                         fontsize=14, weight="bold")
            if page.caption:
                fig.text(left / width, (bottom - 0.12) / height, page.caption, ha="left",
                         va="top", fontsize=9, wrap=True)
            fig.text(0.5, (MARGIN_IN * 0.6) / height, f"{author} · {when}", ha="center",
                     va="bottom", fontsize=7, color="#666666")
            pdf.savefig(fig, dpi=DPI)
    return path

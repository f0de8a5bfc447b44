"""Exports of motion and print: the cine of the current view as MP4 or animated GIF, and a
print-ready PDF of the view or of a montage, each with its caption.

:class:`MotionExports` is a part of :class:`~viewer.modules.workspace.exports.Exports` (its
``motion`` attribute). The ``*_job`` methods take a snapshot of what is on screen (volume,
window, heat-map volume and style, which cine is playing: native slices, the active plane's
positions, or the time points of a 4-D series) and return a job for the window's JobRunner; the
frames are drawn in the worker by :mod:`viewer.modules.workspace.motion` and the pages written by
:mod:`viewer.modules.workspace.print_pdf`. Time points not yet read are read by the job itself.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

if TYPE_CHECKING:
    from viewer.modules.workspace.exports import Exports
    from viewer.modules.workspace.motion import Frame

MOVIE_FILTER = "MP4 video (*.mp4);;Animated GIF (*.gif)"
PDF_FILTER = "PDF document (*.pdf)"


def qimage_rgb(image: QImage) -> np.ndarray:
    """A QImage as an ``(y, x, 3)`` uint8 array (a copy; safe to hand to a worker)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return data[:, :w * 3].reshape(h, w, 3).copy()


class MotionExports:
    """Movie and PDF commands of the workspace's exports (see the module docstring)."""

    def __init__(self, exports: Exports) -> None:
        self.exports = exports
        self.workspace, self.window, self.state = exports.workspace, exports.window, exports.state

    # -- menu commands ---------------------------------------------------------------------------
    def export_movie(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export cine as movie",
                                                   self.exports._default("cine.mp4"), MOVIE_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".gif" if "gif" in chosen.lower() else ".mp4"
            self.exports.background("Writing movie", self.movie_job(Path(path)))

    def export_pdf_view(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Print view to PDF",
                                              self.exports._default("view.pdf"), PDF_FILTER)
        if path:
            self.exports.background("Writing PDF", self.view_pdf_job(Path(path)))

    def export_pdf_montage(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Print montage to PDF",
                                              self.exports._default("montage.pdf"), PDF_FILTER)
        if path:
            self.exports.background("Writing PDF", self.montage_pdf_job(Path(path)))

    # -- what the cine plays -------------------------------------------------------------------
    def cine_axis(self) -> str:
        """What the cine plays now: "time" (4-D series), a plane name, or "native"."""
        ws, st = self.workspace, self.state
        if ws.act_cine_time is not None and ws.act_cine_time.isChecked() and st.time_points > 1:
            return "time"
        view = ws.layouts.active_view()
        if ws.layouts.current != "1" and hasattr(view, "plane") and view.plane in ws.nav.planes:
            return view.plane
        return "native"

    def movie_job(self, path: Path, fps: float | None = None):
        """A job writing the current cine (every frame it plays, with the map laid over and a
        caption on each) as MP4 or GIF at the cine's frame rate (or ``fps``)."""
        ws, st, vol = self.workspace, self.state, self.state.volume
        if vol is None:
            raise ValueError("no series is open")
        fps = float(fps or ws.cine.fps)
        window, style = st.window, ws.heat_style
        frames, total, spacing = self._frames(self.cine_axis())

        def job(ctx):
            from viewer.modules.workspace.motion import render_frames, write_movie

            images = render_frames(frames, window, style, spacing, vol.invert_display,
                                   ctx.check, ctx.report, total)
            return write_movie(images, path, fps)
        return job

    def _frames(self, axis: str) -> tuple[Iterator[Frame], int, tuple[float, float]]:
        from viewer.modules.workspace.motion import Frame

        ws, st, vol = self.workspace, self.state, self.state.volume
        heat = ws.heat_volume if ws.heat_style is not None else None
        name = vol.description or "Series"
        if axis == "time":
            k, count = st.slice_index, st.time_points
            loader = ws.time_points
            series, cache, reference = loader.series, dict(loader.cache), loader.cache.get(0)

            def over_time() -> Iterator[Frame]:
                from viewer.io.time_points import load_time_point

                for t in range(count):
                    v = cache.get(t)
                    if v is None:  # not read yet: read it here, in the worker
                        v = load_time_point(series, t, reference)
                    yield Frame(v.voxels[k], None if heat is None else heat[k],
                                f"{name} - slice {k + 1}/{vol.n_slices} - time {t + 1}/{count}")
            return over_time(), count, (vol.spacing[1], vol.spacing[2])
        if axis != "native":
            geom = ws.nav.planes[axis]

            def over_plane() -> Iterator[Frame]:
                from viewer.core.reformat import extract

                where = dict(spacing=vol.spacing, origin=vol.origin, direction=vol.direction)
                fill = float(vol.voxels.min())
                for d in range(geom.depths):
                    image = extract(vol.voxels, geom, d, fill=fill, **where)
                    h = None if heat is None else extract(heat, geom, d, fill=float("nan"),
                                                          **where)
                    yield Frame(np.ascontiguousarray(image, np.float32), h,
                                f"{name} - {axis} {d + 1}/{geom.depths}")
            return over_plane(), geom.depths, (geom.dv, geom.du)
        voxels = vol.voxels
        frames = (Frame(voxels[k], None if heat is None else heat[k],
                        f"{name} - slice {k + 1}/{vol.n_slices}") for k in range(vol.n_slices))
        return frames, vol.n_slices, (vol.spacing[1], vol.spacing[2])

    # -- print ---------------------------------------------------------------------------------
    def view_pdf_job(self, path: Path):
        """A job writing the layout (or one view) as drawn, with its caption, on an A4 page."""
        from viewer.modules.workspace.print_pdf import Page

        caption = self.exports.caption()
        page = Page(qimage_rgb(self.exports.render_png()), caption, "SliceWise view")

        def job(ctx):
            from viewer.modules.workspace.print_pdf import write_pdf

            return write_pdf([page], path)
        return job

    def montage_pdf_job(self, path: Path):
        """A job writing a montage of every n-th native slice (at most 36) with the map laid
        over, captioned with the series and the slices shown, on an A4 page."""
        from viewer.modules.workspace.exports import MONTAGE_MAX

        ws, st, vol = self.workspace, self.state, self.state.volume
        if vol is None:
            raise ValueError("no series is open")
        heat = ws.heat_volume if ws.heat_style is not None else None
        window, style = st.window, ws.heat_style
        step = max(1, int(np.ceil(vol.n_slices / MONTAGE_MAX)))
        slices = list(range(0, vol.n_slices, step))
        caption = (f"{self.exports.caption()}\nSlices {slices[0] + 1} to {slices[-1] + 1} of "
                   f"{vol.n_slices}, every {step}; window W {window[1]:.0f} L {window[0]:.0f}")

        def job(ctx):
            from viewer.core.exports import montage
            from viewer.modules.workspace.motion import Frame, render_frame
            from viewer.modules.workspace.print_pdf import Page, write_pdf

            images = []
            for k in slices:
                ctx.check()
                images.append(render_frame(
                    Frame(vol.voxels[k], None if heat is None else heat[k], f"{k + 1}"),
                    window, style, (vol.spacing[1], vol.spacing[2]), vol.invert_display,
                    min_side=128))
            return write_pdf([Page(montage(images), caption, "SliceWise montage")], path)
        return job

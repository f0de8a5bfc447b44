"""Exports of the workspace: PNG of the layout or active view (caption, colour bar), clipboard
copy, montage PNG, PNG series, findings report (JSON + CSV) and heat-map NIfTI; the cine as
MP4/GIF and print-ready PDFs are its ``motion`` part
(:class:`viewer.modules.workspace.motion_exports.MotionExports`).

:class:`Exports` is a part owned by :class:`~viewer.modules.workspace.module.Workspace`, which
keeps the actions (``act_export_png`` ...) and the state the exports read: the 3D heat map and
its style (``heat_volume``, ``heat_style``), the measurement store, and the providers of
per-slice probabilities and caption text. Files are written by background jobs of the window's
JobRunner under the key "export"; the ``*_job`` methods build those jobs (callables taking a
JobContext) from a snapshot of what is on screen when they are called. The layout or view PNG
is rendered (and decorated) by :mod:`viewer.modules.workspace.export_dialog`; montage, series,
report and NIfTI come from :mod:`viewer.core.exports` (PNG files by :mod:`viewer.core.overlay`).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from viewer.ui.dialogs import show_error

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from viewer.modules.workspace.export_dialog import PngOptions
    from viewer.modules.workspace.module import Workspace

MONTAGE_MAX = 36  # slices in a montage at most (every n-th native slice)


class Exports:
    """The export commands of ``workspace`` (see the module docstring)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.window, self.state = workspace.window, workspace.state
        from viewer.modules.workspace.motion_exports import MotionExports

        self.motion = MotionExports(self)

    # -- pictures on screen ------------------------------------------------------------------
    def caption(self, include_patient: bool = False) -> str:
        """Caption of an exported PNG: "<patient — >series — slice k/n — <model text>" (the
        patient's name only with ``include_patient``; the model text from the caption provider)."""
        from viewer.modules.workspace.export_dialog import caption_text

        provider = self.workspace.caption_provider
        model = provider() if provider is not None else ""
        return caption_text(self.state, model, include_patient)

    def render_png(self, options: PngOptions | None = None) -> QImage:
        """QImage of the layout (or active view) per PngOptions (default: layout + caption)."""
        from viewer.modules.workspace.export_dialog import PngOptions, render

        return render(self.workspace, options or PngOptions(caption=self.caption()))

    def copy_view(self) -> None:
        from viewer.modules.workspace.export_dialog import copy_to_clipboard

        copy_to_clipboard(self.render_png())
        self.window.statusBar().showMessage("View copied to the clipboard", 3000)

    # -- menu commands: ask where, then write in the background ---------------------------------
    def export_png(self) -> None:
        from viewer.modules.workspace.export_dialog import ExportDialog

        dialog = ExportDialog(self.caption(), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_export_dialog_accepted(dialog.options()))
        dialog.open()

    def _on_export_dialog_accepted(self, options: PngOptions) -> None:
        from dataclasses import replace

        if options.include_patient:
            options = replace(options, caption=self.caption(True))
        path, _ = QFileDialog.getSaveFileName(self.window, "Export PNG", self._default("view.png"),
                                              "PNG images (*.png)")
        if path:
            image = self.render_png(options)
            self.background("Writing PNG", lambda ctx: image.save(path, "PNG") or
                            _raise(OSError(f"could not write {path}")))

    def export_montage(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export montage",
                                              self._default("montage.png"), "PNG images (*.png)")
        if path:
            self.background("Writing montage", self.montage_job(Path(path)))

    def export_series(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export PNG series",
                                                  self.window.settings.last_folder())
        if folder:
            self.background("Writing PNG series", self.series_job(Path(folder)))

    def export_report(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export findings report",
                                              self._default("findings.json"),
                                              "JSON report (*.json)")
        if path:
            self.background("Writing report", self.report_job(Path(path)))

    def export_heatmap(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export heat map",
                                              self._default("heatmap.nii.gz"),
                                              "NIfTI (*.nii.gz *.nii)")
        if path:
            self.background("Writing NIfTI", self.heatmap_job(Path(path)))

    # -- jobs ----------------------------------------------------------------------------------
    def montage_job(self, path: Path):
        """A job writing every n-th native slice (at most 36) as one montage PNG."""
        ws = self.workspace
        vol, window, heat = self.state.volume, self.state.window, ws.heat_volume
        style = ws.heat_style
        step = max(1, int(np.ceil(vol.n_slices / MONTAGE_MAX)))

        def job(ctx):
            from viewer.core.exports import montage, slice_images
            from viewer.core.overlay import save_png

            return save_png(montage(slice_images(vol, range(0, vol.n_slices, step), window,
                                                 heat, style)), path)
        return job

    def series_job(self, folder: Path):
        """A job writing every native slice as ``slice_NNN.png`` into ``folder``."""
        ws = self.workspace
        vol, window, heat = self.state.volume, self.state.window, ws.heat_volume
        style = ws.heat_style

        def job(ctx):
            from viewer.core.exports import slice_images, write_png_series

            out = []
            for k in range(vol.n_slices):
                ctx.check()
                out += write_png_series(slice_images(vol, [k], window, heat, style), folder,
                                        numbers=[k + 1])
                ctx.report((k + 1, vol.n_slices))
            return out
        return job

    def report_job(self, path: Path, include_patient: bool = False):
        """A job writing the findings report as JSON plus a CSV beside it."""
        from viewer.core.exports import build_report

        ws = self.workspace
        key = ws.session_key() or ("", "")
        probs = list(ws.probabilities_provider()) if ws.probabilities_provider else []
        report = build_report(self.state.volume, ws.store.ordered(), probs, study_uid=key[0],
                              include_patient=include_patient)

        def job(ctx):
            from viewer.core.exports import write_report

            return write_report(report, path, path.with_suffix(".csv"))
        return job

    def heatmap_job(self, path: Path):
        """A job writing the 3D heat map as NIfTI on the series' voxel grid."""
        vol, heat = self.state.volume, self.workspace.heat_volume

        def job(ctx):
            from viewer.core.exports import write_heatmap_nifti

            return write_heatmap_nifti(heat, vol, path)
        return job

    def background(self, label: str, job) -> int:
        """Run ``job`` under the key "export"; the status bar says when it is done, an error
        dialog when it failed. Returns the request id."""
        return self.window.runner.submit(
            "export", job, label=label,
            on_result=lambda r: self.window.statusBar().showMessage(f"{label}: done", 4000),
            on_error=lambda e: show_error(self.window, "Export failed", e.message or str(e)))

    def _default(self, name: str) -> str:
        return str(Path(self.window.settings.last_folder()) / name)


def _raise(exc: Exception):
    raise exc

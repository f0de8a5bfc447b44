"""DicomResults: the AI module's DICOM results - "Export AI results as DICOM…" in the AI menu,
and Parametric Maps / Segmentations found beside the images shown as overlays.

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code). Export writes
the final maps of the series on screen (from the map cache: the chosen model and target, both
methods) with their predictions through :func:`viewer.modules.ai.dicom_export.write_dicom_results`
in a background job; ``send`` (set by the composition root once a PACS is configured) then
stores them. Read back: when a study is found, its PM / SEG objects are listed
(:func:`viewer.io.results.readback.find_overlays`); when a series they reference is opened, the
first one is decoded into a ``(z, y, x)`` map volume (NaN where it has no frame) and its slice is
shown by :meth:`heat` through the one overlay rule, with the AI panel's opacity, colormap and
threshold, whenever no classifier map of that slice is shown.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from viewer.io.records import DiscoveryResult, Volume
from viewer.io.results.readback import OverlayRef, find_overlays, overlay_stack, read_overlay, slice_refs
from viewer.state.jobs import JobError
from viewer.state.viewer_state import Message

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController

METHODS = ("gradcam", "occlusion")


def _write(folder: str, volume: Volume, results: list, model: str, style: Any,
           send: Any) -> list[Path]:
    """Worker-thread part of the export (highdicom and the model manifest are loaded here, so
    the window opens without them)."""
    from inference.registry import manifests, read_manifest
    from viewer.modules.ai.dicom_export import algorithm_from_spec, write_dicom_results

    algorithm = algorithm_from_spec(read_manifest(manifests()[model]))
    return write_dicom_results(folder, volume, results, algorithm, style, send)


class DicomResults:
    """Export and read-back of DICOM AI results for ``ctl`` (an AiController).

    Attributes: ``export_action`` (QAction in the AI menu), ``overlays`` (PM / SEG objects of
    the study found last), ``shown`` (the OverlayRef on screen, or None), ``send`` (callable
    storing written files, e.g. to a PACS; None: files only), ``last_written`` (paths).
    """

    def __init__(self, ctl: AiController) -> None:
        self.ctl = ctl
        self.overlays: tuple[OverlayRef, ...] = ()
        self.shown: OverlayRef | None = None
        self._stack: np.ndarray | None = None
        self._series = ""
        self.send: Callable[[Sequence[Path]], None] | None = None
        self.last_written: list[Path] = []
        self.export_action = QAction("Export AI results as &DICOM…", ctl.window)
        self.export_action.triggered.connect(lambda _=False: self.export())
        #: set by the composition root when a PACS module exists: () -> send function or None
        self.pacs_sender: Callable[[], Callable[[Sequence[Path]], None] | None] | None = None
        self.send_action = QAction("Send AI results to &PACS…", ctl.window)
        self.send_action.triggered.connect(lambda _=False: self.send_to_pacs())
        self.send_action.setEnabled(False)
        ctl.ai_menu.addSeparator()
        ctl.ai_menu.addActions([self.export_action, self.send_action])
        st = ctl.state
        st.series_found.connect(self._on_state_series_found)
        st.volume_opened.connect(self._on_state_volume_opened)
        st.volume_closed.connect(self._on_state_volume_closed)

    # -- export --------------------------------------------------------------------------------
    def choose_folder(self) -> str:
        """The folder the reader picks ("" when cancelled)."""
        return QFileDialog.getExistingDirectory(self.ctl.window, "Export AI results as DICOM")

    def results(self) -> list[Any]:
        """Final maps of the series on screen (chosen model and target, each method) with their
        predictions, one SliceResult per map, by slice."""
        from viewer.modules.ai.dicom_export import SliceResult  # no highdicom needed

        ctl = self.ctl
        vol, ai = ctl.state.volume, ctl.ai
        if vol is None or not ai.model:
            return []
        out = []
        for method in METHODS:
            for k, r in ctl.cache.slices((vol.series_uid, ai.model, method, ai.target)):
                if r.final:
                    out.append(SliceResult(k, r.prediction, r.explanation))
        return sorted(out, key=lambda s: s.index)

    def set_pacs_sender(self, sender: Callable[[], Callable[[Sequence[Path]], None] | None]
                        ) -> None:
        """Offer "Send AI results to PACS…" through ``sender`` (the PACS module's)."""
        self.pacs_sender = sender
        self.send_action.setEnabled(True)

    def send_to_pacs(self) -> int | None:
        """Write the results of the series on screen into the data folder and store them (with
        nothing else) on the PACS the reader chose, in the background."""
        if self.pacs_sender is None:
            return None
        send = self.pacs_sender()
        if send is None:
            return None
        import datetime as dt

        from viewer.core.sample_study import data_dir

        when = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return self.export(str(data_dir() / "ai-results" / when), send=send)

    def export(self, folder: str | None = None,
               send: Callable[[Sequence[Path]], None] | None = None) -> int | None:
        """Write the results of the series on screen into ``folder`` (asked when None) in the
        background; returns the job's request id, None when there is nothing to write."""
        ctl = self.ctl
        vol, results = ctl.state.volume, self.results()
        if vol is None or not results:
            ctl.ai.set_status("No maps of this series to export: run the model on some slices "
                              "first (Ctrl+Return).")
            return None
        folder = folder or self.choose_folder()
        if not folder:
            return None
        model, style = ctl.ai.model, ctl.ai.style()
        send = send or self.send

        def job(ctx: Any) -> list[Path]:
            return _write(folder, vol, results, model, style, send)

        return ctl.runner.submit("dicom-export", job, label="Writing DICOM results",
                                 on_result=self._on_exported,
                                 on_error=lambda e: ctl.report_failure("DICOM export failed", e))

    def _on_exported(self, paths: list[Path]) -> None:
        self.last_written = list(paths)
        folder = str(Path(paths[0]).parent) if paths else ""
        self.ctl.ai.set_status(f"Wrote {len(paths)} DICOM result files to {folder}")
        self.ctl.state.add_messages(Message("info", f"{len(paths)} DICOM result files written",
                                            tuple(str(p) for p in paths), "ai"))

    # -- read back -----------------------------------------------------------------------------
    def heat(self, k: int) -> np.ndarray | None:
        """The read-back overlay's ``(y, x)`` slice ``k`` of the series on screen, or None."""
        stack, vol = self._stack, self.ctl.state.volume
        if stack is None or vol is None or vol.series_uid != self._series or not 0 <= k < len(stack):
            return None
        frame = stack[k]
        return None if np.isnan(frame).all() else frame

    def _on_state_series_found(self, result: DiscoveryResult) -> None:
        self.overlays, self._stack, self.shown = (), None, None
        self.ctl.runner.submit("dicom-overlays", lambda ctx: find_overlays(result),
                               label="Looking for DICOM maps", on_result=self._on_overlays_found,
                               on_error=self._on_error)

    def _on_overlays_found(self, refs: tuple[OverlayRef, ...]) -> None:
        self.overlays = refs
        if refs:
            names = tuple(f"{r.kind}: {r.description or r.label} ({Path(r.path).name})" for r in refs)
            self.ctl.state.add_messages(Message("info", f"{len(refs)} DICOM map overlay"
                                                f"{'s' if len(refs) > 1 else ''} found", names, "ai"))
        vol = self.ctl.state.volume
        if vol is not None:
            self._on_state_volume_opened(vol)

    def _matching(self, volume: Volume) -> list[OverlayRef]:
        uid = volume.series_uid
        return [r for r in self.overlays
                if any(uid == s or uid.startswith(s + ".") for s in r.referenced_series)]

    def _on_state_volume_opened(self, volume: Volume) -> None:
        self._stack, self.shown = None, None
        refs = self._matching(volume)
        if not refs:
            return
        ref = refs[0]
        positions = np.array([volume.index_to_patient(k, 0, 0) for k in range(volume.n_slices)])

        def job(ctx: Any) -> tuple[OverlayRef, np.ndarray]:
            frames = read_overlay(ref)
            return ref, overlay_stack(frames, volume.shape, slice_refs(volume.slice_files), positions)

        self.ctl.runner.submit("dicom-overlay", job, label=f"Reading {ref.kind}",
                               on_result=lambda r: self._on_overlay_read(volume.series_uid, *r),
                               on_error=self._on_error)

    def _on_overlay_read(self, series_uid: str, ref: OverlayRef, stack: np.ndarray) -> None:
        vol = self.ctl.state.volume
        if vol is None or vol.series_uid != series_uid:
            return  # another series was opened meanwhile
        self._series, self._stack, self.shown = series_uid, stack, ref
        self.ctl.ai.set_status(f"Showing the {ref.kind} “{ref.description or ref.label}” "
                               "from the study folder")
        self.ctl.overlay.refresh()

    def _on_state_volume_closed(self) -> None:
        self._stack, self.shown = None, None

    def _on_error(self, error: JobError) -> None:
        self.ctl.state.add_messages(Message("warning", "A DICOM map could not be shown",
                                            (error.message or str(error),), "ai"))

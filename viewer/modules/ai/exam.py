"""StudyJobs: the AI module's whole-study jobs - contrast labels for every MR series of a study
(shown as notes in the series browser) and the knee exam (sagittal / coronal / axial MR series
fused by the knee model).

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code); the jobs come from
:mod:`viewer.modules.ai.service` and run in the window's JobRunner.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from viewer.io.records import DiscoveryResult
from viewer.modules.ai import service as svc
from viewer.modules.ai.state import ContrastLabel, KneeResult

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController


class StudyJobs:
    """Contrast labels and knee exams of the studies ``ctl`` (an AiController) opens."""

    def __init__(self, ctl: AiController) -> None:
        self.ctl = ctl
        self._pending: DiscoveryResult | None = None

    def series_found(self, result: DiscoveryResult) -> None:
        """A study was found: label its MR series and run the knee model on a knee study
        (kept until the model cards have been read)."""
        from viewer.modules.ai.study import is_knee_study

        ai = self.ctl.ai
        ai.set_knee(None)
        if not ai.models:
            self._pending = result
            return
        self.start_contrast_labels(result)
        if is_knee_study(result.series):
            knee = next((c.name for c in ai.models.values() if c.level == "exam"), None)
            if knee:
                ai.set_model(knee)
                self.run_knee(result)

    def take_pending(self) -> DiscoveryResult | None:
        """The study found before the model cards were read (once), or None."""
        pending, self._pending = self._pending, None
        return pending

    def run_knee(self, discovery: DiscoveryResult | None = None) -> int | None:
        """Run the knee exam model on the study's sagittal / coronal / axial MR series."""
        from viewer.modules.ai.study import KNEE_PLANES, knee_planes

        ctl = self.ctl
        discovery = discovery or ctl.state.discovery
        card = ctl.ai.card
        if discovery is None or card is None:
            return None
        planes = knee_planes(discovery.series)
        if not planes:
            ctl.ai.set_status("This study has no sagittal, coronal or axial MR series.")
            return None
        missing = [p for p in KNEE_PLANES if p not in planes]
        note = f" Missing: {', '.join(missing)} - the fusion uses the planes present." if missing else ""
        ctl.ai.set_status(f"Knee exam: {', '.join(planes)} found.{note} Running {card.name}…")
        rid = ctl.runner.submit("knee", svc.knee_job(ctl.pool, planes, card.name, ctl.ai.target),
                                label=f"{card.name}: knee exam", on_result=self._on_knee_result,
                                on_error=lambda e: ctl.report_failure("Knee exam failed", e))
        ctl.ai.latest["knee"] = rid
        return rid

    def start_contrast_labels(self, result: DiscoveryResult) -> None:
        """Label the contrast of every MR series of ``result`` in the background."""
        ctl = self.ctl
        mr = [s for s in result.series if s.modality.upper() == "MR"]
        card = next((c for c in ctl.ai.models.values() if c.task == "contrast"), None)
        if not mr or card is None:
            return
        ctl.runner.submit("contrast", svc.contrast_job(ctl.pool, mr, card.name),
                          label="Contrast labels", on_progress=self._on_contrast_label,
                          on_error=lambda e: ctl.ai.set_status(f"Contrast labels: {e.message}"))

    def _on_knee_result(self, knee: KneeResult) -> None:
        ai = self.ctl.ai
        if knee.request_id != ai.latest.get("knee"):
            return
        ai.set_knee(knee)
        missing = f"; missing: {', '.join(knee.missing)}" if knee.missing else ""
        pred = knee.prediction
        if pred.applicable:
            ai.set_status(f"Knee exam: {pred.predicted}{missing}.")
        else:
            ai.set_status(f"Knee exam: no valid call{missing}. {pred.applicability.summary}.")
        self.ctl.device.describe()

    def _on_contrast_label(self, label: ContrastLabel) -> None:
        if not label.applicable:
            tip = (f"Contrast model ({label.slices_used} central slices): no label. Outside this "
                   f"model's domain: {'; '.join(label.reasons)}.")
            self.ctl.window.series_browser.set_note(label.series_uid, label.text(), False, tip,
                                                    source="contrast")
            return
        tip = (f"Contrast model ({label.slices_used} central slices): {label.label}, "
               f"{label.confidence:.0%}. Demo weights, not for clinical use.")
        if label.disagrees:
            tip += f"\nThe series description names {label.header_label}."
        self.ctl.window.series_browser.set_note(label.series_uid, label.text(), label.disagrees,
                                                tip, source="contrast")

"""AiController: connects the viewer (ViewerState, MainWindow widgets) with the classifier jobs.

Composition-root code (beside ``viewer.app``): it builds the inference module dock and, through
its parts, the probability-profile dock (:mod:`viewer.modules.ai.sweep`), the linked comparison view
(:mod:`viewer.modules.ai.compare`), the actions and AI menu (:mod:`viewer.modules.ai.actions`), the
explanation requests (:mod:`viewer.modules.ai.maps`), the overlays and plane-view map volume
(:mod:`viewer.modules.ai.overlay`),
contrast labels and knee exams (:mod:`viewer.modules.ai.exam`) and the device choice
(:mod:`viewer.modules.ai.device`). It submits the jobs of :mod:`viewer.modules.ai.service` to the window's
JobRunner and puts only current results on screen (stale ones - wrong series, slice, model,
target or request - are dropped by AiState). Final maps go into a memory-bounded LRU cache, so
scrolling back shows them at once, and into a :class:`MapVolume` that the workspace's plane views
reformat with the image (and export as NIfTI).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget

from viewer.core.exports import MapScore, SliceProbability
from viewer.core.map_cache import MapCache
from viewer.io.records import DiscoveryResult, Volume
from viewer.modules.ai import service as svc
from viewer.modules.ai.actions import AiActions
from viewer.modules.ai.batch_review import BatchResultsReview
from viewer.modules.ai.device import DeviceChoice
from viewer.modules.ai.dicom_results import DicomResults
from viewer.modules.ai.exam import StudyJobs
from viewer.modules.ai.fit import body_part_hint, choose_model, unfit_reasons
from viewer.modules.ai.maps import FOLLOW_DELAY_MS, MapRequests
from viewer.modules.ai.overlay import MapOverlay
from viewer.modules.ai.panel import InferencePanel
from viewer.modules.ai.state import METHOD_NAMES, AiState, KneeResult, ModelCard, SweepResult
from viewer.modules.ai.sweep import PROFILE_INTERVAL_MS, SeriesSweep
from viewer.state.jobs import JobError
from viewer.state.viewer_state import Message, ProbeInfo
from viewer.ui.dialogs import show_error
from viewer.ui.main_window import MainWindow
from viewer.ui.views.slice_view import SliceView

__all__ = ["AiController", "FOLLOW_DELAY_MS", "KEYS", "PREFERRED_MODELS", "PROFILE_INTERVAL_MS"]

KEYS = ("explain", "sweep", "contrast", "knee")
PREFERRED_MODELS = ("tumour", "ct-lesion", "contrast")


class AiController(QObject):
    """Owns the AI widgets of ``window`` (a MainWindow) and the jobs behind them.

    Attributes: ``ai`` (AiState), ``panel`` (InferencePanel), ``profile`` (ProfilePlot),
    ``compare_view`` (SliceView for "both", made on first use), ``cache`` (MapCache),
    ``pool`` (ModelPool), ``map_volume`` (MapVolume shown in the plane views), ``actions`` (list
    of QAction with their shortcuts). Parts: ``series_sweep`` (SeriesSweep), ``explain`` (MapRequests),
    ``overlay`` (MapOverlay), ``exam`` (StudyJobs), ``device`` (DeviceChoice).
    """

    # (z, y, x) normalised map volume or None, OverlayStyle, overlay visible: for the plane views
    map_volume_changed = Signal(object, object, bool)
    #: the sweep's slice marks of the main series: (flagged slices, slices outside the model's
    #: domain, why they are muted), so that other views of the series mark them too
    slice_marks_changed = Signal(object, object, str)

    def __init__(self, window: MainWindow, ai: AiState | None = None, pool: svc.ModelPool | None = None,
                 cache: MapCache | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.runner = window.runner
        self.settings = window.settings.q
        self.ai = ai or AiState(self)
        self._suspended: list = []
        self.cache = cache or MapCache()
        self.pool = pool or svc.ModelPool(str(self.settings.value("ai/device", "auto")))
        self._restore_options()
        self._build()
        self._connect()
        self.runner.submit("ai-models", svc.model_cards_job(), label="Reading model manifests",
                           on_result=self._on_models_listed,
                           on_error=lambda e: self.report_failure("Models unavailable", e))

    # -- construction ------------------------------------------------------------------------
    def _restore_options(self) -> None:
        s, ai = self.settings, self.ai
        try:
            ai.set_opacity(float(s.value("ai/opacity", ai.opacity)))
            ai.set_colormap(str(s.value("ai/colormap", ai.colormap)))
            ai.set_method(str(s.value("ai/method", ai.method)))
        except (TypeError, ValueError):
            pass  # a hand-edited settings file keeps the defaults

    def _build(self) -> None:
        w = self.window
        self.panel = InferencePanel(self.ai)
        self.panel_dock = QDockWidget("AI: classify and explain", w)
        self.panel_dock.setObjectName("inference")
        self.panel_dock.setWidget(self.panel)
        w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.panel_dock)
        w.tabifyDockWidget(w.modules_dock, self.panel_dock)
        w.modules_dock.raise_()
        w.resizeDocks([w.modules_dock], [340], Qt.Orientation.Horizontal)
        self.series_sweep = SeriesSweep(self)
        self.profile = self.series_sweep.profile
        self.profile_dock = self.series_sweep.dock
        self.panel.set_device(str(self.settings.value("ai/device", "auto")),
                              "shown when a model first runs")
        self.device = DeviceChoice(self)
        self.overlay = MapOverlay(self)
        self.map_volume = self.overlay.map_volume
        self.explain = MapRequests(self)
        self.exam = StudyJobs(self)
        acts = AiActions(self, self.panel_dock, self.profile_dock)
        self.act_run_slice, self.act_run_series, self.act_cancel = (acts.run_slice,
                                                                    acts.run_series, acts.cancel)
        self.act_toggle, self.act_more, self.act_less = acts.toggle, acts.more, acts.less
        self.act_show_anyway = acts.show_anyway
        self.act_next_flag, self.act_prev_flag = acts.next_flag, acts.prev_flag
        self.act_panel, self.act_profile = acts.panel, acts.profile
        self.shortcut_actions = acts.shortcuts
        self.ai_menu = acts.menu
        self.dicom = DicomResults(self)
        self.batch_review = BatchResultsReview(self)

    def _connect(self) -> None:
        st, ai = self.state, self.ai
        st.volume_opened.connect(self._on_state_volume_opened)
        st.volume_loaded.connect(self._on_state_volume_loaded)
        st.volume_closed.connect(self._on_state_volume_closed)
        st.slice_changed.connect(self._on_state_slice_changed)
        st.series_found.connect(self._on_state_series_found)
        st.probe_moved.connect(self._on_state_probe_moved)
        ai.options_changed.connect(self._on_ai_options_changed)
        ai.model_changed.connect(self._on_ai_model_changed)
        ai.maps_changed.connect(self.overlay.refresh)
        ai.shown_anyway_changed.connect(lambda _on: self.overlay.sync_map_volume(rebuild=True))
        self.panel.show_anyway_requested.connect(ai.toggle_shown_anyway)
        ai.knee_changed.connect(self._on_ai_knee_changed)
        self.panel.run_slice_requested.connect(self.run_slice)
        self.panel.run_series_requested.connect(self.run_series)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.device_chosen.connect(self.set_device)
        for sig in (self.runner.started, self.runner.finished, self.runner.failed,
                    self.runner.cancelled):
            sig.connect(self._on_runner_changed)
        self.runner.progressed.connect(self._on_runner_progressed)

    # -- parts' state, kept under their former names ----------------------------------------------
    @property
    def compare_view(self) -> SliceView | None:
        """The linked occlusion view (method "both"), None until first shown."""
        return self.overlay.compare.view

    @property
    def compare_dock(self) -> QDockWidget | None:
        """The dock of :attr:`compare_view`, None until first shown."""
        return self.overlay.compare.dock

    # -- module protocol (viewer.ui.module.Module) ---------------------------------------------
    name = "ai"
    title = "AI"

    def actions(self) -> list:
        return list(self.shortcut_actions)

    def menu(self):
        return self.ai_menu

    def shutdown(self) -> None:
        """Stop following the slice and cancel every classifier job (quit does not wait for
        the batch in flight)."""
        self.ai.follow = False
        self.explain.follow_timer.stop()
        for key in KEYS:
            self.runner.cancel(key)

    def suspend(self) -> None:
        """Quiet the free-running AI (a quiz or presenter needs the screen): jobs cancelled,
        results cleared, actions disabled until :meth:`resume`."""
        self.shutdown()
        self.ai.clear_results()
        self._suspended = [a for a in self.shortcut_actions if a.isEnabled()]
        for a in self._suspended:
            a.setEnabled(False)

    def resume(self) -> None:
        """Undo :meth:`suspend`."""
        for a in self._suspended:
            a.setEnabled(True)
        self._suspended = []

    # -- public API --------------------------------------------------------------------------
    def run_slice(self) -> None:
        """Classify and explain the slice on screen (knee model: the whole exam); the maps then
        follow the slice as the reader scrolls."""
        card = self.ai.card
        if card is None:
            self.ai.set_status("No model chosen (models are still being read, or none installed).")
            return
        if card.level == "exam":
            self.run_knee()
            return
        self.ai.follow = True
        self.show_panel()
        self.explain.ensure(immediate=True)

    def run_series(self) -> int | None:
        """Per-slice probabilities of the whole series in the background (profile plot)."""
        return self.series_sweep.run()

    def run_knee(self, discovery: DiscoveryResult | None = None) -> int | None:
        """Run the knee exam model on the study's sagittal / coronal / axial MR series."""
        return self.exam.run_knee(discovery)

    def show_panel(self) -> None:
        """Bring the AI module to the front of the left panel."""
        self.panel_dock.show()
        self.panel_dock.raise_()

    def show_profile(self) -> None:
        """Show the probability profile under the view (about 170 px high the first time)."""
        self.series_sweep.show()

    def cancel(self) -> None:
        """Stop every classifier job; the maps already shown stay."""
        self.ai.follow = False
        self.explain.follow_timer.stop()
        for key in KEYS:
            self.runner.cancel(key)
        self.ai.set_status("Cancelled.")

    def set_device(self, choice: str) -> None:
        """Run models on ``choice`` ("auto", "cpu", "cuda", "mps"), remembered in the settings."""
        self.device.set(choice)

    def jump_flagged(self, direction: int) -> None:
        """Go to the next (+1) / previous (-1) slice the sweep flagged."""
        self.series_sweep.jump_flagged(direction)

    def slice_probabilities(self) -> list[SliceProbability | MapScore]:
        """What the findings report carries of the AI on the series on screen: every
        probability of its series sweep, slice by slice in class order, each with whether the
        slice lay inside the model's domain and why not; then the scores of every final map
        of the series in the map cache (deletion AUC, "x times better than random"). Empty
        when no sweep was run and no map made."""
        vol = self.state.volume
        if vol is None:
            return []
        out: list[SliceProbability | MapScore] = []
        sweep = self.ai.sweep
        if sweep is not None and sweep.series_uid == vol.series_uid:
            ok = sweep.applicable_mask()
            for k in range(sweep.probs.shape[0]):
                for c, name in enumerate(sweep.classes):
                    p = float(sweep.probs[k, c])
                    if np.isfinite(p):
                        out.append(SliceProbability(k, sweep.model, name, p, bool(ok[k]),
                                                    sweep.slice_reasons(k)))
        out += self.overlay.map_scores(vol.series_uid)
        return out

    def caption(self) -> str:
        """What the map on screen shows, for PNG captions: "tumour (demo weights) · Grad-CAM
        for “tumour” · p 0.97"; empty when no map is shown."""
        ai = self.ai
        shown = [r for m, r in ai.maps.items() if r is not None and not ai.map_hidden(r.prediction)]
        if not shown or not ai.overlay_visible:
            return ""
        first = shown[0]
        card = ai.card
        model = first.tag.model + (" (demo weights)" if card is not None and card.demo else "")
        methods = " + ".join(METHOD_NAMES.get(r.tag.method, r.tag.method) for r in shown)
        if not first.applicable:   # shown anyway: never a confident call
            return (f"{model} · {methods} for “{first.target}” · OUTSIDE THIS MODEL'S DOMAIN "
                    f"(shown anyway)")
        p = first.prediction.probabilities.get(first.target)
        prob = f" · p {p:.2f}" if p is not None else ""
        return f"{model} · {methods} for “{first.target}”{prob}"

    def map_value(self, j: int, i: int) -> float | None:
        """The displayed map's value at row ``j``, column ``i`` of the current slice."""
        return self.overlay.map_value(j, i)

    def report_failure(self, title: str, error: JobError) -> None:
        """A job failed: stop following, say so in the panel, the messages and a dialog."""
        self.ai.follow = False
        self.ai.set_status(f"{title}: {error.message or error}")
        self.state.add_messages(Message("error", title, (str(error),), "ai"))
        self.window.last_error = show_error(self.window, title, error.message or str(error),
                                            "The viewer keeps working; choose another model or "
                                            "series, or check the model files.")

    # -- job results (GUI thread) ----------------------------------------------------------------
    def _on_models_listed(self, listing: tuple[list[ModelCard], list[Any]]) -> None:
        cards, broken = listing
        if broken:
            self.state.add_messages(Message(
                "warning", f"{len(broken)} model{'s' if len(broken) > 1 else ''} cannot be used",
                tuple(f"{b.name}: {b.error} ({b.source})" for b in broken), "ai"))
        self.ai.set_models(cards)
        saved = str(self.settings.value("ai/model", ""))
        names = [c.name for c in cards]
        choice = saved if saved in names else next((n for n in PREFERRED_MODELS if n in names),
                                                   names[0] if names else "")
        if choice:
            self.ai.set_model(choice)
        if self.state.volume is not None:
            self.fit_model(self.state.volume)
        pending = self.exam.take_pending()
        if pending is not None:
            self._on_state_series_found(pending)
        if self.state.discovery is not None:
            self.exam.start_contrast_labels(self.state.discovery)

    # -- state reactions -------------------------------------------------------------------------
    def _on_state_series_found(self, result: DiscoveryResult) -> None:
        self.explain.clear_truth()
        self.exam.series_found(result)

    def fit_model(self, volume: Volume) -> None:
        """Mark in the picker the models that do not fit ``volume`` (modality, body part,
        plane) and, when the chosen model does not fit, choose one that does (the remembered
        model first, then the preferred ones). No dialog: a model that does not fit stays
        choosable, and its calls come back out of domain with their reasons."""
        ai = self.ai
        if not ai.models:
            return
        part = body_part_hint(volume.description, volume.study_description)
        unfit = {c.name: unfit_reasons(c, volume.modality, volume.orientation, part)
                 for c in ai.models.values()}
        self.panel.set_unfit(unfit)
        saved = str(self.settings.value("ai/model", ""))
        preferred = tuple(dict.fromkeys((saved, *PREFERRED_MODELS)))
        choice = choose_model(ai.models.values(), volume.modality, volume.orientation, part,
                              ai.model, preferred)
        if choice and choice != ai.model:
            before = ai.model
            ai.set_model(choice)
            why = "; ".join(unfit.get(before, ())) or "it does not fit this series"
            ai.set_status(f"Model {choice} chosen for this series ({before}: {why}).")

    def _on_state_volume_opened(self, volume: Volume) -> None:
        self.runner.cancel("explain")
        self.explain.follow_timer.stop()
        self.ai.set_series(volume.series_uid)
        self.fit_model(volume)
        self.ai.clear_results()
        sweep = self.ai.sweep
        if sweep is not None and sweep.series_uid != volume.series_uid:
            self.runner.cancel("sweep")
            self.ai.set_sweep(None)
        knee = self.ai.knee
        if knee is not None and volume.series_uid in knee.maps:
            self.ai.set_prediction(knee.prediction)
        self.series_sweep.refresh()
        self.explain.ensure()
        self.overlay.refresh()
        self.overlay.sync_map_volume()

    def _on_state_volume_loaded(self, volume: Volume) -> None:
        self.explain.ensure()

    def _on_state_volume_closed(self) -> None:
        self.ai.set_series("")
        self.panel.set_unfit({})
        for key in ("explain", "sweep"):
            self.runner.cancel(key)
        self.ai.clear_results()
        self.ai.set_sweep(None)
        self.overlay.sync_map_volume()

    def _on_state_slice_changed(self, k: int) -> None:
        self.ai.clear_maps()
        if self.ai.knee is None or self.state.volume is None or \
                self.state.volume.series_uid not in self.ai.knee.maps:
            self.ai.set_prediction(None)
        if self.ai.follow:
            self.runner.cancel("explain")
        self.explain.ensure()
        self.overlay.refresh()
        self.profile.set_current(k)

    def _on_state_probe_moved(self, probe: ProbeInfo | None) -> None:
        if probe is None:
            return
        value = self.map_value(probe.j, probe.i)
        if value is not None:
            self.window.probe_label.setText(f"{probe.text()}   map {value:.3g}")

    def _on_ai_options_changed(self) -> None:
        ai, s = self.ai, self.settings
        s.setValue("ai/opacity", ai.opacity)
        s.setValue("ai/colormap", ai.colormap)
        s.setValue("ai/method", ai.method)
        self.overlay.compare.show(ai.method == "both")
        self.explain.ensure()
        self.overlay.refresh()
        self.series_sweep.refresh()
        self.overlay.sync_map_volume()

    def _on_ai_model_changed(self, name: str) -> None:
        self.settings.setValue("ai/model", name)
        for key in ("explain", "sweep"):
            self.runner.cancel(key)
        self.series_sweep.refresh()

    def _on_ai_knee_changed(self, knee: KneeResult | None) -> None:
        self.overlay.refresh()

    def _on_runner_changed(self, key: str, *_args) -> None:
        if key not in KEYS:
            return
        sweep = self.ai.sweep
        if self.runner.is_running("sweep") and sweep is not None and not sweep.complete:
            # a count from the start, also while the model is still loading (was indeterminate)
            self.panel.set_busy(True, sweep.done, sweep.total)
        else:
            self.panel.set_busy(any(self.runner.is_running(k) for k in KEYS))

    def _on_runner_progressed(self, key: str, rid: int, value: Any) -> None:
        if key == "sweep" and isinstance(value, SweepResult):
            self.panel.set_busy(True, value.done, value.total)
        elif key == "knee" and isinstance(value, tuple) and len(value) == 2:
            self.panel.set_busy(True, *value)

"""AiController: connects the viewer (ViewerState, MainWindow widgets) with the classifier jobs.

Composition-root code (beside ``viewer.app``): it builds the inference module dock, the
probability-profile dock and the linked comparison view, submits the jobs of
:mod:`viewer.ai_service` to the window's JobRunner, and puts only current results on screen
(stale ones - wrong series, slice, model, target or request - are dropped by AiState). Final maps
go into a memory-bounded LRU cache, so scrolling back shows them at once, and into a
:class:`MapVolume` that the workspace's plane views reformat with the image (and export as NIfTI).
"""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

from viewer import ai_service as svc
from viewer.ai_state import (METHOD_NAMES, AiState, ContrastLabel, KneeResult, MapResult,
                             ModelCard, SweepResult, overlay_levels)
from viewer.io.volume import DiscoveryResult, Volume
from viewer.jobs import JobError
from viewer.map_cache import MapCache, MapVolume, VolumeKey
from viewer.state import Message, ProbeInfo
from viewer.ui.dialogs import show_error
from viewer.ui.inference_panel import InferencePanel
from viewer.ui.profile_plot import ProfilePlot
from viewer.ui.slice_view import SliceView

KEYS = ("explain", "sweep", "contrast", "knee")
FOLLOW_DELAY_MS = 60
PROFILE_INTERVAL_MS = 100  # a growing sweep redraws the profile at most this often
PREFERRED_MODELS = ("tumour", "ct-lesion", "contrast")


class AiController(QObject):
    """Owns the AI widgets of ``window`` (a MainWindow) and the jobs behind them.

    Attributes: ``ai`` (AiState), ``panel`` (InferencePanel), ``profile`` (ProfilePlot),
    ``compare_view`` (SliceView for "both", made on first use), ``cache`` (MapCache),
    ``pool`` (ModelPool), ``map_volume`` (MapVolume shown in the plane views), ``actions`` (list
    of QAction with their shortcuts).
    """

    def __init__(self, window: Any, ai: AiState | None = None, pool: svc.ModelPool | None = None,
                 cache: MapCache | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.runner = window.runner
        self.settings = window.settings.q
        self.ai = ai or AiState(self)
        self.cache = cache or MapCache()
        self.map_volume = MapVolume()
        self.pool = pool or svc.ModelPool(str(self.settings.value("ai/device", "auto")))
        self.compare_view: SliceView | None = None
        self.compare_dock: QDockWidget | None = None
        self._truth: dict[str, np.ndarray | None] = {}
        self._truth_lock = threading.Lock()
        self._pending_knee: DiscoveryResult | None = None
        self._device_described = False
        self._restore_options()
        self._build()
        self._connect()
        self.runner.submit("ai-models", svc.model_cards_job(), label="Reading model manifests",
                           on_result=self._on_models_listed,
                           on_error=lambda e: self._on_ai_failed("Models unavailable", e))

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
        self.profile = ProfilePlot()
        self.profile_dock = QDockWidget("Probability profile", w)
        self.profile_dock.setObjectName("profile")
        self.profile_dock.setWidget(self.profile)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.profile_dock)
        self.profile_dock.hide()
        self._profile_sized = False
        self.panel.set_device(str(self.settings.value("ai/device", "auto")),
                              "shown when a model first runs")
        self._follow_timer = QTimer(self)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(FOLLOW_DELAY_MS)
        self._profile_timer = QTimer(self)
        self._profile_timer.setSingleShot(True)
        self._profile_drawn = -1e9  # self._clock() of the last profile redraw, seconds
        self._clock = time.monotonic
        self.act_run_slice = self._act("Run model on this slice", ["Ctrl+Return"], self.run_slice)
        self.act_run_series = self._act("Run model on series", ["Ctrl+Shift+Return"],
                                        self.run_series)
        self.act_cancel = self._act("Cancel classifier jobs", ["Ctrl+."], self.cancel)
        self.act_toggle = self._act("Toggle overlay", ["O"], self.ai.toggle_overlay)
        # [ and ] belong to cine speed; their shifted keys step the overlay opacity
        self.act_more = self._act("Overlay opacity +10 %", ["}", "Shift+]"],
                                  lambda: self.ai.step_opacity(0.1))
        self.act_less = self._act("Overlay opacity −10 %", ["{", "Shift+["],
                                  lambda: self.ai.step_opacity(-0.1))
        self.act_next_flag = self._act("Next flagged slice", ["N"], lambda: self.jump_flagged(1))
        self.act_prev_flag = self._act("Previous flagged slice", ["Shift+N"],
                                       lambda: self.jump_flagged(-1))
        self.act_panel = self.panel_dock.toggleViewAction()
        self.act_panel.setText("&AI panel")
        self.act_panel.setShortcut(QKeySequence("Ctrl+4"))
        self.act_profile = self.profile_dock.toggleViewAction()
        self.act_profile.setText("Probability &profile")
        self.actions = [self.act_run_slice, self.act_run_series, self.act_cancel, self.act_toggle,
                        self.act_more, self.act_less, self.act_next_flag, self.act_prev_flag,
                        self.act_panel]
        menu = w.menuBar().addMenu("&AI")
        menu.addActions(self.actions[:3])
        menu.addSeparator()
        menu.addActions(self.actions[3:8])
        menu.addSeparator()
        menu.addActions([self.act_panel, self.act_profile])
        w.extra_actions = list(getattr(w, "extra_actions", [])) + self.actions

    def _act(self, text: str, keys: list[str], slot) -> QAction:
        act = QAction(text, self.window)
        act.setShortcuts([QKeySequence(k) for k in keys])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        self.window.addAction(act)
        return act

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
        ai.maps_changed.connect(self._refresh_overlay)
        ai.sweep_changed.connect(self._on_ai_sweep_changed)
        ai.flag_threshold_changed.connect(self._refresh_profile)
        ai.knee_changed.connect(self._on_ai_knee_changed)
        self.panel.run_slice_requested.connect(self.run_slice)
        self.panel.run_series_requested.connect(self.run_series)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.device_chosen.connect(self.set_device)
        self.profile.slice_clicked.connect(self.state.set_slice)
        self._follow_timer.timeout.connect(self._on_follow_timer_timeout)
        self._profile_timer.timeout.connect(self._refresh_profile)
        for sig in (self.runner.started, self.runner.finished, self.runner.failed,
                    self.runner.cancelled):
            sig.connect(self._on_runner_changed)
        self.runner.progressed.connect(self._on_runner_progressed)

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
        self._ensure_maps(immediate=True)

    def run_series(self) -> int | None:
        """Per-slice probabilities of the whole series in the background (profile plot)."""
        vol, card = self.state.volume, self.ai.card
        if vol is None or card is None:
            return None
        if card.level != "slice":
            self.ai.set_status(f"The {card.name} model reads whole exams: use Run on exam.")
            return None
        if self.state.is_loading:
            self.ai.set_status("The series is still loading; run the sweep when it has loaded.")
            return None
        self.show_panel()
        self.show_profile()
        self.ai.set_sweep(SweepResult(vol.series_uid, card.name, card.classes,
                                      np.full((vol.n_slices, len(card.classes)), np.nan, np.float32),
                                      0, vol.n_slices))
        rid = self.runner.submit("sweep", svc.sweep_job(self.pool, vol, card.name),
                                 label=f"{card.name}: series sweep",
                                 on_progress=self._on_sweep_result, on_result=self._on_sweep_result,
                                 on_error=lambda e: self._on_ai_failed("Series sweep failed", e))
        self.ai.latest["sweep"] = rid
        self.ai.set_status(f"Sweeping {vol.n_slices} slices with {card.name}…")
        return rid

    def run_knee(self, discovery: DiscoveryResult | None = None) -> int | None:
        """Run the knee exam model on the study's sagittal / coronal / axial MR series."""
        from viewer.study_ai import KNEE_PLANES, knee_planes

        discovery = discovery or self.state.discovery
        card = self.ai.card
        if discovery is None or card is None:
            return None
        planes = knee_planes(discovery.series)
        if not planes:
            self.ai.set_status("This study has no sagittal, coronal or axial MR series.")
            return None
        missing = [p for p in KNEE_PLANES if p not in planes]
        note = f" Missing: {', '.join(missing)} - the fusion uses the planes present." if missing else ""
        self.ai.set_status(f"Knee exam: {', '.join(planes)} found.{note} Running {card.name}…")
        rid = self.runner.submit("knee", svc.knee_job(self.pool, planes, card.name, self.ai.target),
                                 label=f"{card.name}: knee exam", on_result=self._on_knee_result,
                                 on_error=lambda e: self._on_ai_failed("Knee exam failed", e))
        self.ai.latest["knee"] = rid
        return rid

    def show_panel(self) -> None:
        """Bring the AI module to the front of the left panel."""
        self.panel_dock.show()
        self.panel_dock.raise_()

    def show_profile(self) -> None:
        """Show the probability profile under the view (about 170 px high the first time)."""
        self.profile_dock.show()
        if not self._profile_sized:
            self._profile_sized = True
            self.window.resizeDocks([self.profile_dock], [170], Qt.Orientation.Vertical)

    def cancel(self) -> None:
        """Stop every classifier job; the maps already shown stay."""
        self.ai.follow = False
        self._follow_timer.stop()
        for key in KEYS:
            self.runner.cancel(key)
        self.ai.set_status("Cancelled.")

    def set_device(self, choice: str) -> None:
        """Run models on ``choice`` ("auto", "cpu", "cuda", "mps"), remembered in the settings."""
        self.settings.setValue("ai/device", choice)
        self.pool.set_device(choice)
        self.cache.clear()
        self._device_described = False
        self._describe_device()

    def jump_flagged(self, direction: int) -> None:
        """Go to the next (+1) / previous (-1) slice the sweep flagged."""
        k = self.ai.next_flagged(self.state.slice_index, direction)
        if k is None:
            self.ai.set_status("No flagged slices (run the model on the series first).")
            return
        self.state.set_slice(k)

    def map_value(self, j: int, i: int) -> float | None:
        """The displayed map's value at row ``j``, column ``i`` of the current slice."""
        heat = self._main_heat()
        if heat is None or not (0 <= j < heat.shape[0] and 0 <= i < heat.shape[1]):
            return None
        return float(heat[j, i])

    # -- explanation requests ---------------------------------------------------------------------
    def _key(self, method: str) -> tuple[str, int, str, str, str] | None:
        vol = self.state.volume
        if vol is None or not self.ai.model:
            return None
        return (vol.series_uid, self.state.slice_index, self.ai.model, method, self.ai.target)

    def _ensure_maps(self, immediate: bool = False) -> None:
        """Show cached maps of the current slice; request the missing ones (when following)."""
        ai, vol = self.ai, self.state.volume
        card = ai.card
        if vol is None or card is None or card.level != "slice":
            return
        missing = []
        for method in ai.needed_methods():
            key = self._key(method)
            hit = self.cache.get(key) if key else None
            if hit is not None:
                ai.put_map(hit)
            elif method not in ai.maps or not ai.maps[method].final:
                missing.append(method)
        if not missing or not ai.follow:
            if not missing:
                self.runner.cancel("explain")
            return
        if not self.state.is_slice_loaded(self.state.slice_index):
            return  # asked again when the volume has loaded
        if immediate:
            self._submit_explain(tuple(missing))
        else:
            self._follow_timer.start()

    def _on_follow_timer_timeout(self) -> None:
        self._ensure_maps(immediate=True)

    def _submit_explain(self, methods: tuple[str, ...]) -> int:
        vol, k, ai = self.state.volume, self.state.slice_index, self.ai
        truth = self._truth_provider(vol)
        job = svc.explain_job(self.pool, vol, k, ai.model, methods, ai.target, truth)
        names = " + ".join(METHOD_NAMES[m] for m in methods)
        rid = self.runner.submit("explain", job, label=f"{ai.model}: {names}, slice {k + 1}",
                                 on_progress=self._on_map_result,
                                 on_result=lambda finals: self._on_explain_finished(finals),
                                 on_error=lambda e: self._on_ai_failed("Explanation failed", e))
        ai.latest["explain"] = rid
        ai.set_status(f"{names} of slice {k + 1} with {ai.model}…")
        return rid

    def _truth_provider(self, vol: Volume):
        def truth() -> np.ndarray | None:
            from viewer.study_ai import sample_truth

            with self._truth_lock:
                if vol.series_uid not in self._truth:
                    self._truth[vol.series_uid] = sample_truth(vol)
                return self._truth[vol.series_uid]
        return truth

    # -- job results (GUI thread) ----------------------------------------------------------------
    def _on_map_result(self, result: MapResult) -> None:
        if result.final:
            self.cache.put(result)
            self._add_to_map_volume(result)
        vol = self.state.volume
        if self.ai.is_current(result.tag, "explain", vol.series_uid if vol else None,
                              self.state.slice_index):
            self.ai.put_map(result)

    def _on_explain_finished(self, finals: tuple[MapResult, ...]) -> None:
        if finals:
            r = finals[-1]
            self.ai.set_status(f"Slice {r.tag.slice_index + 1}: {r.prediction.predicted} "
                               f"({r.seconds:.1f} s)")
        self._describe_device()

    def _on_sweep_result(self, sweep: SweepResult) -> None:
        vol = self.state.volume
        if (sweep.request_id != self.ai.latest.get("sweep") or vol is None
                or sweep.series_uid != vol.series_uid or sweep.model != self.ai.model):
            return
        self.ai.set_sweep(sweep)
        if sweep.complete:
            n = len(self.ai.flagged_slices())
            self.ai.set_status(f"Series sweep done: {n} slice{'s' if n != 1 else ''} flagged "
                               f"(P ≥ {self.ai.flag_threshold:.2f}); N / Shift+N jump to them.")
            self._describe_device()

    def _on_knee_result(self, knee: KneeResult) -> None:
        if knee.request_id != self.ai.latest.get("knee"):
            return
        self.ai.set_knee(knee)
        missing = f"; missing: {', '.join(knee.missing)}" if knee.missing else ""
        self.ai.set_status(f"Knee exam: {knee.prediction.predicted}{missing}.")
        self._describe_device()

    def _on_contrast_label(self, label: ContrastLabel) -> None:
        tip = (f"Contrast model ({label.slices_used} central slices): {label.label}, "
               f"{label.confidence:.0%}. Demo weights, not for clinical use.")
        if label.disagrees:
            tip += f"\nThe series description names {label.header_label}."
        self.window.series_browser.set_note(label.series_uid, label.text(), label.disagrees, tip)

    def _on_models_listed(self, cards: list[ModelCard]) -> None:
        self.ai.set_models(cards)
        saved = str(self.settings.value("ai/model", ""))
        names = [c.name for c in cards]
        choice = saved if saved in names else next((n for n in PREFERRED_MODELS if n in names),
                                                   names[0] if names else "")
        if choice:
            self.ai.set_model(choice)
        if self._pending_knee is not None:
            pending, self._pending_knee = self._pending_knee, None
            self._on_state_series_found(pending)
        if self.state.discovery is not None:
            self._start_contrast_labels(self.state.discovery)

    def _on_ai_failed(self, title: str, error: JobError) -> None:
        self.ai.follow = False
        self.ai.set_status(f"{title}: {error.message or error}")
        self.state.add_messages(Message("error", title, (str(error),), "ai"))
        self.window.last_error = show_error(self.window, title, error.message or str(error),
                                            "The viewer keeps working; choose another model or "
                                            "series, or check the model files.")

    def _describe_device(self) -> None:
        """Show the device in use; asked once per device choice (after the first model run, when
        the device has been set up), not after every job."""
        if self._device_described:
            return
        self._device_described = True
        choice = self.pool.device
        self.runner.submit("ai-device", svc.describe_device_job(choice), label="Checking device",
                           on_result=lambda text: self.panel.set_device(choice, text),
                           on_error=lambda e: self.panel.set_device(choice, f"unavailable: {e.message}"))

    # -- state reactions -------------------------------------------------------------------------
    def _on_state_series_found(self, result: DiscoveryResult) -> None:
        from viewer.study_ai import is_knee_study

        self._truth.clear()
        self.ai.set_knee(None)
        if not self.ai.models:
            self._pending_knee = result
            return
        self._start_contrast_labels(result)
        if is_knee_study(result.series):
            knee = next((c.name for c in self.ai.models.values() if c.level == "exam"), None)
            if knee:
                self.ai.set_model(knee)
                self.run_knee(result)

    def _start_contrast_labels(self, result: DiscoveryResult) -> None:
        mr = [s for s in result.series if s.modality.upper() == "MR"]
        card = next((c for c in self.ai.models.values() if c.task == "contrast"), None)
        if not mr or card is None:
            return
        self.runner.submit("contrast", svc.contrast_job(self.pool, mr, card.name),
                           label="Contrast labels", on_progress=self._on_contrast_label,
                           on_error=lambda e: self.ai.set_status(f"Contrast labels: {e.message}"))

    def _on_state_volume_opened(self, volume: Volume) -> None:
        self.runner.cancel("explain")
        self._follow_timer.stop()
        self.ai.clear_results()
        sweep = self.ai.sweep
        if sweep is not None and sweep.series_uid != volume.series_uid:
            self.runner.cancel("sweep")
            self.ai.set_sweep(None)
        knee = self.ai.knee
        if knee is not None and volume.series_uid in knee.maps:
            self.ai.set_prediction(knee.prediction)
        self._refresh_profile()
        self._ensure_maps()
        self._refresh_overlay()
        self._sync_map_volume()

    def _on_state_volume_loaded(self, volume: Volume) -> None:
        self._ensure_maps()

    def _on_state_volume_closed(self) -> None:
        for key in ("explain", "sweep"):
            self.runner.cancel(key)
        self.ai.clear_results()
        self.ai.set_sweep(None)
        self._sync_map_volume()

    def _on_state_slice_changed(self, k: int) -> None:
        self.ai.clear_maps()
        if self.ai.knee is None or self.state.volume is None or \
                self.state.volume.series_uid not in self.ai.knee.maps:
            self.ai.set_prediction(None)
        if self.ai.follow:
            self.runner.cancel("explain")
        self._ensure_maps()
        self._refresh_overlay()
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
        self._show_compare(ai.method == "both")
        self._ensure_maps()
        self._refresh_overlay()
        self._refresh_profile()
        self._sync_map_volume()

    def _on_ai_model_changed(self, name: str) -> None:
        self.settings.setValue("ai/model", name)
        for key in ("explain", "sweep"):
            self.runner.cancel(key)
        self._refresh_profile()

    def _on_ai_knee_changed(self, knee: KneeResult | None) -> None:
        self._refresh_overlay()

    def _on_runner_changed(self, key: str, *_args) -> None:
        if key in KEYS:
            self.panel.set_busy(any(self.runner.is_running(k) for k in KEYS))

    def _on_runner_progressed(self, key: str, rid: int, value: Any) -> None:
        if key == "sweep" and isinstance(value, SweepResult):
            self.panel.set_busy(True, value.done, value.total)
        elif key == "knee" and isinstance(value, tuple) and len(value) == 2:
            self.panel.set_busy(True, *value)

    # -- drawing ---------------------------------------------------------------------------------
    def _main_heat(self) -> np.ndarray | None:
        ai, vol = self.ai, self.state.volume
        if vol is None:
            return None
        first = ai.maps.get("gradcam" if ai.method in ("gradcam", "both") else "occlusion")
        if first is not None:
            return first.heat
        knee = ai.knee
        if knee is not None and vol.series_uid in knee.maps:
            stack = knee.maps[vol.series_uid]
            k = self.state.slice_index
            if 0 <= k < stack.shape[0] and stack.shape[1:] == vol.shape[1:]:
                return stack[k]
        return None

    def _apply(self, view: SliceView, heat: np.ndarray | None) -> None:
        ai = self.ai
        if heat is None or not ai.overlay_visible:
            view.set_overlay(None)
            return
        cut, low, high = overlay_levels(heat, ai.threshold)
        if not np.isfinite(cut):
            view.set_overlay(None)  # an all-zero map has nothing to show
            return
        view.set_overlay(heat, ai.colormap, ai.opacity, cut, (low, high))

    # -- maps of the whole series in the plane views ----------------------------------------------
    def _volume_key(self) -> VolumeKey | None:
        """(series, model, method, target) of the maps the plane views show, None when none."""
        ai, vol, card = self.ai, self.state.volume, self.ai.card
        if vol is None or card is None or card.level != "slice":
            return None
        method = "gradcam" if ai.method in ("gradcam", "both") else "occlusion"
        return (vol.series_uid, ai.model, method, ai.target)

    def _sync_map_volume(self) -> None:
        """Reassemble the map volume from the cache when series, model, method or target changed
        (dropping the old one), then show it with the current display options."""
        key = self._volume_key()
        shape = self.state.volume.shape if key is not None else None
        if key != self.map_volume.key or shape != self.map_volume.shape:
            self.map_volume.reset(key, shape)
            if key is not None:
                for k, result in self.cache.slices(key):
                    self.map_volume.put(k, result.heat)
        self._push_map_volume()

    def _add_to_map_volume(self, result: MapResult) -> None:
        t = result.tag
        key = self._volume_key()
        if key is None or (t.series_uid, t.model, t.method, t.target) != key:
            return
        if key != self.map_volume.key:
            self._sync_map_volume()  # the result is in the cache already
        elif self.map_volume.put(t.slice_index, result.heat):
            self._push_map_volume()
        elif self.map_volume.too_large:
            self.ai.set_status("This series is too large to show the maps in the plane views; "
                               "the slice view (layout 1) shows them.")

    def _push_map_volume(self) -> None:
        workspace = getattr(self.window, "workspace", None)
        if workspace is None:
            return
        ai = self.ai
        workspace.set_overlay_volume(self.map_volume.volume, visible=ai.overlay_visible,
                                     colormap=ai.colormap, opacity=ai.opacity,
                                     threshold=ai.threshold, levels=(ai.threshold, 1.0))

    def _refresh_overlay(self) -> None:
        self._apply(self.window.slice_view, self._main_heat())
        if self.compare_view is not None and self.ai.method == "both":
            occ = self.ai.maps.get("occlusion")
            self._apply(self.compare_view, occ.heat if occ is not None else None)

    def _on_ai_sweep_changed(self, sweep: SweepResult | None) -> None:
        """Redraw the profile: at once when the sweep starts, ends or is dropped, otherwise at
        most every PROFILE_INTERVAL_MS while it grows (coalescing the chunks in between)."""
        wait_ms = PROFILE_INTERVAL_MS - (self._clock() - self._profile_drawn) * 1000.0
        if sweep is None or sweep.complete or sweep.done == 0 or wait_ms <= 0:
            self._refresh_profile()
        elif not self._profile_timer.isActive():
            self._profile_timer.start(max(1, int(wait_ms)))

    def _refresh_profile(self, *_args) -> None:
        self._profile_timer.stop()
        self._profile_drawn = self._clock()
        sweep, ai = self.ai.sweep, self.ai
        slider = self.window.slice_view.slider
        if sweep is None:
            self.profile.set_profile(None)
            slider.set_marks(())
            return
        show = ai.profile_class()
        self.profile.set_profile(sweep.probs, sweep.classes, show)
        self.profile.set_threshold(ai.flag_threshold)
        self.profile.set_current(self.state.slice_index)
        flagged = ai.flagged_slices()
        values = (sweep.probs[flagged, sweep.classes.index(show)] if show is not None
                  else np.zeros(0))
        self.profile.set_flags(flagged, values)
        slider.set_marks(flagged.tolist())

    def _show_compare(self, on: bool) -> None:
        if on and self.compare_view is None:
            self._make_compare_view()
        if self.compare_dock is not None:
            self.compare_dock.setVisible(on)

    def _link(self, src: SliceView, dst: SliceView) -> None:
        """Give ``dst`` the centre and mm-per-screen-pixel of ``src`` (same zoom and pan even
        when the two views differ in size)."""
        if self._linking or dst is None:
            return
        rect, size = src.view_box.viewRect(), src.view_box.size()
        dsize = dst.view_box.size()
        if size.width() <= 0 or dsize.width() <= 0 or dsize.height() <= 0:
            return
        scale = rect.width() / size.width()
        w, h = dsize.width() * scale, dsize.height() * scale
        c = rect.center()
        self._linking = True
        try:
            dst.view_box.setRange(xRange=(c.x() - w / 2, c.x() + w / 2),
                                  yRange=(c.y() - h / 2, c.y() + h / 2), padding=0)
            dst._fitted = src._fitted
        finally:
            self._linking = False

    def _make_compare_view(self) -> None:
        """A second SliceView on the same state (slice, window) with zoom and pan linked."""
        main = self.window.slice_view
        view = SliceView(self.state)
        view.controls.hide()
        for act in view.zoom_actions + view.preset_actions:
            view.removeAction(act)  # the main view owns the window-wide keys
        self._linking = False
        main.view_box.sigRangeChanged.connect(lambda *_: self._link(main, view))
        view.view_box.sigRangeChanged.connect(lambda *_: self._link(view, main))
        vol = self.state.volume
        if vol is not None:
            view._on_state_volume_opened(vol)
            main.fit()
        self.compare_view = view
        dock = QDockWidget("Occlusion (linked view)", self.window)
        dock.setObjectName("compare")
        dock.setWidget(view)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.window.resizeDocks([dock], [max(300, main.width() // 2)], Qt.Orientation.Horizontal)
        self.compare_dock = dock
        self._link(main, view)

"""MapRequests: the AI module's explanation requests for the slice on screen.

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code): cached maps of the
current slice go on screen at once; missing ones are requested from
:func:`viewer.modules.ai.service.explain_job` (after a short delay while the reader scrolls, so the
latest slice wins). Final maps go into the LRU cache and the plane views' map volume.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QTimer

from viewer.io.records import Volume
from viewer.modules.ai import service as svc
from viewer.modules.ai.state import METHOD_NAMES, MapResult
from viewer.modules.ai.study import sample_truth

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController

FOLLOW_DELAY_MS = 60


class MapRequests:
    """Requests Grad-CAM / occlusion maps of the current slice for ``ctl`` (an AiController).

    Attribute: ``follow_timer`` (single-shot QTimer, FOLLOW_DELAY_MS, that asks for the maps of
    the slice the reader stopped on).
    """

    def __init__(self, ctl: AiController) -> None:
        self.ctl = ctl
        self._truth: dict[str, np.ndarray | None] = {}
        self._truth_lock = threading.Lock()
        self.follow_timer = QTimer(ctl)
        self.follow_timer.setSingleShot(True)
        self.follow_timer.setInterval(FOLLOW_DELAY_MS)
        self.follow_timer.timeout.connect(self._on_follow_timer_timeout)

    def clear_truth(self) -> None:
        """Forget the phantom ground-truth masks (a new study was found)."""
        self._truth.clear()

    def _key(self, method: str) -> tuple[str, int, str, str, str] | None:
        state, ai = self.ctl.state, self.ctl.ai
        vol = state.volume
        if vol is None or not ai.model:
            return None
        return (vol.series_uid, state.slice_index, ai.model, method, ai.target)

    def ensure(self, immediate: bool = False) -> None:
        """Show cached maps of the current slice; request the missing ones (when following)."""
        ctl = self.ctl
        ai, state, vol = ctl.ai, ctl.state, ctl.state.volume
        card = ai.card
        if vol is None or card is None or card.level != "slice":
            return
        missing = []
        hits = []
        for method in ai.needed_methods():
            key = self._key(method)
            hit = ctl.cache.get(key) if key else None
            if hit is not None:
                ai.put_map(hit)
                hits.append(hit)
                if not hit.scored:          # its score job was cancelled: ask again
                    missing.append(method)
            elif method not in ai.maps or not ai.maps[method].final:
                missing.append(method)
        if not missing or not ai.follow:
            if not missing:
                ctl.runner.cancel("explain")
                if hits:   # the status line speaks of the slice on screen, never of the last job
                    ai.set_status(done_text(hits[-1], cached=True))
            return
        if not state.is_slice_loaded(state.slice_index):
            return  # asked again when the volume has loaded
        if immediate:
            self._submit(tuple(missing))
        else:
            self.follow_timer.start()

    def _on_follow_timer_timeout(self) -> None:
        self.ensure(immediate=True)

    def _submit(self, methods: tuple[str, ...]) -> int:
        ctl = self.ctl
        vol, k, ai = ctl.state.volume, ctl.state.slice_index, ctl.ai
        truth = self._truth_provider(vol)
        job = svc.explain_job(ctl.pool, vol, k, ai.model, methods, ai.target, truth)
        names = " + ".join(METHOD_NAMES[m] for m in methods)
        rid = ctl.runner.submit("explain", job, label=f"{ai.model}: {names}, slice {k + 1}",
                                on_progress=self._on_map_result,
                                on_result=lambda finals: self._on_explain_finished(finals),
                                on_error=lambda e: ctl.report_failure("Explanation failed", e))
        ai.latest["explain"] = rid
        ai.set_status(f"{names} of slice {k + 1} with {ai.model}…")
        return rid

    def _truth_provider(self, vol: Volume):
        def truth() -> np.ndarray | None:
            with self._truth_lock:
                if vol.series_uid not in self._truth:
                    self._truth[vol.series_uid] = sample_truth(vol)
                return self._truth[vol.series_uid]
        return truth

    # -- job results (GUI thread) ----------------------------------------------------------------
    def _on_map_result(self, result: MapResult) -> None:
        ctl = self.ctl
        if result.final:
            ctl.cache.put(result)
            ctl.overlay.add_to_map_volume(result)
        vol = ctl.state.volume
        if ctl.ai.is_current(result.tag, "explain", vol.series_uid if vol else None,
                             ctl.state.slice_index):
            ctl.ai.put_map(result)

    def _on_explain_finished(self, finals: tuple[MapResult, ...]) -> None:
        state = self.ctl.state
        vol = state.volume
        if (finals and vol is not None and finals[-1].tag.series_uid == vol.series_uid
                and finals[-1].tag.slice_index == state.slice_index):
            self.ctl.ai.set_status(done_text(finals[-1]))
        self.ctl.device.describe()


def done_text(result: MapResult, cached: bool = False) -> str:
    """The status line for a slice's finished maps: its call, or that it lies outside the
    model's domain (never a bare class name for an out-of-domain call)."""
    call = result.prediction.predicted if result.applicable else "outside the model's domain"
    when = "from the cache" if cached else f"{result.seconds:.1f} s"
    return f"Slice {result.tag.slice_index + 1}: {call} ({when})"

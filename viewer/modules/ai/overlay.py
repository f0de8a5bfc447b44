"""MapOverlay: puts the AI module's heat maps on screen - over the slice view (and the linked
occlusion view when both methods are shown), and as a :class:`MapVolume` that the workspace's
plane views reformat with the image.

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code). Maps are float32
``(y, x)`` in slice pixel geometry; the map volume is ``(z, y, x)`` in the series' geometry.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.core.body import body_mask, fraction_outside
from viewer.core.exports import MapScore
from viewer.core.map_cache import MapVolume, VolumeKey
from viewer.core.overlay import display_range
from viewer.modules.ai.compare import CompareView
from viewer.modules.ai.state import MAP_METHODS, MapResult
from viewer.ui.views.slice_view import SliceView

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController


def _caption(method: str, heat: np.ndarray | None, threshold: float,
             reference: float | None = None) -> str:
    """"Grad-CAM  0.0058 – 0.029": the method a view shows and the map values its colours
    span (each of two side-by-side views names its own)."""
    span = display_range(heat, threshold, reference) if heat is not None else None
    return f"{method}  {span[0]:.2g} – {span[1]:.2g}" if span else f"{method}  (no map)"


class MapOverlay:
    """Draws the maps of ``ctl`` (an AiController) with its display options.

    Attributes: ``map_volume`` (MapVolume shown in the plane views), ``compare``
    (CompareView: the linked occlusion view, made on first use).
    """

    def __init__(self, ctl: AiController) -> None:
        self.ctl = ctl
        self.map_volume = MapVolume()
        self.compare = CompareView(ctl.window, ctl.state)
        # With target "predicted class", each slice's map explains that slice's own call; the
        # plane views show only maps of one class (that of the latest map of the current slice),
        # so a band of "no tumour" evidence is never drawn as if it were tumour evidence.
        self.shown_class: str | None = None
        self._body_key: tuple[str, int] | None = None
        self._body_mask: np.ndarray | None = None

    # -- the slice view ------------------------------------------------------------------------
    def main_heat(self) -> np.ndarray | None:
        """The map shown over the slice view: ``(y, x)`` of the current slice, or None."""
        ai, state = self.ctl.ai, self.ctl.state
        vol = state.volume
        if vol is None:
            return None
        first = ai.maps.get(ai.main_method())
        if first is not None:
            return None if ai.map_hidden(first.prediction) else first.heat
        knee = ai.knee
        if knee is not None and vol.series_uid in knee.maps:
            if ai.map_hidden(knee.prediction):
                return None
            stack = knee.maps[vol.series_uid]
            k = state.slice_index
            if 0 <= k < stack.shape[0] and stack.shape[1:] == vol.shape[1:]:
                return stack[k]
        return self.ctl.dicom.heat(state.slice_index)  # a PM / SEG read back from the study

    def main_reference(self) -> float | None:
        """The reference of the slice view's map (``MapResult.reference``; None for exam and
        read-back maps, which are scaled to their own maximum)."""
        first = self.ctl.ai.maps.get(self.ctl.ai.main_method())
        return first.reference if first is not None else None

    def map_value(self, j: int, i: int) -> float | None:
        """The displayed map's value at row ``j``, column ``i`` of the current slice."""
        heat = self.main_heat()
        if heat is None or not (0 <= j < heat.shape[0] and 0 <= i < heat.shape[1]):
            return None
        return float(heat[j, i])

    def _body(self) -> np.ndarray | None:
        """The body mask of the slice on screen (cached per series and slice)."""
        st = self.ctl.state
        vol = st.volume
        if vol is None or not st.is_slice_loaded(st.slice_index):
            return None
        key = (vol.series_uid, st.slice_index)
        if self._body_key != key:
            image = vol.voxels[st.slice_index]
            step = max(1, min(image.shape[:2]) // 128)   # coarse is enough for a share in %
            self._body_key, self._body_mask = key, body_mask(image, vol.modality, step)
        return self._body_mask

    def _apply(self, view: SliceView, heat: np.ndarray | None,
               reference: float | None = None) -> None:
        ai = self.ctl.ai
        if heat is None or not ai.overlay_visible:
            view.set_overlay(None)
            return
        body = self._body() if ai.limit_to_body else None
        if body is not None and body.shape == heat.shape:
            heat = np.where(body, heat, 0.0).astype(np.float32)  # display only
        view.set_overlay(heat, ai.style(), reference)

    def refresh(self, *_args) -> None:
        """Redraw the overlay of the slice view (and of the linked occlusion view)."""
        ai = self.ctl.ai
        main = self.ctl.window.slice_view
        heat, reference = self.main_heat(), self.main_reference()
        self._apply(main, heat, reference)
        span = display_range(heat, ai.threshold, reference) if heat is not None else None
        drawn = span is not None and float(np.nanmax(heat)) >= span[0]   # anything on screen
        body = self._body() if drawn and ai.overlay_visible else None
        ai.set_outside_body(fraction_outside(heat, body) if body is not None else None)
        both = self.compare.view is not None and ai.method == "both"
        main.set_caption(_caption("Grad-CAM", heat, ai.threshold, reference) if both else "")
        if both:
            occ = ai.maps.get("occlusion")
            shown = occ is not None and not ai.map_hidden(occ.prediction)
            occ_heat, occ_ref = (occ.heat, occ.reference) if shown else (None, None)
            self._apply(self.compare.view, occ_heat, occ_ref)
            self.compare.view.set_caption(_caption("Occlusion", occ_heat, ai.threshold, occ_ref))
        self._follow_current_class()

    def _follow_current_class(self) -> None:
        """With target "predicted class", switch the plane views to the class explained on the
        current slice whenever its map (new or from the cache) explains another class."""
        key = self._volume_key()
        if key is None or key[3] or key != self.map_volume.key:
            return
        current = self.ctl.ai.maps.get(key[2])
        if current is not None and current.final and current.target != self.shown_class:
            self.shown_class = current.target
            self.sync_map_volume(rebuild=True)

    # -- maps of the whole series in the plane views ----------------------------------------------
    def _volume_key(self) -> VolumeKey | None:
        """(series, model, method, target) of the maps the plane views show, None when none."""
        ai, vol, card = self.ctl.ai, self.ctl.state.volume, self.ctl.ai.card
        if vol is None or card is None or card.level != "slice":
            return None
        return (vol.series_uid, ai.model, ai.main_method(), ai.target)

    def _shows(self, result: MapResult) -> bool:
        """Whether ``result`` belongs in the plane views under the class rule above; maps of
        out-of-domain slices only once the reader chose "Show anyway"."""
        if self.ctl.ai.map_hidden(result.prediction):
            return False
        return self.shown_class is None or result.target == self.shown_class

    def sync_map_volume(self, rebuild: bool = False) -> None:
        """Reassemble the map volume from the cache when series, model, method or target changed
        (dropping the old one) or ``rebuild`` is set, then show it with the current display
        options."""
        key = self._volume_key()
        shape = self.ctl.state.volume.shape if key is not None else None
        if rebuild or key != self.map_volume.key or shape != self.map_volume.shape:
            if key != self.map_volume.key:
                self.shown_class = (key[3] or None) if key is not None else None
            self.map_volume.reset(key, shape)
            if key is not None:
                for k, result in self.ctl.cache.slices(key):
                    if self._shows(result):
                        self.map_volume.put(k, result.heat, result.reference)
        self._push_map_volume()

    def add_to_map_volume(self, result: MapResult) -> None:
        """Put a final map (already in the cache) into the map volume when it belongs there."""
        t = result.tag
        key = self._volume_key()
        if key is None or (t.series_uid, t.model, t.method, t.target) != key:
            return
        if key != self.map_volume.key:
            self.sync_map_volume()  # the result is in the cache already
        if t.slice_index == self.ctl.state.slice_index and result.target != self.shown_class:
            self.shown_class = result.target
            self.sync_map_volume(rebuild=True)
        elif not self._shows(result):
            return
        elif self.map_volume.put(t.slice_index, result.heat, result.reference):
            self._push_map_volume()
        elif self.map_volume.too_large:
            self.ctl.ai.set_status("This series is too large to show the maps in the plane "
                                   "views; the slice view (layout 1) shows them.")

    def map_scores(self, series_uid: str) -> list[MapScore]:
        """The scores of every cached final map of ``series_uid`` by the chosen model for the
        chosen target, by method then slice (for the findings report)."""
        ai = self.ctl.ai
        out: list[MapScore] = []
        for method in MAP_METHODS:
            for k, r in sorted(self.ctl.cache.slices((series_uid, ai.model, method, ai.target)),
                               key=lambda kr: kr[0]):
                s = r.scores
                rnd = s.random_deletion_aucs if s is not None else ()
                reasons = r.prediction.applicability.reasons if r.prediction.applicability else ()
                out.append(MapScore(
                    k, r.tag.model, method, r.target,
                    s.deletion_auc if s is not None else None,
                    float(sum(rnd) / len(rnd)) if rnd else None,
                    s.vs_random if s is not None else None,
                    s.better_than_random if s is not None else None,
                    s.random_note if s is not None else "", r.applicable, tuple(reasons)))
        return out

    def _push_map_volume(self) -> None:
        ai = self.ctl.ai
        self.ctl.map_volume_changed.emit(self.map_volume.volume, ai.style(), ai.overlay_visible)

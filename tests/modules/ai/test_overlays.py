"""Overlays: alignment on non-square pixels, display options and keys, progressive occlusion,
both methods in linked views, the map cache, stale results, probe value, pointing game."""
from __future__ import annotations

import numpy as np
import pytest

from tests.modules.ai.support import ai_window, brain_volume, show_maps_anyway, wait_maps

pytestmark = pytest.mark.gui


def _tag(**kw):
    from viewer.modules.ai.state import ResultTag

    base = dict(series_uid="s", slice_index=2, model="m", method="gradcam", target="", request_id=5)
    base.update(kw)
    return ResultTag(**base)


def test_ai_state_drops_stale_results():
    from viewer.modules.ai.state import AiState

    ai = AiState()
    ai.model, ai.latest["explain"] = "m", 5
    assert ai.is_current(_tag(), "explain", "s", 2)
    for stale in (_tag(series_uid="other"), _tag(slice_index=3), _tag(model="x"),
                  _tag(target="tumour"), _tag(request_id=4), _tag(method="occlusion")):
        assert not ai.is_current(stale, "explain", "s", 2)
    ai.set_method("both")
    assert ai.is_current(_tag(method="occlusion"), "explain", "s", 2)


def test_map_cache_is_lru_within_its_memory_bound():
    from inference.results import Explanation, Prediction
    from viewer.core.map_cache import MapCache, cache_key
    from viewer.modules.ai.state import MapResult

    pred = Prediction("m", {"a": 1.0}, "a")
    one = np.zeros((64, 64), np.float32)  # 16 KiB
    cache = MapCache(budget=3 * one.nbytes)
    results = [MapResult(_tag(slice_index=k), Explanation(one.copy(), "gradcam", "a", "m", pred))
               for k in range(4)]
    for r in results[:3]:
        cache.put(r)
    assert cache.get(cache_key(results[0])) is results[0]  # 0 is now most recent
    cache.put(results[3])
    assert len(cache) == 3 and cache.nbytes <= cache.budget
    assert cache_key(results[1]) not in cache and cache_key(results[0]) in cache
    cache.put(MapResult(_tag(slice_index=9), Explanation(one, "gradcam", "a", "m", pred, final=False)))
    assert len(cache) == 3  # coarse maps are not cached


def test_overlay_aligns_with_non_square_pixels_and_follows_zoom(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=4, size=96, spacing=(5.0, 1.5, 0.6)))
    show_maps_anyway(ctl)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    view = win.slice_view
    assert view.overlay_visible()
    img = view.image.mapRectToParent(view.image.boundingRect())
    ovl = view.overlay.mapRectToParent(view.overlay.boundingRect())
    assert (ovl.x(), ovl.y(), ovl.width(), ovl.height()) == pytest.approx(
        (img.x(), img.y(), img.width(), img.height()))
    assert img.width() == pytest.approx(96 * 0.6) and img.height() == pytest.approx(96 * 1.5)
    view.zoom_by(2.0)
    assert view.overlay.mapRectToParent(view.overlay.boundingRect()) == \
        view.image.mapRectToParent(view.image.boundingRect())


def test_display_options_keys_and_probe(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai, view = ctl.ai, win.slice_view
    ai.set_model("tumour")
    win.show_volume(brain_volume(n=4, size=96))
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    ai.set_opacity(0.5)
    ctl.act_more.trigger()
    shown_alpha = view.overlay_layer.rgba[..., 3]
    assert ai.opacity == pytest.approx(0.6) and shown_alpha.max() == round(0.6 * 255)
    assert ctl.panel.controls.opacity_slider.value() == 60
    ctl.act_less.trigger()
    ctl.act_less.trigger()
    assert ai.opacity == pytest.approx(0.4)
    ctl.act_toggle.trigger()
    assert not view.overlay_visible()
    ctl.act_toggle.trigger()
    assert view.overlay_visible()
    for name in ("jet", "hot", "turbo", "inferno"):
        ctl.panel.controls.colormap_box.setCurrentText(name)
        assert ai.colormap == name and view.overlay_layer.style.colormap == name
    heat = ai.maps["gradcam"].heat
    ai.set_threshold(0.5)
    alpha = view.overlay_layer.rgba[..., 3]
    top = max(float(heat.max()), ai.maps["gradcam"].reference or 0.0)  # faint maps stay faint
    below = heat < 0.5 * top
    assert np.all(alpha[below] == 0) and np.all(alpha[~below] > 0)  # transparent below threshold
    j, i = np.unravel_index(int(np.argmax(heat)), heat.shape)
    win.state.set_probe(win.state.probe_at(int(j), int(i)))
    assert f"map {heat[j, i]:.3g}" in win.probe_label.text()
    assert ctl.map_value(int(j), int(i)) == pytest.approx(float(heat[j, i]))


def test_occlusion_arrives_coarse_then_refined(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    ai.set_target("")   # Predicted class
    ai.set_method("occlusion")
    win.show_volume(brain_volume(n=4, size=96))
    win.state.set_slice(1)   # the tumour: blurring a healthy slice takes no evidence away to score
    seen = []
    ai.maps_changed.connect(lambda: seen.append(
        (ai.maps["occlusion"].final, ai.maps["occlusion"].pass_index) if "occlusion" in ai.maps else None))
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    shown = [s for s in seen if s is not None]
    assert shown[0] == (False, 0) and shown[-1][0] is True and shown[-1][1] > 0
    assert "deletion score" in ctl.panel.controls.scores_label.text()


def test_both_methods_in_linked_views_and_cache_on_scroll_back(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    ai.set_method("both")
    win.show_volume(brain_volume(n=4, size=96))
    win.state.set_slice(1)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    cv = ctl.compare_view
    assert cv is not None and ctl.compare_dock.isVisibleTo(win)
    assert cv.overlay_visible() and win.slice_view.overlay_visible()
    np.testing.assert_array_equal(cv.image.image, win.slice_view.image.image)
    win.slice_view.zoom_by(1.5)
    a, b = cv.view_box.viewRect().center(), win.slice_view.view_box.viewRect().center()
    assert (a.x(), a.y()) == pytest.approx((b.x(), b.y()))
    assert cv.mm_per_pixel() == pytest.approx(win.slice_view.mm_per_pixel(), rel=0.02)
    # the same slice lies at the same screen height in both views (they were 18 px apart)
    from PySide6.QtCore import QPoint

    top = [v.canvas.mapToGlobal(QPoint(0, 0)).y() for v in (cv, win.slice_view)]
    assert top[0] == top[1] and cv.canvas.height() == win.slice_view.canvas.height()
    # each view names the map it shows and the values its colours span
    assert win.slice_view.caption.startswith("Grad-CAM") and cv.caption.startswith("Occlusion")
    first = {m: r.heat for m, r in ai.maps.items()}
    win.state.set_slice(2)
    wait_maps(qtbot, ctl)
    assert all(r.tag.slice_index == 2 for r in ai.maps.values())
    win.state.set_slice(1)  # back: from the cache, no job needed
    assert set(ai.maps) == {"gradcam", "occlusion"}
    for m, heat in first.items():
        np.testing.assert_array_equal(ai.maps[m].heat, heat)
    assert not win.runner.is_running("explain")
    ai.set_method("gradcam")
    assert not ctl.compare_dock.isVisibleTo(win)
    assert win.slice_view.caption == ""                  # one view: the panel's bar says it


def test_pointing_game_on_the_sample_phantom(qtbot, monkeypatch, tmp_path):
    """The sample study's brain MR, loaded from its DICOM files, gets the pointing game from the
    mask kept beside the series; its scores come with the map."""
    monkeypatch.setenv("SLICEWISE_DATA_DIR", str(tmp_path))
    from viewer.core.sample_study import BRAIN_SERIES_UID, ensure_sample_study
    from viewer.io import discover, load_series

    root = ensure_sample_study()
    info = next(s for s in discover([root]).series if s.uid == BRAIN_SERIES_UID)
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(load_series(info))
    win.state.set_slice(9)  # the tumour's largest cross-section in the sample phantom
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    pg = ctl.ai.maps["gradcam"].pointing
    assert pg is not None and pg.tolerance_px == pytest.approx(15 * 256 / 224)
    assert ctl.ai.maps["gradcam"].explanation.scores.energy_in_mask is not None
    assert "pointing game" in ctl.panel.controls.scores_label.text()
    win.state.set_slice(20)  # no lesion there
    wait_maps(qtbot, ctl)
    assert ctl.ai.maps["gradcam"].pointing is None
    assert "no lesion on this slice" in ctl.ai.maps["gradcam"].truth_note


def test_status_line_speaks_of_the_slice_on_screen_after_fast_scrolling(qtbot, monkeypatch):
    """Seen under X: "Grad-CAM of slice 20" stayed in the status line while slice 19 was shown
    with its own cached maps (a job for the next slice had started, then the reader came back)."""
    from PySide6.QtCore import Qt

    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    ai.set_method("gradcam")
    win.show_volume(brain_volume(n=4, size=96))
    win.state.set_slice(1)
    ctl.run_slice()                                    # follows the reader from now on
    wait_maps(qtbot, ctl)
    qtbot.waitUntil(lambda: ai.status.startswith("Slice 2: "), timeout=10000)   # the job's end
    qtbot.keyClick(win.slice_view, Qt.Key.Key_Down)    # slice 3: its job starts
    qtbot.waitUntil(lambda: win.runner.is_running("explain"), timeout=5000)
    qtbot.keyClick(win.slice_view, Qt.Key.Key_Up)      # back to slice 2 before it ends
    assert win.state.slice_index == 1
    assert ai.status.startswith("Slice 2: ") and ai.status.endswith("(from the cache)"), ai.status
    qtbot.wait(1500)                                   # whatever the cancelled job still says
    assert ai.status.startswith("Slice 2: "), ai.status

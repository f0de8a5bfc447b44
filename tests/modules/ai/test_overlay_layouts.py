"""Heat maps in the three-plane layouts and the crosshair in the single view: the per-slice maps
of the AI module reformat with the image (the native plane shows the current slice's map, the
other planes a row or column of every slice with a map), follow new maps, are dropped with the
series, export as NIfTI; layout "1" draws the linked crosshair without taking mouse clicks."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.core.test_reformat import DIRECTIONS, marker_volume
from tests.modules.ai.support import ai_window, brain_volume, wait_maps
from viewer.modules.ai.state import PREDICTED
from viewer.state.viewer_state import ViewerState
from viewer.ui.views.layouts import LayoutContainer
from viewer.ui.views.slice_view import SliceView

pytestmark = pytest.mark.gui


def _normalised(heat: np.ndarray, reference: float | None = None) -> np.ndarray:
    """The map by its top: its maximum, or the model's reference when larger (faint maps)."""
    h = np.clip(np.nan_to_num(heat.astype(np.float32)), 0.0, None)
    return h / max(float(h.max()), reference or 0.0)


def _pixel(view, point) -> tuple[int, int]:
    x, y = view.geom.to_view(point)
    px = view.overlay.mapFromParent(QPointF(x, y))
    return int(np.floor(px.y())), int(np.floor(px.x()))


def _overlay_at(view, point) -> float:
    """Overlay map value of ``view`` (a PlaneView) under a patient point (NaN: no map there)."""
    return float(view.overlay_layer.values[_pixel(view, point)])


def _alpha_at(view, point) -> int:
    """Alpha of the drawn overlay under a patient point (0 = transparent)."""
    return int(view.overlay_layer.rgba[_pixel(view, point)][3])


def _gradcam(qtbot, win, ctl, k: int) -> np.ndarray:
    win.state.set_slice(k)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    qtbot.waitUntil(lambda: ctl.map_volume.known.size > k and ctl.map_volume.known[k],
                    timeout=10000)
    return ctl.ai.maps["gradcam"].heat


def test_gradcam_maps_reformat_into_the_plane_views(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    ctl.ai.set_threshold(0.2)
    vol = brain_volume(n=8, size=96)
    win.show_volume(vol)
    heat3 = _gradcam(qtbot, win, ctl, 3)
    ref = ctl.ai.maps["gradcam"].reference
    ctl.ai.follow = False
    layouts = win.modules["workspace"].layouts
    layouts.set_layout("2x2")
    j, i = (int(a) for a in np.unravel_index(int(np.argmax(heat3)), heat3.shape))
    point = vol.index_to_patient(3, j, i)
    layouts.nav.set_crosshair(point)
    axial, coronal, sagittal = (layouts.views[p] for p in ("axial", "coronal", "sagittal"))
    for view in (axial, coronal, sagittal):
        assert view.overlay.isVisible(), view.plane
        # the map's maximum, normalised by the overlay rule (1.0 unless faint)
        assert _overlay_at(view, point) == pytest.approx(_normalised(heat3, ref).max())
    # the axial plane at depth 3 is slice 3's map, value for value where it is shown
    norm = _normalised(heat3, ref)
    shown = axial.overlay_layer.values
    above = norm >= 0.2
    np.testing.assert_allclose(shown[above], norm[above], rtol=1e-5)
    alpha = axial.overlay_layer.rgba[..., 3]
    assert np.all(alpha[~above] == 0) and np.all(alpha[above & (norm > 0)] > 0)  # threshold
    # coronal: the row of slice 3 carries the map's row j; slices without a map are transparent
    for kk in range(vol.n_slices):
        value = _overlay_at(coronal, vol.index_to_patient(kk, j, i))
        if kk == 3:
            assert value == pytest.approx(norm[j, i])
        else:
            assert _alpha_at(coronal, vol.index_to_patient(kk, j, i)) == 0, kk
    # a new map appears in the coronal row of its slice without any other action
    win.state.set_slice(5)
    heat5 = _gradcam(qtbot, win, ctl, 5)
    layouts.nav.set_crosshair(vol.index_to_patient(5, j, i))
    n5 = _normalised(heat5, ctl.ai.maps["gradcam"].reference)
    value = _overlay_at(coronal, vol.index_to_patient(5, j, i))
    assert value == pytest.approx(n5[j, i]) if n5[j, i] >= 0.2 else value < 0.2
    assert win.modules["workspace"].act_nifti.isEnabled()
    # hiding the overlay (O) hides it in the plane views too
    ctl.act_toggle.trigger()
    assert not coronal.overlay.isVisible()
    ctl.act_toggle.trigger()
    assert coronal.overlay.isVisible()


def test_plane_view_maps_come_from_the_cache_and_drop_with_the_series(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    vol = brain_volume(n=6, size=96, uid="1.2.3.one")
    win.show_volume(vol)
    _gradcam(qtbot, win, ctl, 2)
    ai.follow = False
    layouts = win.modules["workspace"].layouts
    layouts.set_layout("1x3")
    assert layouts.views["coronal"].overlay.isVisible()
    ai.set_method("occlusion")          # no occlusion map yet: nothing to show
    assert not layouts.views["coronal"].overlay.isVisible()
    ai.set_method("gradcam")            # reassembled from the map cache
    assert layouts.views["coronal"].overlay.isVisible() and ctl.map_volume.known[2]
    win.show_volume(brain_volume(n=6, size=96, seed=5, uid="1.2.3.two"))
    assert not ctl.map_volume.known.any()
    assert all(not v.overlay.isVisible() for v in layouts.views.values())
    assert win.modules["workspace"].heat_volume is None and not win.modules["workspace"].act_nifti.isEnabled()


def test_heat_map_nifti_export_of_the_assembled_maps(qtbot, monkeypatch, tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    vol = brain_volume(n=5, size=96, spacing=(4.0, 0.9, 0.8))
    win.show_volume(vol)
    heat = _gradcam(qtbot, win, ctl, 1)
    ctl.ai.follow = False
    path = win.modules["workspace"].heatmap_job(tmp_path / "maps.nii")(None)
    img = sitk.ReadImage(str(path))
    data = sitk.GetArrayFromImage(img)
    assert data.shape == vol.shape and img.GetSpacing() == pytest.approx((0.8, 0.9, 4.0))
    np.testing.assert_allclose(data[1], _normalised(heat, ctl.ai.maps["gradcam"].reference),
                               rtol=1e-5)
    # slices without a map are NaN in the file (ITK's reader turns NaN into 0, so read the bytes)
    raw = path.read_bytes()
    offset = int(np.frombuffer(raw[108:112], "<f4")[0])
    voxels = np.frombuffer(raw[offset:], "<f4").reshape(vol.shape)
    np.testing.assert_allclose(voxels[1], data[1])
    assert np.isnan(np.delete(voxels, 1, axis=0)).all()


def test_map_volume_is_memory_bounded():
    from viewer.core.map_cache import MapVolume

    mv = MapVolume(budget=4 * 8 * 8 * 2)              # float32 does not fit, float16 does
    mv.reset(("s", "m", "gradcam", ""), (4, 8, 8))
    assert mv.volume is None
    assert mv.put(1, np.arange(64, dtype=np.float32).reshape(8, 8) - 10)
    assert mv.data.dtype == np.float16 and mv.nbytes <= mv.budget
    assert float(np.nanmax(mv.volume)) == pytest.approx(1.0) and np.nanmin(mv.volume[1]) == 0
    assert np.isnan(mv.volume[0]).all()
    assert not mv.put(4, np.zeros((8, 8), np.float32)) and not mv.put(0, np.zeros((4, 4)))
    small = MapVolume(budget=100)
    small.reset(("s", "m", "gradcam", ""), (4, 8, 8))
    assert not small.put(0, np.ones((8, 8), np.float32)) and small.too_large


@pytest.fixture
def container(qtbot):
    state = ViewerState()
    c = LayoutContainer(state, SliceView(state))
    qtbot.addWidget(c)
    c.resize(700, 500)
    c.show()
    qtbot.waitExposed(c)
    return c


def test_single_view_draws_the_crosshair_through_the_navigator_point(container, qtbot):
    vol, p = marker_volume(DIRECTIONS["coronal"])
    st, single = container.state, container.single
    st.open_volume(vol)
    st.set_window(500.0, 1000.0)
    container.set_layout("1")
    container.nav.set_crosshair(p)
    assert not single.crosshair_visible()            # off until the reader asks for the lines
    single.set_crosshair_visible(True)
    assert single.crosshair_visible()
    k, j, i = vol.patient_to_index(p)
    assert st.slice_index == int(round(k))
    x, y = single.crosshair_view_pos()
    assert (single.v_line.value(), single.h_line.value()) == pytest.approx((x, y))
    # the lines cross on the marker's pixel
    px = single.image.mapFromParent(QPointF(x, y))
    assert single.image.image[int(px.y()), int(px.x())] > 900
    # drawn on screen: crosshair colour on the line, away from the marker
    single.fit()
    img = single.canvas.grab().toImage()
    scene = single.view_box.mapViewToScene(QPointF(x, y - 12 * vol.spacing[1]))  # background
    pos = single.canvas.mapFromScene(scene)
    colours = [img.pixelColor(pos.x() + d, pos.y()) for d in (-1, 0, 1)]
    assert max(c.blue() for c in colours) > 150 and max(c.red() for c in colours) < 160
    far = img.pixelColor(pos.x() + 25, pos.y())
    assert far.blue() < 30                                 # dark beside the line
    # the lines take no clicks; moving the point on another slice moves them
    assert single.v_line.acceptedMouseButtons() == Qt.MouseButton.NoButton
    container.nav.set_crosshair(vol.index_to_patient(3, 5.0, 7.0))
    assert st.slice_index == 3
    assert single.crosshair_view_pos() == pytest.approx(((7 + 0.5) * vol.spacing[2],
                                                         (5 + 0.5) * vol.spacing[1]))
    single.set_crosshair_visible(False)
    assert not single.crosshair_visible()
    single.set_crosshair_visible(True)
    st.close_volume()
    assert not single.crosshair_visible()


def test_measurement_tools_hide_the_single_view_crosshair(window):
    from tests.gui_support import make_volume

    window.show_volume(make_volume("CT"))
    ws = window.modules["workspace"]
    single = ws.layouts.single
    assert not single.crosshair_visible()                # off by default in the one-view layout
    ws.act_crosshair.trigger()                           # Shift+X
    assert single.crosshair_visible()
    ws.tool_actions["ruler"].trigger()
    assert not single.crosshair_visible()
    ws.tool_actions["navigate"].trigger()
    assert single.crosshair_visible()
    ws.act_crosshair.trigger()
    assert not single.crosshair_visible()


def test_growing_sweep_redraws_the_profile_at_most_every_interval(qtbot, monkeypatch):
    from viewer.modules.ai.controller import PROFILE_INTERVAL_MS
    from viewer.modules.ai.state import SweepResult

    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=10, size=96))
    clock = [100.0]
    ctl.series_sweep.clock = lambda: clock[0]
    drawn = []
    real = ctl.profile.set_profile
    monkeypatch.setattr(ctl.profile, "set_profile", lambda *a, **k: (drawn.append(a[0]),
                                                                     real(*a, **k)))
    uid = win.state.volume.series_uid
    probs = np.full((10, 2), np.nan, np.float32)

    def sweep(done: int) -> SweepResult:
        probs[:done] = (0.3, 0.7)
        return SweepResult(uid, "tumour", ("no tumour", "tumour"), probs.copy(), done, 10)

    ctl.ai.set_sweep(sweep(0))                 # start: drawn at once
    assert len(drawn) == 1
    curve = ctl.profile._curves[0]
    for done in (2, 4, 6):                    # chunks within one interval: coalesced
        clock[0] += PROFILE_INTERVAL_MS / 1000 / 10
        ctl.ai.set_sweep(sweep(done))
    assert len(drawn) == 1 and ctl.series_sweep.timer.isActive()
    qtbot.waitUntil(lambda: len(drawn) == 2, timeout=2000)   # the latest chunk, once
    assert np.count_nonzero(~np.isnan(drawn[-1][:, 1])) == 6
    assert ctl.profile._curves[0] is curve    # same curve item, new data only
    ctl.ai.set_sweep(sweep(10))               # complete: drawn at once
    assert len(drawn) == 3 and not ctl.series_sweep.timer.isActive()
    assert ctl.profile._curves[0] is curve
    np.testing.assert_allclose(curve.yData, 0.7)


def test_worker_threads_run_below_the_gui_priority(qtbot):
    import os
    import sys
    import threading

    from viewer.state.jobs import WORKER_NICE, JobRunner

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice values are a Linux feature")
    runner = JobRunner()
    got = []
    runner.submit("probe", lambda ctx: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                  on_result=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert got[0] == min(19, gui + WORKER_NICE)
    runner.shutdown(2000)


def test_predicted_class_maps_in_plane_views_explain_one_class(qtbot, monkeypatch):
    """With target "predicted class" the plane views show only maps of the class explained on
    the current slice: another slice's "no tumour" evidence is never drawn as tumour evidence."""
    from inference.results import Explanation, Prediction
    from viewer.modules.ai.state import MapResult, ResultTag

    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    ctl.ai.set_target(PREDICTED)        # the tumour model's own target is "tumour"
    ctl.ai.follow = False
    vol = brain_volume(n=6, size=32)
    win.show_volume(vol)
    for key in ("explain", "sweep"):
        ctl.runner.cancel(key)

    def result(k: int, cls: str) -> MapResult:
        tag = ResultTag(vol.series_uid, k, "tumour", "gradcam", "", 10_000 + k)
        pred = Prediction("tumour", {"no tumour": 0.5, "tumour": 0.5}, cls)
        heat = np.zeros((32, 32), np.float32)
        heat[10:20, 10:20] = 1.0
        return MapResult(tag, Explanation(heat, "gradcam", cls, "tumour", pred))

    win.state.set_slice(2)
    for k, cls in ((1, "no tumour"), (2, "tumour"), (4, "tumour")):
        r = result(k, cls)
        ctl.cache.put(r)
        ctl.overlay.add_to_map_volume(r)
    known = ctl.map_volume.known
    assert known[2] and known[4] and not known[1]
    # the current slice now explains "no tumour": the plane views switch to that class
    win.state.set_slice(1)
    r = result(1, "no tumour")
    ctl.cache.put(r)
    ctl.overlay.add_to_map_volume(r)
    known = ctl.map_volume.known
    assert known[1] and not known[2] and not known[4]
    # back on slice 2, whose map comes from the cache, the plane views follow its class again
    win.state.set_slice(2)
    ctl.ai.put_map(result(2, "tumour"))
    known = ctl.map_volume.known
    assert known[2] and known[4] and not known[1]

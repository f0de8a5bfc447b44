"""Series sweep and robustness: profile plot, flagged slices on the slider and N / Shift+N,
1,000 rapid slice changes during a sweep, switching series and model mid-job, closing."""
from __future__ import annotations

import numpy as np
import pytest

from tests.modules.ai.support import ai_window, brain_volume, wait_maps

pytestmark = pytest.mark.gui


def _sweep(qtbot, win, ctl, timeout=60000):
    ctl.run_series()
    qtbot.waitUntil(lambda: ctl.ai.sweep is not None and ctl.ai.sweep.complete, timeout=timeout)
    return ctl.ai.sweep


def test_sweep_draws_profile_marks_slider_and_jumps(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    vol = brain_volume(n=10, size=96)
    win.show_volume(vol)
    # before a sweep: the slice axis spans the series (not a fraction around the current slice)
    # and a line says how to fill it
    assert ctl.profile.empty_text.isVisible() and "Run on series" in ctl.profile.empty_text.toPlainText()
    x_range = ctl.profile.getPlotItem().vb.viewRange()[0]
    assert x_range == pytest.approx([0.5, 10.5])
    sweep = _sweep(qtbot, win, ctl)
    assert not ctl.profile.empty_text.isVisible()
    assert sweep.probs.shape == (10, 2) and not np.isnan(sweep.probs).any()
    np.testing.assert_allclose(sweep.probs.sum(axis=1), 1.0, atol=1e-4)
    assert ctl.profile_dock.isVisibleTo(win) and ctl.profile.curve_count() == 1
    ai.set_flag_threshold(float(np.median(sweep.probs[:, 1])))
    flagged = ai.flagged_slices()
    assert len(np.unique(sweep.probs[:, 1])) > 1       # the phantom has tumour and normal slices
    assert 0 < len(flagged) < 10
    assert list(win.slice_view.slider.marks()) == flagged.tolist()
    win.state.set_slice(0)
    ctl.act_next_flag.trigger()
    expected = int(flagged[flagged > 0][0]) if (flagged > 0).any() else int(flagged[0])
    assert win.state.slice_index == expected
    # the status line names the slice the jump landed on (found under X: "Series sweep done" stayed)
    assert ctl.ai.status.startswith(f"Slice {expected + 1}: flagged, P(tumour) ")
    ctl.act_prev_flag.trigger()
    before = flagged[flagged < expected]
    assert win.state.slice_index == (int(before[-1]) if before.size else int(flagged[-1]))
    ctl.profile.slice_clicked.emit(7)  # a click on the profile
    assert win.state.slice_index == 7
    assert ctl.profile.current_line.value() == 8  # drawn 1-based


def test_profile_click_maps_to_nearest_slice(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=10, size=96))
    _sweep(qtbot, win, ctl)
    plot = ctl.profile
    plot.resize(600, 200)
    plot.show()
    qtbot.waitExposed(plot)
    vb = plot.getPlotItem().vb
    from PySide6.QtCore import QPointF

    for k in (0, 4, 9):
        scene = vb.mapViewToScene(QPointF(k + 1.2, 0.5))
        assert plot.slice_at(scene) == k


def test_rapid_slice_changes_during_sweep_never_show_stale_maps(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    win.show_volume(brain_volume(n=40, size=96))
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    ctl.run_series()
    shown = []
    ai.maps_changed.connect(lambda: shown.extend(
        (r.tag.slice_index, win.state.slice_index) for r in ai.maps.values()))
    rng = np.random.default_rng(0)
    for k in rng.integers(0, 40, 1000):
        win.state.set_slice(int(k))
        assert all(r.tag.slice_index == win.state.slice_index for r in ai.maps.values())
    final = win.state.slice_index
    wait_maps(qtbot, ctl)
    qtbot.waitUntil(lambda: ai.sweep is not None and ai.sweep.complete, timeout=60000)
    assert all(tag_k == shown_k for tag_k, shown_k in shown)
    assert ai.maps["gradcam"].tag.slice_index == final
    assert win.slice_view.overlay_visible()


def test_switching_series_and_model_mid_job_drops_results(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch, ("tumour", "contrast"))
    ai = ctl.ai
    ai.set_model("tumour")
    win.show_volume(brain_volume(n=20, size=96, uid="1.2.3.first"))
    ctl.run_series()
    ctl.run_slice()
    other = brain_volume(n=6, size=96, seed=4, uid="1.2.3.second")
    win.show_volume(other)  # series switch while both jobs run
    assert ai.sweep is None and not ai.maps
    wait_maps(qtbot, ctl)
    assert all(r.tag.series_uid == "1.2.3.second" for r in ai.maps.values())
    ai.set_model("contrast")  # model switch: old maps and sweep are gone
    assert not ai.maps and ai.sweep is None and ai.prediction is None
    wait_maps(qtbot, ctl)
    assert ai.maps["gradcam"].tag.model == "contrast"
    assert set(ai.prediction.probabilities) == set(ai.card.classes)
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=30000)
    assert ai.sweep is None  # the first series' sweep never reached the screen


def test_closing_during_a_sweep_stops_the_workers(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=160, size=96))
    ctl.run_series()
    qtbot.waitUntil(lambda: ctl.ai.sweep is not None and ctl.ai.sweep.done > 0, timeout=30000)
    assert not ctl.ai.sweep.complete
    win.close()  # waits at most 0.8 s for the workers
    assert win.runner.active_threads() == 0

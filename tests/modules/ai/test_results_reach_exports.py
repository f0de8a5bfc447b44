"""What the AI module computes reaches the other modules: the findings report carries the sweep's
per-slice probabilities, PNG captions name the model, method and class, and one map with one
style gives the same pixels in every place that shows it (the one overlay rule)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.modules.ai.support import ai_window, brain_volume, wait_maps


def test_sweep_then_findings_report_holds_its_probabilities(qtbot, monkeypatch, tmp_path):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    vol = brain_volume(n=6, size=96)
    win.show_volume(vol)
    ctl.act_run_series.trigger()                       # the menu action a reader uses
    qtbot.waitUntil(lambda: ctl.ai.sweep is not None and ctl.ai.sweep.complete, timeout=60000)
    ws = win.modules["workspace"]
    with qtbot.waitSignal(win.runner.finished, timeout=10000,
                          check_params_cb=lambda key, _rid, _r: key == "export"):
        win.runner.submit("export", ws.report_job(tmp_path / "findings.json"))
    report = json.loads((tmp_path / "findings.json").read_text())
    rows = report["slice_probabilities"]
    sweep = ctl.ai.sweep
    assert len(rows) == vol.n_slices * len(sweep.classes)
    got = {(r["slice"], r["class"]): r["probability"] for r in rows}
    for k in range(vol.n_slices):
        for c, name in enumerate(sweep.classes):
            assert got[(k, name)] == pytest.approx(float(sweep.probs[k, c]), abs=1e-4)
    assert "tumour" in (tmp_path / "findings.csv").read_text()


def test_png_caption_names_model_method_and_class(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=4, size=96))
    ws = win.modules["workspace"]
    assert "Grad-CAM" not in ws.caption()                # no map yet: no model claim
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    caption = ws.caption()
    target = ctl.ai.maps["gradcam"].target
    assert "tumour" in caption and "Grad-CAM" in caption and f"“{target}”" in caption
    assert "demo weights" in caption                    # the shipped weights are demo weights
    ctl.act_toggle.trigger()                             # overlay hidden: caption says no map
    assert "Grad-CAM" not in ws.caption()


def test_one_map_one_style_same_pixels_everywhere(qtbot, monkeypatch, tmp_path):
    from PIL import Image

    from viewer.core.exports import slice_images
    from viewer.core.overlay import blend, overlay_rgba, window_to_gray

    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    ai.set_colormap("turbo")
    ai.set_opacity(0.7)
    ai.set_threshold(0.3)
    vol = brain_volume(n=6, size=96)
    win.show_volume(vol)
    k = 2                                      # the slice with the tumour (12 px of it)
    win.state.set_slice(k)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    heat, map_reference = ai.maps["gradcam"].heat, ai.maps["gradcam"].reference
    style = ai.style()
    reference = overlay_rgba(heat, style, reference=map_reference)
    assert reference[..., 3].any() and not reference[..., 3].all()   # a real, partial overlay
    # the slice view
    np.testing.assert_array_equal(win.slice_view.overlay_layer.rgba, reference)
    # the axial plane view at the same slice (maps assembled into the plane views' volume)
    ws = win.modules["workspace"]
    qtbot.waitUntil(lambda: ctl.map_volume.known.size > k and ctl.map_volume.known[k],
                    timeout=10000)
    ws.layouts.set_layout("2x2")
    ws.layouts.nav.set_crosshair(vol.index_to_patient(k, 10, 10))
    axial = ws.layouts.views["axial"]
    np.testing.assert_array_equal(axial.overlay_layer.rgba, reference)
    # the quiz draws a revealed map through the same view with the reader's style
    teaching = win.modules["teaching"].controller
    assert teaching.overlay_style() == style
    win.slice_view.set_overlay(None)
    monkeypatch.setattr(teaching, "current_heat", lambda: heat)
    monkeypatch.setattr(teaching, "current_reference", lambda: map_reference)
    teaching._apply_overlay()
    np.testing.assert_array_equal(win.slice_view.overlay_layer.rgba, reference)
    # PNG exports (montage / series) blend exactly that layer over the windowed slice
    png = slice_images(vol, [k], win.state.window, ws.heat_volume, ws.heat_style)[0]
    expected = blend(window_to_gray(vol.voxels[k], *win.state.window), reference)
    np.testing.assert_array_equal(png, expected)
    from viewer.core.overlay import save_png

    path = save_png(png, tmp_path / "slice.png")
    np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), expected)

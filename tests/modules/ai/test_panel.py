"""Inference module: start-up without torch, model card and demo badge, Run on this slice with
probability bars, failing models, device choice, contrast labels in the series browser."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.modules.ai.support import REPO, ai_window, brain_volume, show_maps_anyway, wait_maps

pytestmark = pytest.mark.gui


def test_main_window_with_ai_module_does_not_import_torch():
    code = ("import os, sys, json; os.environ['QT_QPA_PLATFORM']='offscreen';"
            "from viewer.app import create_application, create_main_window;"
            "app = create_application([]); w = create_main_window(); w.show();"
            "print(json.dumps(['torch' in sys.modules, 'inference.predict' in sys.modules]));"
            "w.runner.shutdown(3000)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, False]


def test_panel_shows_model_card_and_demo_badge(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    panel = ctl.panel
    ctl.ai.set_model("tumour")
    card = ctl.ai.card
    assert card is not None and card.task == "tumour"
    text = panel.card_label.text()
    assert "tumour" in text and "Classes:" in text and "Backbone:" in text
    assert "Intended use" in text and "Metrics (held-out phantoms, " in text
    assert panel.badge.isVisibleTo(panel) == card.demo
    if card.demo:
        assert "NOT FOR CLINICAL USE" in panel.badge.text()
    assert panel.model_box.currentData() == "tumour"
    assert [panel.controls.target_box.itemData(i) for i in range(panel.controls.target_box.count())] \
        == ["", *card.classes]


def test_run_on_slice_shows_probabilities_overlay_and_scores(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    ctl.ai.set_target("")   # Predicted class: "tumour" on this slice (a 145 px cross-section)
    win.show_volume(brain_volume(seed=4))
    win.state.set_slice(2)
    show_maps_anyway(ctl)   # drawing is tested here; out-of-domain hiding in test_out_of_domain
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    result = ctl.ai.maps["gradcam"]
    assert result.tag.slice_index == 2 and result.tag.model == "tumour"
    assert result.heat.shape == win.state.volume.shape[1:]
    assert result.deletion_auc is not None and 0.0 <= result.deletion_auc <= 1.0
    bars = ctl.panel.bars.values()
    assert set(bars) == set(ctl.ai.card.classes)
    assert sum(bars.values()) == pytest.approx(1.0, abs=0.01)
    assert result.prediction.predicted in ctl.panel.predicted_label.text()
    assert win.slice_view.overlay_visible()
    assert "deletion score" in ctl.panel.controls.scores_label.text()
    assert "Grad-CAM" in ctl.panel.controls.colour_bar.text()


def test_failing_model_shows_message_and_viewer_keeps_working(qtbot, monkeypatch):
    from inference.errors import ModelLoadError

    win, ctl = ai_window(qtbot, monkeypatch)

    def broken(name):
        raise ModelLoadError(f"{name}.safetensors: sha256 does not match the manifest")

    monkeypatch.setattr(ctl.pool, "get", broken)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume())
    ctl.run_slice()
    qtbot.waitUntil(lambda: win.last_error is not None, timeout=10000)
    assert "sha256" in win.last_error.text()
    assert any(m.source == "ai" and m.level == "error" for m in win.state.messages)
    assert not ctl.ai.follow and not win.slice_view.overlay_visible()
    win.last_error.close()
    win.state.set_slice(1)  # the viewer keeps working
    assert win.state.slice_index == 1
    assert not win.runner.is_running("explain")


def test_device_choice_is_stored_and_described(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.panel.device_box.setCurrentText("cpu")
    assert win.settings.q.value("ai/device") == "cpu"
    assert ctl.pool.device == "cpu"
    qtbot.waitUntil(lambda: "CPU" in ctl.panel.device_label.text(), timeout=30000)
    ctl.panel.device_box.setCurrentText("cuda")
    import torch

    if not torch.cuda.is_available():
        qtbot.waitUntil(lambda: "unavailable" in ctl.panel.device_label.text(), timeout=30000)
        assert "CUDA is not available" in ctl.panel.device_label.text()


@pytest.mark.parametrize(("text", "expected"), [
    ("AX T2 FLAIR", "T2-FLAIR"), ("T1 post-contrast", "T1 post-contrast"), ("T1+C", "T1 post-contrast"),
    ("Sag T1 SE", "T1"), ("T2 TSE tra", "T2"), ("MPRAGE GAD", "T1 post-contrast"), ("DWI b1000", ""),
    ("Localizer", ""), ("T1 pre-contrast", "T1")])
def test_header_contrast_wording(text, expected):
    from viewer.modules.ai.study import header_contrast

    assert header_contrast(text) == expected


def test_contrast_labels_appear_in_series_browser(qtbot, monkeypatch, tmp_path):
    from inference.phantoms import brain_mr_volume
    from viewer.io import write_series

    for n, (contrast, words) in enumerate([("T2", "AX T1 SE"), ("T2-FLAIR", "AX FLAIR")]):
        vox, _ = brain_mr_volume(seed=5, n_slices=5, size=96, contrast=contrast)
        write_series(tmp_path / f"s{n}", vox, spacing=(5.0, 1.0, 1.0), series_description=words,
                     study_uid="1.2.826.0.1.3680043.8.498.55", series_number=n + 1)
    win, ctl = ai_window(qtbot, monkeypatch, ("tumour", "contrast"))
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        win.open_paths([str(tmp_path)])
    browser = win.series_browser
    uids = [s.uid for s in browser.series_list()]
    qtbot.waitUntil(lambda: all(browser.note(u) for u in uids), timeout=60000)
    labelled = 0
    for row in range(browser.count()):
        item = browser.item(row)
        note = browser.note(item.data(256))
        assert note.startswith("AI (demo): ") and note in item.text()   # demo weights say so
        header = "T1" if "T1" in item.text() else "T2-FLAIR"
        says = note.split()[2]
        if says == "?":        # out of the model's domain: no label, so nothing to compare
            assert "header says" not in note
            continue
        labelled += 1
        model = {"T1c": "T1 post-contrast", "FLAIR": "T2-FLAIR"}.get(says, says)
        assert ("header says" in note) == (model != header)
    assert labelled >= 1

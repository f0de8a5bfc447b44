"""Running a series sweep leaves the explained class as the reader chose it ("Predicted class"),
in this session; a restart or another model brings the model's own target, named in the box."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.modules.ai.support import ai_window, brain_volume


def test_run_on_series_keeps_predicted_class_as_target(qtbot, monkeypatch):
    from viewer.modules.ai.state import PREDICTED

    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=6, size=64))
    box = ctl.panel.controls.target_box
    # a detector's own target is its finding, named in the box (never a silent choice)
    assert ctl.ai.target == "tumour" and box.currentText() == "tumour (finding)"
    box.setCurrentIndex(box.findData(PREDICTED))                # the reader's choice
    assert ctl.ai.target == PREDICTED
    ctl.act_run_series.trigger()
    qtbot.waitUntil(lambda: ctl.ai.sweep is not None and ctl.ai.sweep.complete, timeout=60000)
    assert ctl.ai.target == PREDICTED
    assert box.currentText() == "Predicted class"
    win.close()
    win2, ctl2 = ai_window(qtbot, monkeypatch)                # same settings folder: a restart
    card = ctl2.ai.card                                        # the model's own target again
    assert ctl2.ai.target == (card.map_target if card is not None else PREDICTED)


def test_each_model_brings_its_own_target_into_view(qtbot, monkeypatch):
    from viewer.modules.ai.state import PREDICTED

    win, ctl = ai_window(qtbot, monkeypatch)
    box = ctl.panel.controls.target_box
    ctl.ai.set_model("tumour")
    box.setCurrentIndex(box.findData("no tumour"))
    assert ctl.ai.target == "no tumour"
    ctl.ai.set_model("ct-lesion")                              # never another model's class
    assert ctl.ai.target == "lesion" and box.currentText() == "lesion (finding)"
    assert "faint" in box.itemData(box.currentIndex(), Qt.ItemDataRole.ToolTipRole)
    assert "default" in box.toolTip()                          # on the box itself, too
    ctl.ai.set_model("contrast")                               # no finding: the predicted class
    assert ctl.ai.target == PREDICTED and box.currentText() == "Predicted class"


def test_colour_bar_follows_the_method_on_screen(qtbot, monkeypatch):
    from tests.modules.ai.support import show_maps_anyway, wait_maps

    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=4, size=64))
    show_maps_anyway(ctl)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    bar = ctl.panel.controls.colour_bar
    assert bar.text().startswith("Grad-CAM")
    ctl.ai.set_method("hirescam")
    assert "Grad-CAM" not in bar.text()                       # never the old method's label
    wait_maps(qtbot, ctl)
    assert bar.text().startswith("HiResCAM")
    heat, reference = ctl.ai.maps["hirescam"].heat, ctl.ai.maps["hirescam"].reference
    assert bar.high == max(heat.max(), reference or 0.0)     # faint maps: the model's reference


def test_share_outside_the_body_and_the_display_switch(qtbot, monkeypatch):
    import numpy as np

    from tests.modules.ai.support import show_maps_anyway, wait_maps
    from viewer.core.body import body_mask, fraction_outside

    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    vol = brain_volume(n=4, size=64)
    win.show_volume(vol)
    show_maps_anyway(ctl)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    k = win.state.slice_index
    heat = ctl.ai.maps["gradcam"].heat
    body = body_mask(vol.voxels[k], vol.modality)
    assert ctl.ai.outside_body == fraction_outside(heat, body)
    assert "outside the body" in ctl.panel.controls.outside_label.text()
    assert not ctl.panel.controls.body_box.isChecked()        # off by default
    ctl.panel.controls.body_box.setChecked(True)               # the display choice
    alpha = win.slice_view.overlay_layer.rgba[..., 3]
    assert not alpha[~body].any()                               # nothing drawn outside
    assert np.array_equal(ctl.ai.maps["gradcam"].heat, heat)    # the map itself unchanged


def test_sweep_progress_counts_slices_from_the_start(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=6, size=64))
    ctl.act_run_series.trigger()
    bar = ctl.panel.progress
    assert bar.maximum() == 6 and bar.value() == 0       # "0 / 6 slices", not an endless bar
    qtbot.waitUntil(lambda: ctl.ai.sweep is not None and ctl.ai.sweep.complete, timeout=60000)


def test_a_no_finding_map_in_the_air_says_what_it_is_and_where_to_look(qtbot, monkeypatch):
    """A detector's "no tumour" map shows what argues against a finding; when it lies mostly in
    the air the warning says so and names the Target that shows where the model looked."""
    from tests.modules.ai.support import show_maps_anyway, wait_maps

    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=4, size=64))
    show_maps_anyway(ctl)
    box = ctl.panel.controls.target_box
    box.setCurrentIndex(box.findText("no tumour"))
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    assert ctl.ai.maps["gradcam"].target == "no tumour"
    label = ctl.panel.controls.outside_label
    ctl.ai.set_outside_body(0.8)
    assert "argues against a finding" in label.text() and "Target “tumour”" in label.text()
    ctl.ai.set_outside_body(0.1)
    assert "argues against" not in label.text()

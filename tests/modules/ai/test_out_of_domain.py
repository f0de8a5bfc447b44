"""A not-applicable call is never shown as a confident call (issue 11, the viewer side).

Driven through the composed window: the panel's notice, greyed bars and hidden map until
"Show map anyway" (button and Shift+O); the sweep's grey bands on the profile and grey marks on the
slider; "?" in the series browser; the knee exam naming the plane out of domain; the model
picker marking models that do not fit a series and choosing one that does, never with a dialog.
The out-of-domain input is made certain by the plane: a sagittal series for models trained on
axial slices (independent of any out-of-distribution threshold of the demo weights).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from inference.results import Applicability, Prediction
from tests.modules.ai.support import ai_window, brain_volume, wait_maps

pytestmark = pytest.mark.gui


def sagittal(vol):
    return replace(vol, orientation="sagittal")


def test_out_of_domain_slice_greys_bars_and_hides_map_until_show_anyway(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai, panel = ctl.ai, ctl.panel
    ai.set_model("tumour")
    win.show_volume(sagittal(brain_volume(n=4, size=64)))
    assert ai.model == "tumour"                 # no model reads sagittal slices: kept, no dialog
    win.state.set_slice(2)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    pred = ai.maps["gradcam"].prediction
    assert not pred.applicable and ai.prediction is pred
    notice = panel.domain_label.text()
    assert panel.domain_label.isVisibleTo(panel)
    assert "Outside this model's domain:" in notice
    assert "sagittal slice; this model reads axial slices" in notice
    assert panel.bars.muted() and "No valid call" in panel.predicted_label.text()
    assert not win.slice_view.overlay_visible()                   # map hidden
    assert ctl.caption() == ""                                    # no PNG caption claims it
    assert "hidden (outside this model's domain)" in panel.controls.scores_label.text()
    assert panel.show_anyway_button.isVisibleTo(panel)
    assert win.last_error is None                                 # never a dialog
    # The reader asks to see it anyway: the key, then the button hides it again.
    assert ctl.act_show_anyway.shortcut().toString() == "Shift+O"
    qtbot.keyClick(win.slice_view, Qt.Key.Key_O, Qt.KeyboardModifier.ShiftModifier)
    assert ai.shown_anyway and win.slice_view.overlay_visible()
    assert panel.bars.muted()                                     # still no valid call
    assert "shown anyway" in panel.domain_label.text()
    assert "OUTSIDE THIS MODEL'S DOMAIN" in ctl.caption()
    win.state.set_slice(1)                                        # holds for the whole series
    wait_maps(qtbot, ctl)
    assert win.slice_view.overlay_visible()
    qtbot.mouseClick(panel.show_anyway_button, Qt.MouseButton.LeftButton)
    assert not ai.shown_anyway and not win.slice_view.overlay_visible()
    ai.set_shown_anyway(True)
    win.show_volume(sagittal(brain_volume(n=4, size=64, uid="1.2.826.0.1.3680043.8.498.78")))
    assert not ai.shown_anyway                                    # another series: hidden again


def test_sweep_marks_out_of_domain_slices_on_profile_and_slider(qtbot, monkeypatch):
    from viewer.modules.ai.state import SweepResult

    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    vol = sagittal(brain_volume(n=5, size=64))
    win.show_volume(vol)
    ai.set_flag_threshold(0.05)                # would flag every slice if they were valid calls
    ctl.act_run_series.trigger()
    qtbot.waitUntil(lambda: ai.sweep is not None and ai.sweep.complete, timeout=60000)
    sweep = ai.sweep
    assert sweep.out_of_domain().tolist() == list(range(5))
    assert all("sagittal slice" in r for k in range(5) for r in sweep.slice_reasons(k)[:1])
    assert ai.flagged_slices().size == 0 and win.slice_view.slider.marks() == ()
    assert ctl.profile.excluded() == tuple(range(5))
    assert win.slice_view.slider.muted() == tuple(range(5))
    assert "outside the model's domain" in win.slice_view.slider.toolTip()
    assert "sagittal slice" in ctl.profile.toolTip()
    assert "outside this model's domain" in ai.status
    # A sweep with some valid slices: only those are flagged, the others marked grey.
    probs = np.array([[0.1, 0.9]] * 5, np.float32)
    mask = np.array([True, False, True, False, True])
    reasons = tuple(() if ok else ("image unlike the training data (distance 9, threshold 4)",)
                    for ok in mask)
    ai.set_sweep(SweepResult(vol.series_uid, "tumour", sweep.classes, probs, 5, 5,
                             ai.latest.get("sweep", 0), mask, reasons))
    ctl.series_sweep.refresh()
    assert ai.flagged_slices().tolist() == [0, 2, 4]
    assert win.slice_view.slider.marks() == (0, 2, 4)
    assert ctl.profile.excluded() == (1, 3) and win.slice_view.slider.muted() == (1, 3)
    assert sweep.series_reasons()[0].startswith("sagittal slice")
    assert ai.sweep.series_reasons() == ("2 of 5 slices unlike the training data",)


def test_series_browser_shows_question_mark_for_out_of_domain_contrast(qtbot, monkeypatch):
    from viewer.modules.ai.state import ContrastLabel

    win, ctl = ai_window(qtbot, monkeypatch, ("tumour", "contrast"))
    browser = win.series_browser
    calls = []
    monkeypatch.setattr(browser, "set_note", lambda *a, source="ai": calls.append((*a, source)))
    ctl.exam._on_contrast_label(ContrastLabel(
        "uid-1", "T2", 0.99, "T1", True, 3, applicable=False,
        reasons=("sagittal slice; this model reads axial slices",)))
    ctl.exam._on_contrast_label(ContrastLabel("uid-2", "T1", 0.93, "T1", False, 3))
    (uid, text, warn, tip, source), second = calls
    assert uid == "uid-1" and text == "AI: ?" and not warn and source == "contrast"
    assert "T2" not in text and "99" not in text
    assert "Outside this model's domain: sagittal slice; this model reads axial slices" in tip
    assert second[1] == "AI: T1 (93%)"


def test_knee_exam_names_the_plane_out_of_domain(qtbot, monkeypatch):
    from viewer.modules.ai.state import KneeResult

    win, ctl = ai_window(qtbot, monkeypatch)
    why = "coronal stack unlike the training data (distance 31.2, threshold 9.8)"
    pred = Prediction("knee", {"abnormal": 0.97, "acl": 0.4, "meniscus": 0.9}, "abnormal",
                      per_plane={p: {"abnormal": 0.9, "acl": 0.4, "meniscus": 0.9}
                                 for p in ("sagittal", "coronal", "axial")},
                      planes_used=("sagittal", "coronal", "axial"),
                      applicability=Applicability(False, (why,), 31.2, 9.8))
    ctl.ai.set_knee(KneeResult("knee", {"sagittal": "s", "coronal": "c", "axial": "a"}, (), pred,
                               "abnormal", {}, {}))
    panel = ctl.panel
    assert "coronal plane outside this model's domain" in panel.knee_label.text()
    assert "cor ⚠" in panel.knee_label.text() and "sag ⚠" not in panel.knee_label.text()
    assert panel.domain_label.isVisibleTo(panel) and why in panel.domain_label.text()
    assert panel.bars.muted() and "No valid call" in panel.predicted_label.text()


def test_model_picker_marks_unfit_models_and_picks_one_that_fits(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch, ("tumour", "ct-lesion"))
    ai, panel = ctl.ai, ctl.panel
    ai.set_model("ct-lesion")                       # remembered from a CT study
    win.show_volume(brain_volume(n=4, size=64))     # an axial brain MR series
    assert ai.model == "tumour"
    assert "ct-lesion" in ai.status and "reads CT; this series is MR" in ai.status
    text = panel.unfit_text("ct-lesion")
    assert text.startswith("ct-lesion — not for this series: reads CT; this series is MR")
    assert "not for this series" not in panel.unfit_text("tumour")
    if "knee" in ai.models:
        assert "not for this series" in panel.unfit_text("knee")   # brain, not knee
    # The reader may still choose it: a not-applicable result with reasons, no dialog.
    panel.model_box.setCurrentIndex(panel.model_box.findData("ct-lesion"))
    assert ai.model == "ct-lesion"
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    assert win.last_error is None
    assert "MR image; this model reads CT" in panel.domain_label.text()
    assert not win.slice_view.overlay_visible()


def test_model_card_shows_calibration_and_demo_badge(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    card = ctl.ai.card
    text = ctl.panel.card_label.text()
    cal = card.calibration
    if "ece_after" in cal:
        assert f"ECE {cal['ece_after']:.3f}" in text
    else:
        assert "Calibration: not measured" in text
    assert "Reads: MR · brain · axial slices" in text
    assert ctl.panel.badge.isVisibleTo(ctl.panel) == card.demo


def test_knee_maps_below_the_pointing_aim_are_marked_not_trustworthy(qtbot, monkeypatch):
    """A plane whose Grad-CAM for the explained label pointed at the finding in fewer than 75 %
    of held-out cases (manifest metrics) is named in the exam panel and on the model card."""
    import dataclasses

    from viewer.modules.ai.panel_text import card_html, knee_html
    from viewer.modules.ai.state import KneeResult

    win, ctl = ai_window(qtbot, monkeypatch)
    metrics = {"maps": {"per_label_plane": {"gradcam": {
        "meniscal tear": {"coronal": {"pointing_game": 0.08, "n": 25},
                          "sagittal": {"pointing_game": 0.9, "n": 25}},
        "ACL tear": {"sagittal": {"pointing_game": 0.8, "n": 25}}}}}}
    pred = Prediction("knee", {"abnormal": 0.9, "ACL tear": 0.2, "meniscal tear": 0.8}, "abnormal",
                      per_plane={p: {"abnormal": 0.9, "ACL tear": 0.2, "meniscal tear": 0.8}
                                 for p in ("sagittal", "coronal", "axial")},
                      planes_used=("sagittal", "coronal", "axial"))
    knee = KneeResult("knee", {"sagittal": "s", "coronal": "c", "axial": "a"}, (), pred,
                      "meniscal tear", {}, {})
    text = knee_html(knee, metrics)
    assert "Map not trustworthy on coronal" in text and "8%" in text
    assert "not trustworthy on sagittal" not in text
    assert "not trustworthy" not in knee_html(dataclasses.replace(knee, target="ACL tear"), metrics)
    from viewer.modules.ai.records import ModelCard

    card = ModelCard("knee", "knee", ("abnormal", "ACL tear", "meniscal tear"), "vgg-narrow", "MR",
                     "exam", metrics=metrics)
    html_card = card_html(card)
    assert "Maps not trustworthy" in html_card and "Grad-CAM for meniscal tear on coronal (0.08)" in html_card
    assert "Maps not trustworthy" not in card_html(dataclasses.replace(card, metrics={}))


def test_idle_progress_bar_shows_no_stale_slice_count(qtbot, monkeypatch):
    """Found under X: after a sweep the bar read "0 / 1 slices". Idle, it shows no count."""
    win, ctl = ai_window(qtbot, monkeypatch)
    bar = ctl.panel.progress
    ctl.panel.set_busy(True, 3, 24)
    assert bar.isTextVisible() and bar.text() == "3 / 24 slices"
    ctl.panel.set_busy(False)
    assert not bar.isTextVisible()


def test_pointing_text_never_reads_as_hit_and_outside_at_once():
    """Seen under X: "pointing game hit (±17 px), outside the lesion mask" read as a
    contradiction. Each case now has one plain phrase."""
    from inference.results import Pointing
    from viewer.modules.ai.overlay_controls import pointing_text

    assert pointing_text(Pointing(True, True, 17.0)).endswith("inside the lesion")
    near = pointing_text(Pointing(True, False, 17.0))
    assert "within 17 px of the lesion (not inside it)" in near and "outside" not in near
    assert pointing_text(Pointing(False, False, 17.0)).startswith("pointing game miss")


def test_model_card_shows_lesions_found_by_size():
    """A detector's card says how often it finds small lesions (manifest metrics
    ``sensitivity_by_size``, own phantoms and independent generator), not only the average."""
    from viewer.modules.ai.panel_text import card_html, size_text
    from viewer.modules.ai.records import ModelCard

    bands = [{"diameter_share": [0.0, 0.03], "n": 18, "sensitivity": 0.22},
             {"diameter_share": [0.03, 0.05], "n": 0, "sensitivity": None},
             {"diameter_share": [0.08, 1.0], "n": 18, "sensitivity": 0.89}]
    metrics = {"sensitivity_by_size": bands[2:], "independent_generator": {"sensitivity_by_size": bands}}
    text = size_text(metrics)
    assert "own phantoms 8 % and over 0.89 (n 18)" in text
    assert "independent generator under 3 % 0.22 (n 18), 8 % and over 0.89 (n 18)" in text
    assert "3-5 %" not in text                     # an empty band is left out
    assert size_text({}) == "" and size_text({"sensitivity_by_size": "junk"}) == ""
    card = ModelCard("ct-lesion", "ct-lesion", ("no lesion", "lesion"), "vgg-narrow", "CT", "slice",
                     metrics=metrics)
    assert "Lesions found, by size" in card_html(card)


def test_model_card_shows_lesions_found_by_appearance():
    """Beside size, the card says which kinds of lesion the detector finds (manifest metrics
    ``sensitivity_by_look``), on its own phantoms and on the independent generator."""
    from viewer.modules.ai.panel_text import card_html, look_text
    from viewer.modules.ai.records import ModelCard

    own = [{"look": "cystic", "n": 53, "sensitivity": 0.96}, {"look": "ring", "n": 0, "sensitivity": 0.5}]
    other = [{"look": "rim", "n": 68, "sensitivity": 0.53}, {"look": 3, "n": 1, "sensitivity": 1.0}]
    metrics = {"sensitivity_by_look": own, "independent_generator": {"sensitivity_by_look": other}}
    text = look_text(metrics)
    assert text == ("Lesions found, by appearance: own phantoms cystic 0.96 (n 53); "
                    "independent generator rim 0.53 (n 68)")      # empty and malformed rows left out
    assert look_text({}) == "" and look_text({"sensitivity_by_look": "junk"}) == ""
    card = ModelCard("tumour", "tumour", ("no tumour", "tumour"), "vgg-narrow", "MR", "slice",
                     metrics=metrics)
    assert "Lesions found, by appearance" in card_html(card)


def test_model_card_says_how_the_model_transfers_to_an_independent_generator():
    """The card gives the independent generator's accuracy, ROC AUC and confident wrong calls
    (manifest ``metrics.independent_generator``) beside the own-phantom metrics; nothing for a
    model without them; the shipped contrast model's card carries its own figures."""
    from inference.registry import get_spec
    from viewer.modules.ai.panel_text import card_html, transfer_text
    from viewer.modules.ai.records import ModelCard

    metrics = {"accuracy": 0.9, "independent_generator": {
        "accuracy": 0.7333, "roc_auc": 0.9242, "n": 300,
        "reader_view": {"confident_wrong_unflagged": 0.0433}}}
    assert transfer_text(metrics) == ("On an independent phantom generator (never trained on, n 300): "
                                      "accuracy 0.733, ROC AUC 0.924, confident wrong calls without a "
                                      "notice 4.3 %")
    assert transfer_text({}) == "" and transfer_text({"independent_generator": "junk"}) == ""
    assert transfer_text({"independent_generator": {"n": 3}}) == ""
    card = ModelCard("contrast", "contrast", ("T1", "T2"), "vgg-narrow", "MR", "slice", metrics=metrics)
    assert "On an independent phantom generator" in card_html(card)
    shipped = get_spec("contrast").metrics
    assert f"accuracy {shipped['independent_generator']['accuracy']:.3f}" in transfer_text(shipped)


def test_model_card_names_the_phantoms_its_metrics_come_from() -> None:
    """The card's metrics line says which phantoms they were measured on (generator, n; for the
    detectors the one the weights were trained on), so the independent generator's line beside
    it reads as the leave-one-generator-out comparison it is; a manifest that does not say gets
    no claim."""
    from viewer.modules.ai.panel_text import card_html
    from viewer.modules.ai.records import ModelCard

    def card(metrics: dict) -> str:
        return card_html(ModelCard("tumour", "tumour", ("no tumour", "tumour"), "vgg-narrow", "MR", "slice",
                                   metrics=metrics))

    assert ("Metrics (held-out phantoms, varied-faint generator, n 400): accuracy 0.9,"
            in card({"accuracy": 0.9, "sensitivity": 0.8, "generator": "varied-faint", "n": 400}))
    assert "Metrics: accuracy 0.9" in card({"accuracy": 0.9, "generator": 3})

"""HiResCAM as a third method in the panel, every final map scored against random maps (shown
after the map, cached with it, never on a coarse pass), and the findings report carrying the
same figures with each slice's applicability."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from inference.results import Explanation, MapScores, Prediction
from tests.modules.ai.support import ai_window, brain_volume, show_maps_anyway, wait_maps
from viewer.modules.ai.state import PREDICTED

pytestmark = pytest.mark.gui


def _result(scores, final=True, scored=True):
    from viewer.modules.ai.state import MapResult, ResultTag

    pred = Prediction("m", {"a": 0.3, "b": 0.7}, "b")
    exp = Explanation(np.zeros((4, 4), np.float32), "gradcam", "b", "m", pred, final=final,
                      pass_index=0, passes=2, scores=scores)
    return MapResult(ResultTag("s", 0, "m", "gradcam", "", 1), exp, scored=scored)


def test_score_text_says_times_better_or_no_better_than_random():
    from viewer.modules.ai.overlay_controls import describe_scores

    good = MapScores(0.2, random_deletion_aucs=(0.7, 0.72, 0.68, 0.71, 0.69), vs_random=2.67,
                     better_than_random=True)
    text = describe_scores(_result(good))
    assert "deletion score 0.200" in text and "2.7 × better than random" in text
    assert "2.7 × as much probability away as deleting random maps (their deletion score 0.700)" in text
    bad = MapScores(0.75, random_deletion_aucs=(0.7,) * 5, vs_random=0.83, better_than_random=False)
    text = describe_scores(_result(bad))
    assert "no better than random" in text and "× better" not in text
    coarse = describe_scores(_result(None, final=False))
    assert "no score for a coarse map" in coarse and "deletion score 0" not in coarse
    pending = describe_scores(_result(MapScores(None), scored=False))
    assert "computing" in pending


def test_hirescam_in_the_method_choice_and_on_screen(qtbot, monkeypatch):
    from viewer.modules.ai.state import METHOD_NAMES

    win, ctl = ai_window(qtbot, monkeypatch)
    box = ctl.panel.controls.method_box
    assert [box.itemText(i) for i in range(box.count())] == \
        ["Grad-CAM", "HiResCAM", "Occlusion", "Both side by side"]
    assert METHOD_NAMES["hirescam"] == "HiResCAM"
    ctl.ai.set_model("tumour")
    win.show_volume(brain_volume(n=4, size=64))
    show_maps_anyway(ctl)
    box.setCurrentIndex(box.findData("hirescam"))
    assert ctl.ai.method == "hirescam" and ctl.ai.needed_methods() == ("hirescam",)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    result = ctl.ai.maps["hirescam"]
    assert result.final and result.explanation.method == "hirescam"
    assert result.heat.shape == (64, 64)
    assert win.slice_view.overlay_visible()
    assert "HiResCAM" in ctl.panel.controls.colour_bar.text()
    assert "HiResCAM for" in ctl.panel.controls.scores_label.text()
    assert "HiResCAM" in ctl.caption()


def test_final_map_shown_first_then_its_score_cached_with_it(qtbot, monkeypatch):
    win, ctl = ai_window(qtbot, monkeypatch)
    ai = ctl.ai
    ai.set_model("tumour")
    ai.set_target(PREDICTED)
    ai.set_method("occlusion")
    win.show_volume(brain_volume(n=4, size=64))
    win.state.set_slice(1)      # the tumour: a healthy slice blurred keeps its call, nothing to delete
    seen = []
    ai.maps_changed.connect(lambda: seen.append(
        (m.final, m.scored, m.scores is not None and m.scores.deletion_auc is not None)
        if (m := ai.maps.get("occlusion")) is not None else None))
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    shown = [s for s in seen if s is not None]
    coarse = [s for s in shown if not s[0]]
    assert coarse and not any(s[2] for s in coarse)             # coarse passes: no score
    finals = [s for s in shown if s[0]]
    assert finals[0] == (True, False, False)                    # the map first ...
    assert finals[-1] == (True, True, True)                     # ... then its score
    result = ai.maps["occlusion"]
    assert len(result.scores.random_deletion_aucs) == 5
    text = ctl.panel.controls.scores_label.text()
    assert "better than random" in text                         # "x × better" or "no better"
    from viewer.core.map_cache import cache_key

    assert ctl.cache.get(cache_key(result)) is result            # cached with its scores


def test_findings_report_carries_applicability_and_map_scores(qtbot, monkeypatch, tmp_path):
    from dataclasses import replace

    win, ctl = ai_window(qtbot, monkeypatch)
    ctl.ai.set_model("tumour")
    ctl.ai.set_target(PREDICTED)  # scored against random maps on the tumour slice (see the test above)
    vol = replace(brain_volume(n=4, size=64), orientation="sagittal")
    win.show_volume(vol)
    ctl.act_run_series.trigger()
    qtbot.waitUntil(lambda: ctl.ai.sweep is not None and ctl.ai.sweep.complete, timeout=60000)
    win.state.set_slice(1)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    ws = win.modules["workspace"]
    with qtbot.waitSignal(win.runner.finished, timeout=10000,
                          check_params_cb=lambda key, _rid, _r: key == "export"):
        win.runner.submit("export", ws.report_job(tmp_path / "findings.json"))
    report = json.loads((tmp_path / "findings.json").read_text())
    rows = report["slice_probabilities"]
    assert len(rows) == 4 * 2 and all(r["applicable"] is False for r in rows)
    assert all("sagittal slice; this model reads axial slices" in r["reasons"] for r in rows)
    (score,) = report["map_scores"]
    result = ctl.ai.maps["gradcam"]
    assert (score["slice"], score["method"], score["target"]) == (1, "gradcam", result.target)
    assert score["deletion_auc"] == pytest.approx(result.scores.deletion_auc)
    assert score["vs_random"] == pytest.approx(result.scores.vs_random)
    assert score["random_deletion_auc"] == pytest.approx(
        float(np.mean(result.scores.random_deletion_aucs)))
    assert score["better_than_random"] == result.scores.better_than_random
    assert score["applicable"] is False and score["reasons"]
    table = list(csv.DictReader((tmp_path / "findings.csv").open()))
    probs = [r for r in table if r["record"] == "probability"]
    maps = [r for r in table if r["record"] == "map_score"]
    assert len(probs) == 8 and {r["applicable"] for r in probs} == {"no"}
    assert len(maps) == 1 and maps[0]["method"] == "gradcam" and maps[0]["slice"] == "2"
    assert float(maps[0]["deletion_auc"]) == pytest.approx(result.scores.deletion_auc, rel=1e-5)

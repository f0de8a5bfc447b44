"""Teaching never reveals an out-of-domain call as if it were valid: when a case's key slice lies
outside its model's domain, the quiz reveal shows the notice with its reason - no answer, no
probability bars, no heat map - and the session records no AI answer, only the reason."""
from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from tests.modules.teaching.conftest import write_tiny_model

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def sagittal_only_cases(tmp_path_factory):
    """The first case of the teaching set (axial slices), its model's manifest saying it reads
    sagittal slices only: every call on the case is out of the model's domain."""
    from viewer.modules.teaching.caselist import load_case_list
    from viewer.modules.teaching.demo_set import ensure_demo_set

    root = tmp_path_factory.mktemp("teach-ood")
    cl = load_case_list(ensure_demo_set(root=root / "set"))
    first = cl.cases[0]
    manifest = write_tiny_model(root, first.model)
    data = json.loads(manifest.read_text())
    data["domain"] = {"planes": ["sagittal"]}
    manifest.write_text(json.dumps(data))
    return replace(cl, cases=(replace(first, model=str(manifest)),))


def test_quiz_reveal_of_out_of_domain_case_shows_notice_not_an_answer(
        qtbot, sagittal_only_cases, tmp_path):
    from viewer.app import create_main_window

    win = create_main_window()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    t = win.modules["teaching"].controller
    out = tmp_path / "session.csv"
    case = sagittal_only_cases.cases[0]
    try:
        with qtbot.waitSignals([t.case_shown, t.ai_ready], timeout=30000):
            t.start_quiz(sagittal_only_cases, out, methods=("gradcam",), reader="Dr Q")
        ai = t.ai[case.case_id]
        assert ai.prediction is not None and not ai.applicable       # the model did run
        assert ai.call == "" and ai.call_probability is None
        qtbot.keyClick(win.slice_view, Qt.Key.Key_1)
        qtbot.keyClick(win.slice_view, Qt.Key.Key_Return)
        qtbot.keyClick(win.slice_view, Qt.Key.Key_Space)             # reveal
        assert t.session.record.revealed and not t.panel.ai_box.isHidden()
        title = t.panel.ai_title.text()
        assert "no answer" in title and "Outside this model's domain" in title
        assert "axial slice; this model reads sagittal slices" in title
        assert ai.predicted not in title.split("Outside")[0].replace(ai.model, "")
        assert t.panel.bar_widgets == []                             # no probability bars
        assert t.current_heat() is None and not win.slice_view.overlay_visible()
        assert t.panel.pointing_label.isHidden()
        with qtbot.waitSignal(t.session_written, timeout=30000):
            t.panel.end_button.click()
    finally:
        win.runner.shutdown(3000)
    row = next(csv.DictReader(out.open()))
    assert row["ai_answer"] == "" and row["ai_probability"] == "" and row["ai_correct"] == ""
    assert "Outside this model's domain" in row["ai_error"]


def test_presenter_text_and_replay_give_no_out_of_domain_answer(sagittal_only_cases):
    from viewer.modules.ai.service import ModelPool
    from viewer.modules.teaching.ai import key_slice, load_case_volume, run_case_ai
    from viewer.modules.teaching.ai_view import ai_view

    case = sagittal_only_cases.cases[0]
    volume = load_case_volume(case)
    ai = run_case_ai(case, volume, key_slice(case, volume.n_slices), ("gradcam",),
                     ModelPool("cpu"))
    assert not ai.applicable and ai.maps                  # a map exists but is never shown
    view = ai_view(ai)
    assert view.predicted == "" and view.probabilities == {} and view.methods == ()
    assert view.notice.startswith("Outside this model's domain: axial slice")
    assert ai.note == view.notice

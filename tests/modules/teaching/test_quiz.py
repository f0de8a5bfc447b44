"""A whole quiz session driven through the GUI with keys: the AI stays hidden until an answer is
recorded, then prediction and heat map appear; helpfulness, revision, next; the session CSV and
summary are checked. Also presenter mode's show/hide key and the 'add current slice' dialog."""
from __future__ import annotations

import csv
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from tests.modules.teaching.conftest import write_tiny_model

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """The first three cases of the teaching set, with tiny random models."""
    from viewer.modules.teaching.caselist import load_case_list
    from viewer.modules.teaching.demo_set import ensure_demo_set

    root = tmp_path_factory.mktemp("teach")
    models = {t: str(write_tiny_model(root, t)) for t in ("tumour", "ct-lesion")}
    cl = load_case_list(ensure_demo_set(root=root / "set"))
    return replace(cl, cases=tuple(replace(c, model=models[c.model]) for c in cl.cases[:3]))


@pytest.fixture
def app_window(qtbot):
    from viewer.app import create_main_window

    win = create_main_window()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    yield win
    win.runner.shutdown(3000)


def _key(qtbot, win, key, mods=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(win.slice_view, key, mods)


def _hidden(win, t) -> bool:
    return not win.slice_view.overlay_visible() and t.panel.ai_box.isHidden() and \
        t.panel.ai_title.text() == "" and t.current_heat() is None


def test_quiz_session_by_keyboard(qtbot, app_window, cases, tmp_path):
    win, t = app_window, app_window.modules["teaching"].controller
    out = tmp_path / "session.csv"
    with qtbot.waitSignals([t.case_shown, t.ai_ready], timeout=30000):
        t.start_quiz(cases, out, methods=("gradcam",), reader="Dr Q")
    assert win.state.anonymise and "Anonymised" in win.windowTitle()
    assert win.state.slice_index == cases.cases[0].slice - 1
    # The AI result has arrived but nothing of it shows before an answer.
    assert cases.cases[0].case_id in t.ai and _hidden(win, t)
    _key(qtbot, win, Qt.Key.Key_Space)                      # reveal refused: no answer yet
    assert _hidden(win, t) and t.session.phase.value == "unanswered"
    first = cases.cases[0]
    wrong = 1 - first.options.index(first.truth)
    _key(qtbot, win, getattr(Qt.Key, f"Key_{wrong + 1}"))
    _key(qtbot, win, Qt.Key.Key_Period)                     # confidence 3 -> 4
    _key(qtbot, win, Qt.Key.Key_Return)
    assert t.session.record.answer_before == first.options[wrong]
    assert t.session.record.confidence_before == 4
    assert _hidden(win, t)                                  # answered, still hidden
    _key(qtbot, win, Qt.Key.Key_Space)
    assert not t.panel.ai_box.isHidden() and win.slice_view.overlay_visible()
    assert t.panel.ai_title.text().startswith("AI (tiny-")
    _key(qtbot, win, Qt.Key.Key_C)                          # helpful: yes
    _key(qtbot, win, getattr(Qt.Key, f"Key_{first.options.index(first.truth) + 1}"))
    assert t.panel.record_button.text().startswith("Record revised")
    _key(qtbot, win, Qt.Key.Key_Return)                     # revise to the truth
    _key(qtbot, win, Qt.Key.Key_Return)                     # finish: truth and notes shown
    assert t.session.record.phase.value == "closed"
    assert not t.panel.truth_box.isHidden() and first.truth in t.panel.truth_label.text()
    # Scrolling away hides the map; coming back shows it again.
    _key(qtbot, win, Qt.Key.Key_Down)
    assert not win.slice_view.overlay_visible()
    _key(qtbot, win, Qt.Key.Key_Up)
    assert win.slice_view.overlay_visible()
    # Case 2: the map of case 1 is gone; answer right, reveal, rate "not", next.
    with qtbot.waitSignal(t.case_shown, timeout=30000):
        _key(qtbot, win, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert _hidden(win, t) and t.panel.case_label.text() == "Case 2 of 3"
    second = cases.cases[1]
    _key(qtbot, win, getattr(Qt.Key, f"Key_{second.options.index(second.truth) + 1}"))
    _key(qtbot, win, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: second.case_id in t.ai, timeout=30000)
    _key(qtbot, win, Qt.Key.Key_Space)
    _key(qtbot, win, Qt.Key.Key_Z)
    with qtbot.waitSignal(t.case_shown, timeout=30000):
        _key(qtbot, win, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    # Case 3 is left unanswered; the session ends with the button.
    with qtbot.waitSignal(t.session_written, timeout=30000):   # written in the background
        t.panel.end_button.click()
    assert not t.active and not win.state.anonymise
    rows = list(csv.DictReader(out.open()))
    assert [r["case"] for r in rows] == [c.case_id for c in cases.cases]
    r1, r2, r3 = rows
    assert (r1["correct_before"], r1["correct_after"], r1["changed"]) == ("no", "yes", "yes")
    assert (r1["helpfulness"], r1["confidence_before"], r1["revealed"]) == ("yes", "4", "yes")
    assert r1["ai_answer"] in first.options and float(r1["seconds_total"]) > 0
    assert (r2["correct_before"], r2["helpfulness"], r2["changed"]) == ("yes", "not", "no")
    assert r3["answer_before"] == "" and r3["revealed"] == "no"
    summary = (tmp_path / "session-summary.csv").read_text()
    assert "Cases answered,2 of 3" in summary
    assert "Reader accuracy before AI (revealed cases),50.0 % (1/2" in summary
    assert "Reader accuracy after AI (revealed cases),100.0 % (2/2" in summary
    assert "<svg" in (tmp_path / "session-report.html").read_text()
    # Keys are given back: the window presets own 1-9 again.
    assert any(s.toString() == "1" for s in win.slice_view.preset_actions[1].shortcuts())


def test_presenter_mode_hides_panels_and_toggles_ai(qtbot, app_window, cases):
    win, t = app_window, app_window.modules["teaching"].controller
    p = t.start_presenter(cases, full_screen=False)
    qtbot.waitUntil(lambda: cases.cases[0].case_id in p.ai, timeout=30000)
    assert not win.menuBar().isVisible() and not win.statusBar().isVisible()
    assert p.mode.legend is not None and not win.slice_view.overlay_visible()
    assert win.state.anonymise
    _key(qtbot, win, Qt.Key.Key_Space)
    assert p.mode.ai_visible and win.slice_view.overlay_visible()
    assert p.mode.legend.ai_label.text().startswith("AI:")
    _key(qtbot, win, Qt.Key.Key_Space)
    assert not win.slice_view.overlay_visible()
    _key(qtbot, win, Qt.Key.Key_T)
    assert cases.cases[0].truth in p.mode.legend.truth_label.text()
    # the legend, grown by the answer, stays clear of the image
    view = win.slice_view
    scene = view.view_box.mapViewToScene(view.image_rect()).boundingRect()
    image_on_screen = view.canvas.mapFromScene(scene).boundingRect()
    assert not p.mode.legend.geometry().intersects(image_on_screen)
    assert not view.crosshair_visible()                      # no lines across a teaching image
    _key(qtbot, win, Qt.Key.Key_Escape)
    assert not p.mode.active and win.menuBar().isVisible() and not win.state.anonymise


def test_add_current_slice_dialog_appends_a_case(qtbot, app_window, cases, tmp_path):
    from viewer.modules.teaching.ai import load_case_volume
    from viewer.modules.teaching.caselist import load_case_list

    win = app_window
    case = cases.cases[0]
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        win.open_paths([case.study])
    win.state.set_slice(2)
    dialog = win.modules["teaching"].teaching_menu.add_current_slice()
    target = tmp_path / "mine.json"
    dialog.list_edit.setText(str(target))
    dialog.question_edit.setText("Tumour?")
    dialog.options_edit.setText("no tumour | tumour")
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert ok.isEnabled()
    dialog.options_edit.setText("only one")
    assert not ok.isEnabled() and "at least 2" in dialog.problem_label.text()
    dialog.options_edit.setText("no tumour | tumour")
    dialog.truth_box.setCurrentText("tumour")
    dialog.accept()
    qtbot.waitUntil(target.exists, timeout=10000)
    saved = load_case_list(target).cases[0]
    assert (saved.slice, saved.truth, saved.options) == (3, "tumour", ("no tumour", "tumour"))
    assert load_case_volume(saved).n_slices == 7


def test_f5_during_a_quiz_keeps_the_quiz_and_the_anonymisation(qtbot, app_window, cases,
                                                               tmp_path):
    win, t = app_window, app_window.modules["teaching"].controller
    menu = app_window.modules["teaching"].teaching_menu
    with qtbot.waitSignal(t.case_shown, timeout=30000):
        t.start_quiz(cases, tmp_path / "s.csv")
    menu.act_present_demo.trigger()                         # F5: presenter mode
    assert "quiz is running" in win.statusBar().currentMessage()
    qtbot.wait(300)
    assert t.active and t.panel is not None and not t.panel.isHidden()
    assert win.state.anonymise and "Anonymised" in win.windowTitle()
    assert t.presenter is None or not t.presenter.mode.active


def test_next_case_starts_at_the_default_confidence(qtbot, app_window, cases, tmp_path):
    from viewer.modules.teaching.session import DEFAULT_CONFIDENCE

    win, t = app_window, app_window.modules["teaching"].controller
    with qtbot.waitSignal(t.case_shown, timeout=30000):
        t.start_quiz(cases, tmp_path / "s.csv")
    _key(qtbot, win, Qt.Key.Key_1)
    _key(qtbot, win, Qt.Key.Key_Period)                    # more confident
    _key(qtbot, win, Qt.Key.Key_Period)
    assert t.panel.confidence.value() == DEFAULT_CONFIDENCE + 2
    with qtbot.waitSignal(t.case_shown, timeout=30000):
        _key(qtbot, win, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert t.panel.confidence.value() == DEFAULT_CONFIDENCE
    t.end_quiz(write=False)

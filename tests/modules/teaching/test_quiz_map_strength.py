"""The quiz says why a revealed map shows little or nothing: a detector's map of its finding is
drawn as strong as its evidence (the viewer's rule), so on a case without a tumour the reveal
line reads "faint or not drawn, as the model found little sign of tumour here (..)"; a case with
one shows where its strongest spot lies and no such line."""
from __future__ import annotations

import pytest

from tests.modules.ai.support import use_demo_models


@pytest.fixture(scope="module")
def demo_cases(tmp_path_factory):
    from viewer.modules.teaching.caselist import load_case_list
    from viewer.modules.teaching.demo_set import ensure_demo_set

    return load_case_list(ensure_demo_set(root=tmp_path_factory.mktemp("teach-strength") / "set"))


def test_reveal_explains_faint_maps_of_cases_without_a_finding(demo_cases, monkeypatch):
    use_demo_models(monkeypatch, ("tumour",))
    from viewer.modules.ai.service import ModelPool
    from viewer.modules.teaching.ai import key_slice, load_case_volume, run_case_ai
    from viewer.modules.teaching.ai_view import ai_view

    pool = ModelPool("cpu")
    seen = {}
    for case in demo_cases.cases:
        if case.model != "tumour" or case.target:
            continue
        volume = load_case_volume(case)
        ai = run_case_ai(case, volume, key_slice(case, volume.n_slices), ("gradcam",), pool)
        if not ai.applicable or ai.prediction is None:
            continue
        assert ai.target == "tumour"                         # the finding, as in the viewer
        view = ai_view(ai)
        exp = ai.explanations["gradcam"]
        faint = float(exp.map.max()) < exp.reference
        seen.setdefault(ai.predicted, []).append(faint)
        if faint:
            assert view.strength["gradcam"].startswith(
                "faint or not drawn, as the model found little sign of tumour here (its evidence")
        else:
            assert "gradcam" not in view.strength
    assert seen.get("no tumour") and all(seen["no tumour"])  # negative calls: faint, said so
    assert seen.get("tumour") and not any(seen["tumour"])    # called findings: full strength


def test_navigation_and_end_stay_in_view_below_a_long_reveal(qtbot):
    from PySide6.QtCore import QPoint

    from viewer.modules.teaching.ai_view import AiView
    from viewer.modules.teaching.quiz_panel import QuizPanel

    panel = QuizPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 420)                      # a short panel, as beside a maximised image
    panel.show()
    panel.set_case(4, 8, "Case 4", "Is there a tumour?", ("no tumour", "tumour"))
    panel.show_ai(AiView("tumour", "no tumour", {"no tumour": 0.927, "tumour": 0.073},
                         ("gradcam", "occlusion"), {"gradcam": "its strongest spot is away"},
                         strength={"gradcam": "faint or not drawn, as the model found little "
                                              "sign of tumour here (its evidence is 21 % of a "
                                              "weak tumour's)"}))
    qtbot.wait(50)
    assert panel.scroll.verticalScrollBar().maximum() > 0          # the case itself scrolls ...
    for button in (panel.prev_button, panel.next_button, panel.end_button):
        top = button.mapTo(panel, QPoint(0, 0)).y()                 # ... the buttons do not
        assert button.isVisible() and 0 <= top and top + button.height() <= panel.height()

"""The quiz says why a revealed map shows little or nothing: a detector's map of its finding is
drawn as strong as its evidence (the viewer's rule), so on a case without a tumour the reveal
line reads "faint or not drawn: the model found little sign of tumour here (..)"; a case with
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
                "faint or not drawn: the model found little sign of tumour here (")
        else:
            assert "gradcam" not in view.strength
    assert seen.get("no tumour") and all(seen["no tumour"])  # negative calls: faint, said so
    assert seen.get("tumour") and not any(seen["tumour"])    # called findings: full strength

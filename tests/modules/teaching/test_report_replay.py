"""Session files say what they claim; the teaching set; headless replay ('first' and a JSON file)."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from inference.results import Explanation, Prediction
from tests.modules.teaching.test_summary import RECORDS
from viewer.modules.ai.service import ModelPool
from viewer.modules.teaching.replay import AnswersError, load_answers, replay
from viewer.modules.teaching.report import SESSION_FIELDS, html_report, write_session
from viewer.modules.teaching.summary import summarise


def test_report_files_contain_the_table_plots_and_matrices(tmp_path):
    s = summarise(RECORDS, "Dr A", [("no tumour", "tumour")] * 6)
    paths = write_session(RECORDS, s, tmp_path / "out" / "s.csv", answers={"answers": []})
    assert set(paths) == {"session", "summary", "report", "report_pdf", "answers"}
    rows = list(csv.DictReader(paths["session"].open()))
    assert list(rows[0]) == list(SESSION_FIELDS) and len(rows) == 6
    assert rows[1]["changed"] == "yes" and rows[1]["correct_before"] == "no"
    assert rows[4]["revealed"] == "no" and rows[4]["answer_after"] == ""
    summary = paths["summary"].read_text()
    assert "Reader accuracy after AI (revealed cases),60.0 % (3/5" in summary
    assert "Confusion matrix: AI" in summary and "tumour,1,2" in summary
    page = paths["report"].read_text()
    assert page.count("<svg") == 2 and "Dr A" in page and "demo weights" in page
    assert "60 %" in page                   # accuracy bar label
    assert ">66.7 % (4/6; 95 % CI 30.0-90.3)<" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained
    assert "no tumour" in html_report(s, RECORDS, demo=False) and "demo weights" not in \
        html_report(s, RECORDS, demo=False)


def test_teaching_set_is_anonymous_balanced_and_has_truth_masks(demo_root):
    from viewer.io import discover
    from viewer.modules.teaching.caselist import load_case_list

    cases = load_case_list(demo_root)
    assert len(cases) == 8
    truths = [c.truth for c in cases.cases]
    assert truths.count("tumour") == 2 and truths.count("no tumour") == 2
    assert truths.count("lesion") == 2 and truths.count("no lesion") == 2
    for c in cases.cases:
        mask = np.load(c.mask)
        positive = c.truth in ("tumour", "lesion")
        assert mask[c.slice - 1].sum() >= 60 if positive else not mask.any()
        info = discover(c.study).series[0]
        assert info.patient.name.startswith("TEACHING^")
        words = (info.description + info.study_description).lower()
        assert "tumour" not in words and "lesion" not in words  # no hint at the answer


def test_replay_first_runs_the_ai_on_every_case(demo_cases, tmp_path):
    result = replay(demo_cases, ModelPool())
    records = result.session.records()
    assert len(records) == 8 and result.session.finished
    for case, rec in zip(demo_cases.cases, records):
        ai = result.ai[case.case_id]
        assert ai.ok, ai.error
        assert rec.answer_before == case.options[0] and rec.revealed
        assert rec.ai_answer in case.options and ai.predicted == rec.ai_answer
        heat = ai.maps["gradcam"]
        assert heat.shape == (128, 128) and heat.dtype == np.float32
        assert set(ai.pointing) == ({"gradcam"} if case.truth in ("tumour", "lesion") else set())
        # the classifier's own records, scored once by inference (no teaching copy)
        assert type(ai.prediction) is Prediction and type(ai.explanations["gradcam"]) is Explanation
        for p in ai.pointing.values():
            assert p.tolerance_px == pytest.approx(15 * 128 / 224)
    s = summarise(records, "", [c.options for c in demo_cases.cases])
    assert s.accuracy_before_all.k == 4  # the first option is right for the 4 normal cases
    assert s.ai_accuracy.n == 8


def test_replay_from_answers_file(demo_cases, tmp_path):
    ids = [c.case_id for c in demo_cases.cases]
    doc = {"reader": "Dr B", "answers": [
        {"case": ids[0], "answer": demo_cases.cases[0].truth, "confidence": 5,
         "seconds_to_answer": 12.5, "helpfulness": "yes", "seconds_after_reveal": 4},
        {"case": ids[1], "answer": demo_cases.cases[1].options[1], "confidence": 2,
         "revised": demo_cases.cases[1].options[0], "confidence_after": 4,
         "helpfulness": "not", "seconds_to_answer": 30},
        {"case": ids[2], "answer": demo_cases.cases[2].options[0], "reveal": False}]}
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(doc))
    result = replay(demo_cases, ModelPool(), load_answers(path), methods=("gradcam", "occlusion"))
    recs = result.session.records()
    assert result.session.reader == "Dr B"
    assert recs[0].correct_before and recs[0].helpfulness == "yes"
    assert (recs[0].seconds_to_answer, recs[0].seconds_after_reveal) == (12.5, 4.0)
    assert recs[1].changed and recs[1].confidence_after == 4 and recs[1].helpfulness == "not"
    assert recs[2].answered and not recs[2].revealed
    assert not recs[3].answered
    assert set(result.ai[ids[0]].maps) == {"gradcam", "occlusion"}
    again = result.session.answers_json()
    assert [a["case"] for a in again["answers"]] == ids[:3]


def test_answers_that_do_not_fit_the_list_are_refused(demo_cases, tmp_path):
    bad = {"answers": [{"case": "nope", "answer": "x"},
                       {"case": demo_cases.cases[0].case_id, "answer": "maybe"}]}
    with pytest.raises(AnswersError) as info:
        replay(demo_cases, ModelPool(), bad)
    assert "no case 'nope'" in str(info.value) and "'maybe' is not an option" in str(info.value)
    (tmp_path / "x.json").write_text("[1,")
    with pytest.raises(AnswersError, match="not valid JSON"):
        load_answers(tmp_path / "x.json")

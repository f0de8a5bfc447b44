"""Case lists: JSON and CSV parsing, every bad row reported with a clear reason, round trips."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from viewer.modules.teaching.caselist import (
    Case,
    CaseList,
    CaseListError,
    append_case,
    load_case_list,
    parse_csv,
    save_case_list,
)


@pytest.fixture
def study(tmp_path) -> Path:
    folder = tmp_path / "studies" / "brain1"
    folder.mkdir(parents=True)
    return folder


def test_json_list_resolves_paths_and_ranges(tmp_path, study):
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"title": "Neuro", "cases": [
        {"id": "a", "study": "studies/brain1", "slice": 12, "range": [10, 14],
         "question": "Tumour?", "options": ["no tumour", "tumour"], "truth": "TUMOUR",
         "notes": "ring", "model": "tumour"}]}))
    cl = load_case_list(path)
    assert cl.title == "Neuro" and len(cl) == 1
    c = cl.cases[0]
    assert c.study == str(study)
    assert (c.slice, c.slice_range) == (12, (10, 14))
    assert c.truth == "tumour"  # normalised to the option's spelling
    assert c.option_index("Tumour") == 1 and c.option_index("maybe") == -1


def test_csv_bad_rows_each_reported_with_row_number(tmp_path, study):
    text = ("id,study,slice,range,question,options,truth\n"
            "ok,studies/brain1,3,,Tumour?,no tumour|tumour,tumour\n"
            "b,studies/brain1,3,,Tumour?,no tumour|tumour,tumor\n"
            "c,studies/missing,3,,Tumour?,no tumour|tumour,tumour\n"
            "d,studies/brain1,x,,Tumour?,only one,only one\n"
            "ok,studies/brain1,9,2-5,Tumour?,a|b,a\n"
            "e,studies/brain1,3,,Tumour?,a|b|c|d|e|f|g|h|i|j,a\n"
            "f,studies/brain1,3,,Tumour, or not?,a|b,a\n")
    (tmp_path / "list.csv").write_text(text)
    with pytest.raises(CaseListError) as info:
        load_case_list(tmp_path / "list.csv")
    problems = info.value.problems
    joined = "\n".join(problems)
    assert len(problems) == 6, joined
    assert "row 3 (case 'b'): the true label 'tumor' is not one of the answer options" in joined
    assert "row 4 (case 'c'): the study" in joined and "does not exist" in joined
    assert "row 5" in joined and "whole number" in joined and "at least 2 answer options" in joined
    assert any(p.startswith("row 6 (case 'ok')") and "slice 9 lies outside its range 2-5" in p
               for p in problems)
    assert "row 7" in joined and "at most 9" in joined
    assert "row 8" in joined and "double quotes" in joined
    assert str(tmp_path / "list.csv") in str(info.value)


def test_duplicate_ids_and_missing_columns(tmp_path, study):
    text = ("id,study,question,options,truth\n"
            "a,studies/brain1,Q?,x|y,x\n"
            "a,studies/brain1,Q?,x|y,y\n")
    with pytest.raises(CaseListError, match="row 3 .*already used by row 2"):
        parse_csv(text, str(tmp_path / "l.csv"), tmp_path)
    with pytest.raises(CaseListError, match="lacks the column.*truth"):
        parse_csv("id,study,question,options\n", "l.csv", tmp_path)
    with pytest.raises(CaseListError, match="unknown column"):
        parse_csv("id,study,question,options,truth,colour\n", "l.csv", tmp_path)


def test_bad_json_names_the_position(tmp_path):
    (tmp_path / "l.json").write_text('{"cases": [ {"id": 1,, ]}')
    with pytest.raises(CaseListError, match="not valid JSON.*line 1"):
        load_case_list(tmp_path / "l.json")
    with pytest.raises(CaseListError, match="has no cases"):
        (tmp_path / "e.json").write_text('{"cases": []}')
        load_case_list(tmp_path / "e.json")


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_round_trip_and_append(tmp_path, study, suffix):
    case = Case("c1", str(study), "Tumour?", ("no tumour", "tumour"), "tumour", slice=4,
                slice_range=(2, 6), notes="a, b", model="tumour")
    path = save_case_list(CaseList("T", (case,)), tmp_path / f"l{suffix}")
    raw = path.read_text()
    assert "studies/brain1" in raw and str(tmp_path) not in raw  # stored relative
    back = load_case_list(path)
    assert back.cases[0] == case
    second = Case("c2", str(study), "Q?", ("a", "b"), "b")
    cl = append_case(path, second)
    assert [c.case_id for c in cl.cases] == ["c1", "c2"]
    assert [c.case_id for c in load_case_list(path).cases] == ["c1", "c2"]
    new = append_case(tmp_path / f"new{suffix}", second, title="Fresh")
    assert len(new) == 1 and load_case_list(tmp_path / f"new{suffix}").cases[0] == second

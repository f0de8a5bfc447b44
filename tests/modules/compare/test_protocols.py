"""Hanging-protocol matching (Qt-free): knee MR -> three planes, brain MR -> T1 | T1c | T2 | FLAIR,
CT -> one view with the abdomen window; user rules first; JSON round trip; priors by PatientID."""
from __future__ import annotations

import pytest

from viewer.io.records import PatientInfo, SeriesInfo
from viewer.modules.compare import protocols as hp


def series(desc: str, modality: str = "MR", study: str = "S1", study_desc: str = "",
           orientation: str = "axial", pid: str = "P1", date: str = "20240101",
           uid: str | None = None) -> SeriesInfo:
    return SeriesInfo(uid=uid or f"{study}-{desc}", series_instance_uid=uid or desc,
                      study_instance_uid=study, modality=modality, description=desc,
                      study_description=study_desc, patient=PatientInfo(patient_id=pid),
                      files=("a",), rows=4, columns=4, orientation=orientation, study_date=date)


def test_knee_mr_hangs_in_three_planes():
    study = [series("PD sag fs", study_desc="MRI KNEE LEFT", orientation="sagittal")]
    assert [p.layout for p in hp.matching(study)] == ["1x3"]


def test_brain_mr_places_t1_t1c_t2_flair():
    study = [series(d, study_desc="MR Brain w/wo") for d in
             ("T2 FLAIR ax", "T1 ax post Gd", "T2 tse ax", "T1 se ax", "DWI")]
    proto = hp.matching(study)[0]
    assert proto.layout == "compare"
    assert [s.description for s in proto.assign(study)] == [
        "T1 se ax", "T1 ax post Gd", "T2 tse ax", "T2 FLAIR ax"]


def test_ct_gets_one_view_with_abdomen_window():
    proto = hp.matching([series("Abd 5mm", modality="CT")])[0]
    assert (proto.layout, proto.window) == ("1", "Abdomen")


def test_nothing_matches_an_unknown_mr_study():
    assert hp.matching([series("localizer", study_desc="Shoulder")]) == []


def test_user_rules_come_first_and_survive_json(tmp_path):
    rule = hp.Protocol("Shoulder", "MR", ("shoulder",), "conventional",
                       (hp.Slot("pd", "coronal"),))
    hp.save_rules(tmp_path, [rule])
    assert hp.load_rules(tmp_path) == [rule]
    study = [series("PD cor", study_desc="Shoulder", orientation="coronal")]
    assert hp.matching(study, [rule])[0] is rule


def test_bad_layout_is_refused():
    with pytest.raises(ValueError, match="layout"):
        hp.rules_from_json('[{"name": "x", "layout": "9x9"}]')


def test_priors_are_earlier_studies_of_the_same_patient_most_similar_first():
    cur = series("T1 ax", study="NOW", date="20240501")
    older = [series("T2 ax", study="OLD", date="20230101"),
             series("T1 ax", study="OLD", date="20230101"),
             series("T1 ax", study="OLDER", date="20200101"),
             series("T1 ax", study="OTHER", pid="P2", date="20230101"),
             series("T1 ax", study="LATER", date="20250101")]
    found = hp.priors(cur, [cur, *older])
    assert [(s.study_instance_uid, s.description) for s in found] == [
        ("OLD", "T1 ax"), ("OLD", "T2 ax"), ("OLDER", "T1 ax")]

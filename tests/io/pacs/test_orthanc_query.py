"""Search through the real Orthanc by QIDO-RS and C-FIND: every filter, series with counts,
C-ECHO / QIDO ping. The oracle is what the fixture stored (tests/pacs_server.py)."""
from __future__ import annotations

import pytest

from tests.pacs_server import PASSWORD, route_servers
from viewer.io.pacs import StudyQuery, open_client

PROTOCOLS = ("wado-rs", "c-get")  # one DICOMweb and one DIMSE server entry


@pytest.fixture(params=PROTOCOLS)
def client(request, orthanc):
    server = route_servers(orthanc.server)[request.param]
    with open_client(server, PASSWORD) as c:
        yield c


def _uids(studies):
    return {s.study_uid for s in studies}


def test_echo(client):
    assert "answered" in client.echo()


def test_every_filter(client, orthanc):
    brain, ct, big = orthanc.brain_t1, orthanc.abdomen, orthanc.big
    seeded = {brain.study_uid, ct.study_uid, big.study_uid}
    assert seeded <= _uids(client.find_studies(StudyQuery()))
    cases = {
        StudyQuery(patient_name="doe"): {brain.study_uid},          # prefix, any case
        StudyQuery(patient_name="*ichar*"): {ct.study_uid},
        StudyQuery(patient_id="PAT002"): {ct.study_uid},
        StudyQuery(date="20230101-20231231"): {ct.study_uid},
        StudyQuery(date="20240101-"): {brain.study_uid},
        StudyQuery(date="-20220331"): {big.study_uid},
        StudyQuery(modality="CT"): {ct.study_uid},
        StudyQuery(accession="ACC003"): {big.study_uid},
        StudyQuery(description="abdomen"): {ct.study_uid},
        StudyQuery(study_uid=brain.study_uid): {brain.study_uid},
        StudyQuery(series_uid=orthanc.brain_t2.series_uid): {brain.study_uid},
        StudyQuery(patient_id="PAT001", modality="CT"): set(),
    }
    for query, expected in cases.items():
        assert _uids(client.find_studies(query)) & seeded == expected, query


def test_study_record_fields(client, orthanc):
    (study,) = client.find_studies(StudyQuery(patient_id="PAT001"))
    assert study.patient.name == "Doe^Jane" and study.accession == "ACC001"
    assert study.date == "20240115" and study.description == "Brain MRI"
    assert study.modalities == ("MR",) and study.n_series == 2 and study.n_instances == 20


def test_series_with_counts(client, orthanc):
    series = client.find_series(orthanc.brain_t1.study_uid)
    assert [(s.description, s.number, s.n_instances, s.modality) for s in series] == [
        ("T1 axial", 1, 12, "MR"), ("T2 axial", 2, 8, "MR")]
    assert sorted(client.find_instances(orthanc.brain_t2.study_uid, orthanc.brain_t2.series_uid)) \
        == sorted(orthanc.brain_t2.sop_uids)

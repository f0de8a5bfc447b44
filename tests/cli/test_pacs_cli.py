"""``slicewise pacs echo|find|get`` against the real Orthanc of tests/pacs_server.py: exit
statuses, one-line errors, --json, resume, no password in any output."""
from __future__ import annotations

import json

import pytest

from tests.pacs_server import PASSWORD, USER, orthanc  # noqa: F401 (fixture)
from viewer.cli.main import run


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch, tmp_path):
    import keyring

    from viewer.io.pacs import secrets

    monkeypatch.setattr(keyring, "get_password", lambda *a: None)
    monkeypatch.setenv("SLICEWISE_PACS_CONFIG", str(tmp_path / "pacs.toml"))
    monkeypatch.setenv("SLICEWISE_PACS_CACHE", str(tmp_path / "cache"))
    secrets.clear_session()
    yield
    secrets.clear_session()


def _web(orthanc, password=PASSWORD):  # noqa: F811
    port = orthanc.server.http_port
    return f"http://{USER}:{password}@127.0.0.1:{port}/dicom-web"


def test_echo_both_protocols(orthanc, capsys):  # noqa: F811
    assert run(["pacs", "echo", _web(orthanc)]) == 0
    assert run(["pacs", "echo", orthanc.server.dimse_url, "--json"]) == 0
    out = capsys.readouterr().out
    assert "answered QIDO-RS" in out and json.loads(out.splitlines()[-1])["ok"] is True
    assert PASSWORD not in out


def test_find_with_filters_json(orthanc, capsys):  # noqa: F811
    assert run(["pacs", "find", orthanc.server.dimse_url, "--patient-id", "PAT001",
                "--date", "2024-01-01-2024-12-31", "--study", orthanc.brain_t1.study_uid,
                "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (study,) = data["studies"]
    assert study["patient_name"] == "Doe^Jane" and study["series"] == 2
    assert [s["instances"] for s in study["series_list"]] == [12, 8]


def test_find_no_match_is_success(orthanc, capsys):  # noqa: F811
    assert run(["pacs", "find", _web(orthanc), "--accession", "NOPE"]) == 0
    assert "No study matches" in capsys.readouterr().out


def test_get_then_get_again_fetches_nothing(orthanc, tmp_path, capsys):  # noqa: F811
    out_dir = tmp_path / "out"
    ct = orthanc.abdomen
    args = ["pacs", "get", _web(orthanc), "--study", ct.study_uid, "--out", str(out_dir), "--json"]
    assert run(args) == 0
    first = json.loads(capsys.readouterr().out)["retrieved"][0]
    assert (first["fetched"], first["missing"]) == (10, 0)
    assert len(list(out_dir.rglob("*.dcm"))) == 10
    assert run(args) == 0
    second = json.loads(capsys.readouterr().out)["retrieved"][0]
    assert (second["fetched"], second["already"]) == (0, 10)


def test_get_series_by_c_get(orthanc, tmp_path, capsys):  # noqa: F811
    t2 = orthanc.brain_t2
    assert run(["pacs", "get", orthanc.server.dimse_url, "--study", t2.study_uid,
                "--series", t2.series_uid, "--out", str(tmp_path / "o")]) == 0
    assert len(list((tmp_path / "o").rglob("*.dcm"))) == 8


@pytest.mark.parametrize("argv_tail, words", [
    (["--date", "last week"], "--date"),
    ([], "needs a filter"),
    (["--patient-name", "*"], "studies match"),
])
def test_get_refusals_are_one_line(orthanc, capsys, argv_tail, words):  # noqa: F811
    assert run(["pacs", "get", _web(orthanc), *argv_tail]) == 1
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_wrong_password_one_line_no_secret(orthanc, capsys):  # noqa: F811
    assert run(["pacs", "find", _web(orthanc, "Wrong-Pw-777")]) == 1
    captured = capsys.readouterr()
    assert "401" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "Wrong-Pw-777" not in captured.err + captured.out


def test_unknown_server_name(capsys):
    assert run(["pacs", "echo", "nosuch"]) == 1
    assert "No PACS server named 'nosuch'" in capsys.readouterr().err


def test_configured_server_with_password_from_environment(orthanc, monkeypatch, capsys):  # noqa: F811
    from viewer.io.pacs import PacsServer, save_servers

    save_servers([PacsServer("lab", url=orthanc.server.url, auth="basic", username=USER)])
    assert run(["pacs", "echo", "lab"]) == 1
    assert "SLICEWISE_PACS_PASSWORD_LAB" in capsys.readouterr().err
    monkeypatch.setenv("SLICEWISE_PACS_PASSWORD_LAB", PASSWORD)
    assert run(["pacs", "echo", "lab"]) == 0

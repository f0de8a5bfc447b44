"""Server list, URLs, date ranges and secrets: no server needed."""
from __future__ import annotations

import pytest

from viewer.io.pacs import (
    PacsConfigError,
    PacsServer,
    get_secret,
    load_servers,
    parse_date_range,
    resolve_server,
    save_servers,
    server_from_url,
)
from viewer.io.pacs.config import strip_credentials
from viewer.io.pacs.query import StudyQuery
from viewer.io.pacs.secrets import env_name, remember_for_session, store_secret


def test_server_list_round_trips_through_toml(tmp_path):
    import tomllib

    servers = [PacsServer("main pacs", url="https://pacs.example.org/dicom-web", auth="bearer"),
               PacsServer("ct", kind="dimse", ae_title="CT_SCP", host="10.0.0.5", port=104,
                          retrieve="c-move", store_port=11112, username="x\"y")]
    path = save_servers(servers, tmp_path / "pacs.toml")
    assert tomllib.loads(path.read_text())["servers"][1]["ae_title"] == "CT_SCP"
    assert load_servers(path) == servers


def test_a_password_in_the_file_is_refused(tmp_path):
    path = tmp_path / "pacs.toml"
    path.write_text('[[servers]]\nname = "a"\nurl = "http://h/dicom-web"\npassword = "x"\n')
    with pytest.raises(PacsConfigError, match="keyring"):
        load_servers(path)


@pytest.mark.parametrize("bad", [
    dict(name="a", kind="dicomweb", url="ftp://x"),
    dict(name="a", kind="dimse", ae_title="", host="h", port=104),
    dict(name="a", kind="dimse", ae_title="TOO_LONG_AE_TITLE_X", host="h", port=104),
    dict(name="a", kind="dimse", ae_title="A", host="h", port=0),
    dict(name="a", kind="dicomweb", url="http://h", retrieve="c-move"),
    dict(name="a", kind="gopher"),
])
def test_bad_entries_say_what_is_wrong(bad):
    with pytest.raises(PacsConfigError, match="Server 'a'|kind"):
        PacsServer(**bad)


def test_urls_keep_credentials_out_of_the_server():
    server, password = server_from_url("http://reader:p%40ss@127.0.0.1:8042/dicom-web/")
    assert (server.url, server.username, server.auth, password) == (
        "http://127.0.0.1:8042/dicom-web", "reader", "basic", "p@ss")
    assert "p@ss" not in repr(server) and "p%40ss" not in repr(server)
    dimse, none = server_from_url("dicom://ORTHANC@127.0.0.1:4242?via=c-move&store_port=11115")
    assert (dimse.ae_title, dimse.port, dimse.retrieve, dimse.store_port, none) == (
        "ORTHANC", 4242, "c-move", 11115, None)
    assert strip_credentials("https://u:pw@h:1/x") == "https://h:1/x"
    with pytest.raises(PacsConfigError, match="No PACS server named 'nosuch'"):
        resolve_server("nosuch")


@pytest.mark.parametrize("text, expected", [
    ("20240101-20241231", "20240101-20241231"), ("2024-01-01-2024-12-31", "20240101-20241231"),
    ("20240101-", "20240101-"), ("-20241231", "-20241231"), ("2024-03-05", "20240305")])
def test_date_ranges(text, expected):
    assert parse_date_range(text) == expected


@pytest.mark.parametrize("text", ["2024", "yesterday", "-", "20240101-2024"])
def test_bad_date_ranges(text):
    with pytest.raises(ValueError):
        parse_date_range(text)


def test_query_filters_follow_weasis_and_ohif():
    keys = StudyQuery(patient_name="doe", description="brain", modality="mr",
                      date="2024-01-01-").study_filters()
    assert keys == {"PatientName": "doe*", "StudyDescription": "*brain*",
                    "ModalitiesInStudy": "MR", "StudyDate": "20240101-"}


def test_secret_from_environment_then_session(monkeypatch):
    server = PacsServer("my-pacs", url="http://h/dicom-web", auth="basic", username="u")
    assert env_name(server) == "SLICEWISE_PACS_PASSWORD_MY_PACS"
    assert get_secret(server) is None
    asked = []
    assert get_secret(server, ask=lambda s: asked.append(s) or "typed") == "typed"
    assert get_secret(server, ask=lambda s: asked.append(s) or "again") == "typed"  # once
    assert len(asked) == 1


def test_env_variable_is_used(monkeypatch):
    server = PacsServer("p", url="http://h/dicom-web", auth="basic", username="u")
    monkeypatch.setenv("SLICEWISE_PACS_PASSWORD_P", "from-env")
    assert get_secret(server) == "from-env"


def test_without_keyring_a_secret_is_kept_in_memory_only(tmp_path):
    server = PacsServer("p", url="http://h/dicom-web", auth="basic", username="u")
    assert store_secret(server, "only-in-memory") is False
    remember_for_session(server, "only-in-memory")
    save_servers([server], tmp_path / "pacs.toml")
    assert "only-in-memory" not in (tmp_path / "pacs.toml").read_text()
    assert get_secret(server) == "only-in-memory"

"""Errors in words through the real Orthanc (and closed or silent ports): wrong password,
connection refused, timeout, association rejected with its reason, unknown C-MOVE destination,
server stopped mid-retrieve (partial data kept, then resumed)."""
from __future__ import annotations

import dataclasses
import logging
import socket

import pydicom
import pytest

from tests.pacs_server import PASSWORD, free_port, route_servers, write_seed_series
from viewer.io.pacs import (
    PacsAuthError,
    PacsError,
    PartialRetrieveError,
    RetrieveCache,
    open_client,
    retrieve,
    run_retrieve,
    send_files,
)

WRONG = "not-the-Pw-1234"


def test_wrong_password_no_data_clear_error_nothing_logged(orthanc, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    server = route_servers(orthanc.server)["wado-rs"]
    cache = RetrieveCache(tmp_path / "cache")
    with open_client(server, WRONG) as client, pytest.raises(PacsAuthError) as err:
        run_retrieve(retrieve(client, cache, orthanc.abdomen.study_uid))
    assert "401" in str(err.value) and "user name or password" in str(err.value)
    assert not list(tmp_path.rglob("*.dcm"))
    out = capsys.readouterr()
    for text in (str(err.value), caplog.text, out.out, out.err):
        assert WRONG not in text and PASSWORD not in text


@pytest.mark.parametrize("kind", ["wado-rs", "c-get"])
def test_connection_refused(kind, orthanc):
    server = dataclasses.replace(route_servers(orthanc.server)[kind],
                                 url=f"http://127.0.0.1:{free_port()}/dicom-web",
                                 port=free_port())
    with open_client(server, PASSWORD) as client, pytest.raises(PacsError, match="refused"):
        client.echo()


@pytest.mark.parametrize("kind", ["wado-rs", "c-get"])
def test_timeout(kind, orthanc):
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        server = dataclasses.replace(route_servers(orthanc.server, timeout=1.0)[kind],
                                     url=f"http://127.0.0.1:{port}/dicom-web", port=port)
        with open_client(server, PASSWORD) as client, \
                pytest.raises(PacsError, match="timeout|did not answer|stopped answering"):
            client.echo()


def test_unknown_calling_ae_is_rejected_with_the_reason(orthanc):
    server = dataclasses.replace(route_servers(orthanc.server)["c-get"], our_ae_title="STRANGER")
    with open_client(server) as client, pytest.raises(PacsError) as err:
        client.find_studies(__import__("viewer.io.pacs", fromlist=["StudyQuery"]).StudyQuery())
    text = str(err.value)
    assert "rejected the association" in text and "Calling AE title not recognised" in text
    assert "STRANGER" in text


def test_wrong_called_ae_is_rejected_with_the_reason(orthanc):
    server = dataclasses.replace(route_servers(orthanc.server)["c-get"], ae_title="NOTORTHANC")
    with open_client(server) as client, pytest.raises(PacsError,
                                                      match="Called AE title not recognised"):
        client.echo()


def test_unknown_move_destination(orthanc_factory, tmp_path):
    server = orthanc_factory(DicomModalities={}, DicomAlwaysAllowEcho=True,
                             DicomAlwaysAllowStore=True, DicomAlwaysAllowFind=True,
                             DicomAlwaysAllowMove=True)
    seeded = write_seed_series(tmp_path / "s", n=3, size=16, modality="MR", patient=("A^B", "X"),
                               study_date="20200101", accession="Z", study_description="d",
                               series_description="s")
    server.store(sorted(seeded.folder.glob("*.dcm")))
    move = route_servers(server)["c-move"]
    with open_client(move) as client, pytest.raises(PacsError) as err:
        run_retrieve(retrieve(client, RetrieveCache(tmp_path / "cache"), seeded.study_uid))
    assert "not know the destination AE title" in str(err.value)
    assert "'SLICEWISE'" in str(err.value)


@pytest.mark.parametrize("kind", ["wado-rs", "c-get"])
def test_server_stopped_mid_retrieve_keeps_partial_data_and_resumes(kind, orthanc_factory,
                                                                    tmp_path):
    server = orthanc_factory()
    seeded = write_seed_series(tmp_path / "s", n=80, size=256, modality="MR",
                               patient=("Stop^Me", "S1"), study_date="20200101", accession="Z",
                               study_description="d", series_description="s")
    assert server.store(sorted(seeded.folder.glob("*.dcm"))) == 80
    route = route_servers(server, timeout=5.0)[kind]
    cache = RetrieveCache(tmp_path / "cache")
    arrived = []

    def on_progress(event):
        arrived.append(event)
        if len(arrived) == 5:
            server.kill()  # the server goes away in the middle of the transfer

    with open_client(route, PASSWORD) as client, pytest.raises(PartialRetrieveError) as err:
        run_retrieve(retrieve(client, cache, seeded.study_uid), on_progress)
    folder = cache.series_dir(seeded.study_uid, seeded.series_uid)
    kept = sorted(folder.glob("*.dcm"))
    assert 5 <= len(kept) < 80
    assert err.value.received == len(kept) and err.value.missing == 80 - len(kept)
    assert "stay usable" in str(err.value) and "retrieve again" in str(err.value)
    for p in kept:
        assert pydicom.dcmread(str(p)).pixel_array.shape == (256, 256)
    server.start()
    with open_client(route, PASSWORD) as client:
        again = run_retrieve(retrieve(client, cache, seeded.study_uid))
    assert again.fetched == 80 - len(kept) and again.missing == 0
    assert {p.name for p in folder.glob("*.dcm")} == {f"{u}.dcm" for u in seeded.sop_uids}


@pytest.mark.parametrize("kind", ["wado-rs", "c-get"])
def test_send_files_by_stow_and_c_store(kind, orthanc_factory, tmp_path):
    import requests

    from tests.pacs_server import USER

    server = orthanc_factory()
    seeded = write_seed_series(tmp_path / "s", n=4, size=16, modality="CT", patient=("S^T", "Y"),
                               study_date="20200101", accession="Z", study_description="d",
                               series_description="s")
    result = send_files(route_servers(server)[kind], sorted(seeded.folder.glob("*.dcm")),
                        secret=PASSWORD)
    assert result.ok and result.stored == 4
    stored = requests.get(f"http://127.0.0.1:{server.http_port}/instances",
                          auth=(USER, PASSWORD), timeout=5).json()
    assert len(stored) == 4

"""DIMSE through the real Orthanc while this process is busy (as it is while a classifier runs).

Two races of pynetdicom showed up as rare CI failures and, under load, as frequent ones
(measured with two busy threads: 27 of 40 associations of 50 C-STOREs each lost a response
and waited out the timeout; 24 of 200 rejected associations were reported as "did not answer"):
- its reactor thread may take a C-STORE/C-FIND response off the queue while the caller waits
  for it (``dimse._answers_to_the_caller``);
- a rejection read after the server already hung up was reported as a failed connection
  (``dimse._unread_answers``).
Both are counts, not timings: with the fixes every store is answered and every rejection
is reported with its reason.
"""
from __future__ import annotations

import contextlib
import dataclasses
import threading

import pytest

from tests.pacs_server import route_servers, write_seed_series
from viewer.io.pacs import PacsError, StudyQuery, open_client


@contextlib.contextmanager
def busy_threads(n: int = 2):
    """Pure-Python threads that keep the interpreter switching between threads."""
    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            x += 1

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join(5)


def test_every_c_store_is_answered_while_the_process_is_busy(orthanc_factory, tmp_path):
    server = orthanc_factory()
    seeded = write_seed_series(tmp_path / "s", n=50, size=8, modality="CT", patient=("L^D", "Y"),
                               study_date="20200101", accession="Z", study_description="d",
                               series_description="s")
    files = sorted(seeded.folder.glob("*.dcm"))
    route = route_servers(server, timeout=3.0)["c-get"]
    lost = []
    with busy_threads(), open_client(route) as client:
        for _ in range(5):
            try:
                stored, failures = client.store(files)
                assert stored == 50 and not failures
            except PacsError as exc:
                lost.append(str(exc))
    assert not lost


def test_every_rejection_is_reported_with_its_reason_while_busy(orthanc):
    server = dataclasses.replace(route_servers(orthanc.server, timeout=3.0)["c-get"],
                                 our_ae_title="STRANGER")
    answers = []
    with busy_threads():
        for _ in range(40):
            with open_client(server) as client, pytest.raises(PacsError) as err:
                client.find_studies(StudyQuery())
            answers.append("Calling AE title not recognised" in str(err.value))
    assert all(answers), f"{answers.count(False)} of {len(answers)} rejections lost their reason"

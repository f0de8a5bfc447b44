"""Threads around a DIMSE association, no server needed (the same races through a real Orthanc
under load: test_orthanc_under_load.py).

- A cancelled retrieve saves nothing after it returned: pynetdicom may hand over one more
  C-STORE while the association is being aborted (seen with Orthanc: "Aborting Association"
  then "Received Store Request"); that image used to land in the cache after the retrieve had
  returned, so the caller's list of what was kept was already stale.
- Only the caller takes DIMSE messages off a requestor association's queue, never pynetdicom's
  reactor thread.
- A rejection pynetdicom left unread is read.
"""
from __future__ import annotations

import queue
import threading
from io import BytesIO
from types import SimpleNamespace

import pytest

pytest.importorskip("pynetdicom")

from pydicom.dataset import FileMetaDataset  # noqa: E402

from viewer.io.pacs import PacsServer  # noqa: E402
from viewer.io.pacs.cache import RetrieveCache  # noqa: E402
from viewer.io.pacs.dimse import (  # noqa: E402
    DimseClient,
    _answers_to_the_caller,
    _Arrivals,
    _unread_answers,
)

MR = "1.2.840.10008.5.1.4.1.1.4"


def _event(sop: str):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MR
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = "1.2.840.10008.1.2"
    return SimpleNamespace(file_meta=meta, request=SimpleNamespace(
        AffectedSOPInstanceUID=sop, DataSet=BytesIO(b"\x08\x00\x16\x00\x1a\x00\x00\x00"
                                                     + MR.encode() + b"\0")))


def _client() -> DimseClient:
    """A client of a server that is never contacted: its handlers are tested alone."""
    return DimseClient(PacsServer("p", kind="dimse", ae_title="A", host="127.0.0.1", port=104))


def _handler(cache, arrived):
    return _client()._store_handler("1.2", "1.2.3", cache, arrived)


def test_no_image_is_saved_once_the_retrieve_is_cancelled(tmp_path):
    cache, arrived = RetrieveCache(tmp_path), _Arrivals()
    handle = _handler(cache, arrived)
    assert handle(_event("1.2.3.1")) == 0x0000
    arrived.close()
    assert handle(_event("1.2.3.2")) != 0x0000  # refused: the server counts it as failed
    assert cache.present("1.2", "1.2.3") == {"1.2.3.1"}
    assert [p.name for p in _drain(arrived)] == ["1.2.3.1.dcm"]


def test_cancel_waits_for_the_image_being_written(tmp_path):
    """close() returns only after a save in progress finished, and that image is reported."""
    started, release = threading.Event(), threading.Event()

    class SlowCache(RetrieveCache):
        def write_file(self, *args, **kwargs):
            started.set()
            release.wait(10)
            return super().write_file(*args, **kwargs)

    cache, arrived = SlowCache(tmp_path), _Arrivals()
    handle = _handler(cache, arrived)
    saving = threading.Thread(target=handle, args=(_event("1.2.3.9"),))
    saving.start()
    assert started.wait(10)
    closing = threading.Thread(target=arrived.close)
    closing.start()
    closing.join(0.3)
    assert closing.is_alive()  # still waiting for the save in progress
    release.set()
    closing.join(10)
    saving.join(10)
    assert not closing.is_alive() and arrived.closed
    assert cache.present("1.2", "1.2.3") == {"1.2.3.9"}
    assert [p.name for p in _drain(arrived)] == ["1.2.3.9.dcm"]


def _drain(arrived):
    return list(_client()._drain(arrived))


class _Dimse:
    def __init__(self) -> None:
        self.msg_queue: queue.Queue = queue.Queue()

    def get_msg(self, block: bool = False):
        try:
            return self.msg_queue.get(block=block, timeout=1.0)
        except queue.Empty:
            return None, None


class _ReactorLike(threading.Thread):
    """Stands for pynetdicom's Association thread: its reactor polls the DIMSE queue."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.dimse = _Dimse()
        self.polled: list = []

    def run(self) -> None:
        self.polled.append(self.dimse.get_msg(block=False))


def test_the_reactor_thread_never_takes_the_callers_response():
    assoc = _ReactorLike()
    _answers_to_the_caller(assoc)
    assoc.dimse.msg_queue.put((1, "C-STORE-RSP"))
    assoc.start()
    assoc.join(5)
    assert assoc.polled == [(None, None)]  # the reactor found nothing to take
    assert assoc.dimse.get_msg(block=True) == (1, "C-STORE-RSP")  # the caller gets it


def test_an_unread_rejection_is_read():
    from pynetdicom.pdu_primitives import A_ASSOCIATE

    rj = A_ASSOCIATE()
    rj.result, rj.result_source, rj.diagnostic = 0x01, 0x01, 0x03
    left = queue.Queue()
    left.put(rj)
    assoc = SimpleNamespace(dul=SimpleNamespace(
        receive_pdu=lambda wait=False: None if left.empty() else left.get_nowait()))
    assert _unread_answers(assoc) == [rj]
    assert rj.reason_str == "Calling AE title not recognised"

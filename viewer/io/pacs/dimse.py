"""Classic DICOM networking through ``pynetdicom``: C-ECHO, C-FIND, C-GET, C-MOVE (to a storage
SCP that SliceWise runs on ``store_port`` under ``our_ae_title`` for the retrieve's duration)
and C-STORE. Received instances go to the cache as the bytes that came over the network.

Failures become :class:`PacsError` in words: connection refused or timed out, association
rejected (with the reason the server gave, e.g. "Calling AE title not recognised"), a C-MOVE
destination the server does not know, a server that stopped in the middle.
"""
from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import (
    AE,
    AllStoragePresentationContexts,
    StoragePresentationContexts,
    build_context,
    build_role,
    evt,
)
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from viewer.io.pacs.cache import RetrieveCache
from viewer.io.pacs.config import PacsServer
from viewer.io.pacs.errors import PacsError
from viewer.io.pacs.query import (
    SERIES_RETURN_KEYS,
    STUDY_RETURN_KEYS,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
    series_record,
    sort_series,
    sort_studies,
    study_record,
)

UID_BATCH = 100  # SOP instance UIDs per C-GET/C-MOVE identifier when fetching what is missing
# Storage classes proposed for C-GET (an association holds at most 128 contexts; 3 are Q/R):
# first the classes of the AI results SliceWise writes (Parametric Map is not among pynetdicom's
# default 120), then the usual image classes.
RESULT_CLASSES = ("1.2.840.10008.5.1.4.1.1.30",      # Parametric Map
                  "1.2.840.10008.5.1.4.1.1.66.4",    # Segmentation
                  "1.2.840.10008.5.1.4.1.1.88.34",   # Comprehensive 3D SR
                  "1.2.840.10008.5.1.4.1.1.7")       # Secondary Capture
GET_STORAGE = ([build_context(uid) for uid in RESULT_CLASSES]
               + [cx for cx in StoragePresentationContexts
                  if cx.abstract_syntax not in RESULT_CLASSES])[:120]
_TS = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.70",
       "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
       "1.2.840.10008.1.2.4.80"]
MOVE_FAILURES = {0xA701: "the server ran out of resources for the sub-operations",
                 0xA702: "the server could not count the sub-operations (out of resources)",
                 0xA801: "it does not know the destination AE title"}


def _no_delay(event) -> None:
    """Send small DIMSE messages at once (Nagle + delayed ACK cost 40 ms per message)."""
    try:
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        pass


def _status_text(status: Dataset | None) -> tuple[int, str]:
    code = int(getattr(status, "Status", -1)) if status is not None else -1
    comment = str(status.get("ErrorComment", "")) if status is not None else ""
    return code, comment


def _answers_to_the_caller(assoc) -> None:
    """Leave every DIMSE message of this (requestor) association to the ``send_*`` call that
    waits for it. pynetdicom's reactor thread also takes messages off the queue; it pauses
    while a ``send_*`` waits, but the pause handshake has a window (the reactor may read a stale
    "paused" flag), and a response it takes is dropped as "Received unexpected C-STORE service
    message" while the caller waits out the whole timeout. A requestor needs the reactor for no
    DIMSE message: C-STORE requests of a C-GET are served inside ``send_c_get``'s generator."""
    original = assoc.dimse.get_msg

    def get_msg(block: bool = False):
        if threading.current_thread() is assoc:
            return None, None
        return original(block)

    assoc.dimse.get_msg = get_msg


def _unread_answers(assoc) -> list:
    """Answers to the association request that pynetdicom left unread. Under load it can see
    the connection already closed by a server that rejected the request (the rejection arrives
    and the server hangs up before pynetdicom checks the socket); it then gives up as if the
    connection had failed, and the A-ASSOCIATE-RJ stays in its queue: read it, so that the
    reader learns why (e.g. "Calling AE title not recognised") instead of a timeout."""
    answers = []
    while (primitive := assoc.dul.receive_pdu(wait=False)) is not None:
        answers.append(primitive)
    return answers


class _Arrivals:
    """What a retrieve's storage handler saved (paths, or the error that stopped a save), in
    order. ``close()`` (cancel) stops further saves: pynetdicom may still hand over an image
    while the association is being aborted, and it must not land in the cache after the
    retrieve has returned (its caller then lists what was kept)."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        with self.lock:
            self.closed = True


class DimseClient:
    """DIMSE services on one server (see module docstring). Each call opens its own association."""

    def __init__(self, server: PacsServer, secret: str | None = None) -> None:
        self.server = server  # DIMSE has no passwords; ``secret`` is accepted for symmetry

    def close(self) -> None:
        pass

    def __enter__(self) -> DimseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- association -----------------------------------------------------------------------
    def _ae(self) -> AE:
        ae = AE(ae_title=self.server.our_ae_title)
        t = self.server.timeout
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = t
        ae.connection_timeout = min(t, 10.0)
        return ae

    def _associate(self, ae: AE, ext_neg: list | None = None, handlers: Sequence = ()):
        s = self.server
        received: list = []
        handlers = [(evt.EVT_ACSE_RECV, lambda event: received.append(event.primitive)),
                    (evt.EVT_CONN_OPEN, _no_delay), *handlers]
        assoc = ae.associate(s.host, s.port, ae_title=s.ae_title, ext_neg=ext_neg,
                             evt_handlers=handlers)
        if assoc.is_established:
            _answers_to_the_caller(assoc)
            return assoc
        where = s.address
        received.extend(_unread_answers(assoc))
        rj = next((p for p in received if type(p).__name__ == "A_ASSOCIATE"
                   and getattr(p, "result", None) in (1, 2)), None)
        if assoc.is_rejected or rj is not None:
            reason = f": {rj.reason_str} ({rj.result_str.lower()}, by the {rj.source_str})" \
                if rj is not None else ""
            hint = ""
            if rj is not None and rj.diagnostic == 3 and rj.result_source == 1:
                hint = (f" Ask the PACS administrator to add AE title {s.our_ae_title!r} "
                        f"(this computer) to the server's known modalities.")
            elif rj is not None and rj.diagnostic == 7 and rj.result_source == 1:
                hint = f" Check the server's AE title (configured: {s.ae_title!r})."
            raise PacsError(f"{where} rejected the association{reason}.{hint}")
        answered = any(type(p).__name__ in ("A_ASSOCIATE", "A_ABORT", "A_P_ABORT")
                       for p in received)
        if not answered:
            raise self._connect_error()
        if assoc.is_aborted:
            raise PacsError(f"{where} aborted the association (no common presentation context "
                            f"or the server refused the request).")
        raise self._connect_error()

    def _connect_error(self) -> PacsError:
        s = self.server
        try:
            with socket.create_connection((s.host, s.port), timeout=min(s.timeout, 10.0)):
                pass
        except ConnectionRefusedError:
            return PacsError(f"Could not connect to {s.address}: connection refused. Is the "
                             f"server running, and are the host and port right?")
        except TimeoutError:
            return PacsError(f"{s.address} did not answer within {min(s.timeout, 10.0):g} s "
                             f"(connection timed out). Check the address and the network.")
        except OSError as exc:
            return PacsError(f"Could not connect to {s.address}: {exc.strerror or exc}.")
        return PacsError(f"{s.address} accepted the connection but did not answer the "
                         f"association request within {s.timeout:g} s (timeout).")

    # -- verification and search -----------------------------------------------------------
    def echo(self) -> str:
        ae = self._ae()
        ae.add_requested_context(Verification)
        t0 = time.perf_counter()
        assoc = self._associate(ae)
        try:
            code, comment = _status_text(assoc.send_c_echo())
        finally:
            assoc.release()
        if code != 0:
            raise PacsError(f"{self.server.address} answered C-ECHO with status "
                            f"0x{code & 0xFFFF:04X} {comment}".rstrip() + ".")
        return f"{self.server.address} answered C-ECHO in {1000 * (time.perf_counter() - t0):.0f} ms"

    def _find(self, level: str, keys: dict[str, str], returned: Sequence[str]) -> list[Dataset]:
        ident = Dataset()
        ident.QueryRetrieveLevel = level
        for kw in returned:
            setattr(ident, kw, "")
        for kw, value in keys.items():
            setattr(ident, kw, value)
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        assoc = self._associate(ae)
        found = []
        try:
            for status, answer in assoc.send_c_find(ident, StudyRootQueryRetrieveInformationModelFind):
                code, comment = _status_text(status)
                if code in (0xFF00, 0xFF01) and answer is not None:
                    found.append(answer)
                elif code == -1:
                    raise PacsError(f"{self.server.address} stopped answering the search "
                                    f"(connection lost or timeout).")
                elif code != 0:
                    raise PacsError(f"{self.server.address} refused the search: status "
                                    f"0x{code:04X} {comment}".rstrip() + ".")
        finally:
            if assoc.is_established:
                assoc.release()
        return found

    def find_studies(self, query: StudyQuery, limit: int = 500) -> list[StudyRecord]:
        studies = [study_record(ds) for ds in self._find("STUDY", query.study_filters(),
                                                         STUDY_RETURN_KEYS)]
        if query.series_uid:
            studies = [s for s in studies if self.find_series(s.study_uid, query)]
        return sort_studies(studies)[:limit]

    def find_series(self, study_uid: str, query: StudyQuery | None = None) -> list[SeriesRecord]:
        keys = {"StudyInstanceUID": study_uid, **(query.series_filters() if query else {})}
        return sort_series([series_record(ds, study_uid)
                            for ds in self._find("SERIES", keys, SERIES_RETURN_KEYS)])

    def find_instances(self, study_uid: str, series_uid: str) -> list[str]:
        keys = {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid}
        return [str(ds.get("SOPInstanceUID", "")) for ds in self._find("IMAGE", keys,
                                                                        ("SOPInstanceUID",))]

    # -- retrieve --------------------------------------------------------------------------
    def fetch(self, study_uid: str, series_uid: str, sop_uids: Sequence[str] | None,
              cache: RetrieveCache, cancelled: Callable[[], bool] = lambda: False
              ) -> Iterator[Path]:
        """C-GET or C-MOVE (``server.retrieve``) of a series, or of the listed instances, into
        ``cache``; yields each path once written. Cancel aborts the association."""
        batches: list[list[str] | None] = [None] if sop_uids is None else [
            list(sop_uids[i:i + UID_BATCH]) for i in range(0, len(sop_uids), UID_BATCH)]
        for batch in batches:
            if cancelled():
                return
            ident = Dataset()
            ident.StudyInstanceUID = study_uid
            ident.SeriesInstanceUID = series_uid
            if batch is None:
                ident.QueryRetrieveLevel = "SERIES"
            else:
                ident.QueryRetrieveLevel = "IMAGE"
                ident.SOPInstanceUID = batch
            if self.server.retrieve == "c-move":
                yield from self._move(ident, study_uid, series_uid, cache, cancelled)
            else:
                yield from self._get(ident, study_uid, series_uid, cache, cancelled)

    def _store_handler(self, study_uid: str, series_uid: str, cache: RetrieveCache,
                       arrived: _Arrivals):
        def handle(event) -> int:
            with arrived.lock:
                if arrived.closed:  # cancelled: nothing lands after the retrieve returned
                    return 0xA700
                try:
                    sop = str(event.request.AffectedSOPInstanceUID)
                    path = cache.write_dataset_bytes(study_uid, series_uid, sop,
                                                     event.file_meta,
                                                     event.request.DataSet.getvalue())
                except (PacsError, OSError) as exc:
                    arrived.queue.put(exc)
                    return 0xA700  # out of resources: the server counts it as failed
                arrived.queue.put(path)
            return 0x0000
        return handle

    def _drain(self, arrived: _Arrivals) -> Iterator[Path]:
        while True:
            try:
                item = arrived.queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, Exception):
                raise PacsError(f"An image could not be saved in the cache: {item}")
            yield item

    def _stop(self, assoc, arrived: _Arrivals) -> None:
        """Cancel: no further image is saved (one being written finishes first), then abort."""
        arrived.close()
        assoc.abort()

    def _run(self, assoc, responses, arrived: _Arrivals, cancelled: Callable[[], bool],
             what: str) -> Iterator[Path]:
        last: Dataset | None = None
        try:
            for status, _ident in responses:
                yield from self._drain(arrived)
                if cancelled():
                    self._stop(assoc, arrived)
                    yield from self._drain(arrived)
                    return
                if status is None or not hasattr(status, "Status"):
                    yield from self._drain(arrived)
                    raise PacsError(f"{self.server.address} stopped answering during the "
                                    f"{what} (server stopped, connection lost or timeout).")
                last = status
        except GeneratorExit:  # the caller stopped (cancel): do not wait for the server
            self._stop(assoc, arrived)
            raise
        finally:
            if assoc.is_established:
                assoc.release()
        yield from self._drain(arrived)
        code, comment = _status_text(last)
        if code in (0x0000, 0xB000):  # success, or warning: some sub-operations failed
            return
        if code == 0xFE00:
            return  # cancelled by us
        reason = MOVE_FAILURES.get(code, f"status 0x{code & 0xFFFF:04X}")
        ours = self.server.our_ae_title
        fix = (f"Ask the PACS administrator to add AE {ours!r} at this computer's address, "
               f"port {self.server.store_port}, or retrieve with C-GET.")
        if code == 0xA801:
            raise PacsError(f"{self.server.address} cannot send the images: {reason} {ours!r}. "
                            + fix)
        attempted = sum(int(last.get(k, 0) or 0) for k in (
            "NumberOfCompletedSuboperations", "NumberOfFailedSuboperations",
            "NumberOfWarningSuboperations")) if last is not None else 0
        if what == "C-MOVE" and not attempted:
            # Orthanc and others answer 0xC000 with no sub-operation when the destination is
            # unknown (the standard's 0xA801)
            raise PacsError(f"{self.server.address} refused the C-MOVE ({reason}, nothing sent). "
                            f"The usual cause: it does not know the destination AE title "
                            f"{ours!r}. " + fix)
        raise PacsError(f"{self.server.address} refused the {what}: {reason}"
                        + (f" ({comment})" if comment else "") + ".")

    def _get(self, ident: Dataset, study_uid: str, series_uid: str, cache: RetrieveCache,
             cancelled: Callable[[], bool]) -> Iterator[Path]:
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        roles = []
        for cx in GET_STORAGE:
            ae.add_requested_context(cx.abstract_syntax, _TS)
            roles.append(build_role(cx.abstract_syntax, scp_role=True))
        arrived = _Arrivals()
        handler = self._store_handler(study_uid, series_uid, cache, arrived)
        assoc = self._associate(ae, roles, [(evt.EVT_C_STORE, handler)])
        responses = assoc.send_c_get(ident, StudyRootQueryRetrieveInformationModelGet)
        yield from self._run(assoc, responses, arrived, cancelled, "C-GET")

    def _move(self, ident: Dataset, study_uid: str, series_uid: str, cache: RetrieveCache,
              cancelled: Callable[[], bool]) -> Iterator[Path]:
        arrived = _Arrivals()
        scp_ae = self._ae()
        scp_ae.supported_contexts = [cx for cx in AllStoragePresentationContexts]
        for cx in scp_ae.supported_contexts:
            cx.transfer_syntax = list(_TS)
        handler = self._store_handler(study_uid, series_uid, cache, arrived)
        try:
            scp = scp_ae.start_server(("127.0.0.1", self.server.store_port), block=False,
                                      evt_handlers=[(evt.EVT_C_STORE, handler),
                                                    (evt.EVT_CONN_OPEN, _no_delay)])
        except OSError as exc:
            raise PacsError(f"The storage service for C-MOVE could not listen on port "
                            f"{self.server.store_port} ({exc.strerror or exc}); choose another "
                            f"store port or retrieve with C-GET.") from None
        try:
            ae = self._ae()
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
            assoc = self._associate(ae)
            responses = assoc.send_c_move(ident, self.server.our_ae_title,
                                          StudyRootQueryRetrieveInformationModelMove)
            yield from self._run(assoc, responses, arrived, cancelled, "C-MOVE")
        finally:
            scp.shutdown()
        yield from self._drain(arrived)

    # -- store -----------------------------------------------------------------------------
    def store(self, paths: Sequence[str | Path],
              progress: Callable[[int, int], None] | None = None) -> tuple[int, list[str]]:
        """C-STORE of DICOM files over one association; returns (stored, failure messages)."""
        datasets = [dcmread(str(p)) for p in paths]
        ae = self._ae()
        pairs = sorted({(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
                        for ds in datasets})
        for sop_class in sorted({p[0] for p in pairs}):
            ae.add_requested_context(sop_class, sorted({p[1] for p in pairs if p[0] == sop_class})
                                     + ["1.2.840.10008.1.2.1"])
        assoc = self._associate(ae)
        stored, failures = 0, []
        try:
            for i, ds in enumerate(datasets):
                code, comment = _status_text(assoc.send_c_store(ds))
                if code in (0x0000, 0xB000, 0xB007, 0xB006):
                    stored += 1
                elif code == -1:
                    raise PacsError(f"{self.server.address} stopped answering after {stored} "
                                    f"of {len(datasets)} objects were stored.")
                else:
                    failures.append(f"{ds.SOPInstanceUID}: status 0x{code:04X} {comment}".rstrip())
                if progress is not None:
                    progress(i + 1, len(datasets))
        finally:
            if assoc.is_established:
                assoc.release()
        return stored, failures

"""DICOMweb client: QIDO-RS search, WADO-RS retrieve and STOW-RS store through ``dicomweb-client``.

Searches and stores use ``dicomweb_client.DICOMwebClient``. Retrieves stream the multipart
WADO-RS answer through the same ``requests`` session and write each part to the cache as the
bytes the server sent (no decode and re-encode), so the first instance is on disk long before
the last arrives and a cancel stops between two instances. Credentials sit in the session
(basic auth or a bearer header), never in a URL, a message or a log line.
"""
from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterator, Sequence
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread
from pydicom.dataset import Dataset

from viewer.io.pacs.cache import RetrieveCache
from viewer.io.pacs.config import PacsServer
from viewer.io.pacs.errors import PacsAuthError, PacsError
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

ACCEPT_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'
CHUNK = 1 << 20
STOW_BATCH = 50


def http_error(exc: BaseException, server: PacsServer) -> PacsError:
    """A :class:`PacsError` in words for a ``requests`` failure talking to ``server``."""
    where = server.address
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        if code == 401:
            return PacsAuthError(f"{where} refused the user name or password (401 Unauthorized). "
                                 f"Check the credentials of server {server.name!r}.")
        if code == 403:
            return PacsAuthError(f"{where} denied access to this user (403 Forbidden).")
        if code == 404:
            return PacsError(f"{where}: not found (404). Check the URL (it usually ends in "
                             f"/dicom-web) and the UIDs.")
        reason = exc.response.reason or ""
        return PacsError(f"{where} answered HTTP {code} {reason}".rstrip() + ".")
    if isinstance(exc, requests.exceptions.SSLError):
        return PacsError(f"{where}: the TLS certificate could not be verified. Set a CA file "
                         f"for this server if it uses a private certificate authority.")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return PacsError(f"{where} did not answer within {server.timeout:g} s (connection "
                         f"timed out). Check the address and the network.")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return PacsError(f"{where} stopped answering for {server.timeout:g} s (timeout).")
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "refused" in text.lower():
            return PacsError(f"Could not connect to {where}: connection refused. Is the server "
                             f"running, and are the host and port right?")
        if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "aborted" in text.lower() \
                or "reset" in text.lower() or "incomplete" in text.lower():
            return PacsError(f"{where} closed the connection in the middle of the transfer "
                             f"(server stopped or network lost).")
        return PacsError(f"Could not connect to {where}: the host is unreachable or unknown.")
    return PacsError(f"{where}: {type(exc).__name__}: {exc}")


def qido_value(value: str) -> str:
    """A QIDO-RS matching value escaped like JavaScript's ``encodeURIComponent`` but keeping
    ``^`` (name parts) raw, with spaces turned into the one-character wildcard ``?`` (Orthanc
    1.10 does not decode ``%20`` either)."""
    return quote(value.replace(" ", "?"), safe="-_.!~*'()^?")


class TruncatedMultipart(ValueError):
    """The multipart stream ended before its closing boundary (connection lost)."""


def split_multipart(chunks: Iterator[bytes], boundary: bytes) -> Iterator[bytes]:
    """The bodies of the parts of a ``multipart/related`` stream, each as soon as it is whole.
    Raises :class:`TruncatedMultipart` when the stream ends before the closing boundary."""
    delimiter = b"\r\n--" + boundary
    data = bytearray(b"\r\n")  # the first boundary has no CRLF before it
    start, after_delimiter = 0, False
    for chunk in chunks:
        data += chunk
        while True:
            if after_delimiter:
                if len(data) < 2:
                    break
                if data.startswith(b"--"):
                    return  # closing boundary
                after_delimiter = False
            i = data.find(delimiter, start)
            if i < 0:
                start = max(0, len(data) - len(delimiter))
                break
            part = bytes(data[:i])
            del data[:i + len(delimiter)]
            start = 0
            head_end = part.find(b"\r\n\r\n")
            if head_end >= 0:
                yield part[head_end + 4:]
            after_delimiter = True
    raise TruncatedMultipart("multipart stream ended before its closing boundary")


def _boundary(content_type: str) -> bytes:
    for item in content_type.split(";")[1:]:
        key, _, value = item.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"').encode()
    raise PacsError("The server's WADO-RS answer is not multipart (no boundary).")


def sop_instance_uid(part: bytes) -> str:
    """The SOP instance UID of a Part-10 file, read from its file meta information (0002,0003)
    without decoding the data set; falls back to pydicom for files without file meta."""
    if part[128:132] == b"DICM":
        pos, end = 132, min(len(part), 132 + 4096)
        while pos + 8 <= end:
            group, elem = struct.unpack_from("<HH", part, pos)
            if group != 2:
                break
            vr = part[pos + 4:pos + 6]
            if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
                length, head = struct.unpack_from("<I", part, pos + 8)[0], 12
            else:
                length, head = struct.unpack_from("<H", part, pos + 6)[0], 8
            if elem == 3:
                return part[pos + head:pos + head + length].rstrip(b"\0 ").decode("ascii")
            pos += head + length
    ds = dcmread(BytesIO(part), stop_before_pixels=True, force=True,
                 specific_tags=["SOPInstanceUID"])
    return str(ds.get("SOPInstanceUID", ""))


class DicomWebClient:
    """QIDO/WADO/STOW on one DICOMweb server (see module docstring)."""

    def __init__(self, server: PacsServer, secret: str | None = None) -> None:
        self.server = server
        session = requests.Session()
        if server.auth == "basic":
            session.auth = (server.username, secret or "")
        elif server.auth == "bearer":
            session.headers["Authorization"] = f"Bearer {secret or ''}"
        if server.ca_file:
            session.verify = str(Path(server.ca_file).expanduser())
        self.session = session
        self.base = server.url.rstrip("/")
        self.client = DICOMwebClient(self.base, session=session,
                                     timeout=(min(server.timeout, 10.0), server.timeout))
        self.client.set_http_retry_params(retry=False)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> DicomWebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except requests.RequestException as exc:
            raise http_error(exc, self.server) from None

    # -- verification and search -----------------------------------------------------------
    def _qido(self, path: str, filters: dict[str, str], fields: Sequence[str],
              limit: int | None = None, page: int = 1000, as_json: bool = False) -> list:
        """A QIDO-RS search, paged with ``offset``. Values are escaped the way OHIF does
        (``encodeURIComponent``: wildcards ``*`` ``?`` and the name separator ``^`` stay as they
        are): Orthanc 1.10's DICOMweb plugin does not decode percent escapes in QIDO values, so
        ``doe%2A`` (how ``dicomweb-client`` writes ``doe*``) matches nothing there."""
        params = [(k, qido_value(v)) for k, v in filters.items()]
        params += [("includefield", f) for f in fields if f not in filters]
        out: list[Dataset] = []
        while True:
            size = page if limit is None else min(page, limit - len(out))
            query = "&".join(f"{k}={v}" for k, v in params + [("limit", str(size)),
                                                              ("offset", str(len(out)))])
            try:
                response = self.session.get(f"{self.base}/{path}?{query}",
                                            headers={"Accept": "application/dicom+json"},
                                            timeout=self.client._timeout)
                response.raise_for_status()
            except requests.RequestException as exc:
                raise http_error(exc, self.server) from None
            items = response.json() if response.content else []
            out += items if as_json else [Dataset.from_json(item) for item in items]
            if len(items) < size or (limit is not None and len(out) >= limit):
                return out

    def echo(self) -> str:
        """A QIDO-RS ping (one study asked for); the answer time in words."""
        t0 = time.perf_counter()
        self._qido("studies", {}, (), limit=1)
        return f"{self.server.address} answered QIDO-RS in {1000 * (time.perf_counter() - t0):.0f} ms"

    def find_studies(self, query: StudyQuery, limit: int = 500) -> list[StudyRecord]:
        # Orthanc answers nothing when a matching key is also an includefield: ask only the rest
        studies = [study_record(ds) for ds in self._qido("studies", query.study_filters(),
                                                         STUDY_RETURN_KEYS, limit=limit)]
        if query.series_uid:
            studies = [s for s in studies if self.find_series(s.study_uid, query)]
        return sort_studies(studies)

    def find_series(self, study_uid: str, query: StudyQuery | None = None) -> list[SeriesRecord]:
        filters = query.series_filters() if query is not None else {}
        found = self._qido(f"studies/{study_uid}/series", filters, SERIES_RETURN_KEYS)
        return sort_series([series_record(ds, study_uid) for ds in found])

    def find_instances(self, study_uid: str, series_uid: str) -> list[str]:
        """SOP instance UIDs of a series on the server."""
        found = self._qido(f"studies/{study_uid}/series/{series_uid}/instances", {},
                           ("SOPInstanceUID",), as_json=True)
        return [str(item.get("00080018", {}).get("Value", [""])[0]) for item in found]

    # -- retrieve --------------------------------------------------------------------------
    def fetch(self, study_uid: str, series_uid: str, sop_uids: Sequence[str] | None,
              cache: RetrieveCache, cancelled: Callable[[], bool] = lambda: False
              ) -> Iterator[Path]:
        """Write instances of a series into ``cache``, yielding each path once it is whole:
        the whole series in one WADO-RS request when ``sop_uids`` is None, else those instances
        one by one. Stops (without error) between two instances when ``cancelled()``."""
        url = f"{self.base}/studies/{study_uid}/series/{series_uid}"
        if sop_uids is None:
            yield from self._stream(url, study_uid, series_uid, cache, cancelled)
            return
        for sop in sop_uids:
            if cancelled():
                return
            yield from self._stream(f"{url}/instances/{sop}", study_uid, series_uid, cache,
                                    cancelled)

    def _stream(self, url: str, study_uid: str, series_uid: str, cache: RetrieveCache,
                cancelled: Callable[[], bool]) -> Iterator[Path]:
        try:
            response = self.session.get(url, headers={"Accept": ACCEPT_DICOM}, stream=True,
                                        timeout=(min(self.server.timeout, 10.0),
                                                 self.server.timeout))
            response.raise_for_status()
        except requests.RequestException as exc:
            raise http_error(exc, self.server) from None
        with response:
            try:
                boundary = _boundary(response.headers.get("Content-Type", ""))
                for part in split_multipart(response.iter_content(CHUNK), boundary):
                    # the URL names the series: every part belongs to it
                    yield cache.write_file(study_uid, series_uid, sop_instance_uid(part), part)
                    if cancelled():
                        return
            except requests.RequestException as exc:
                raise http_error(exc, self.server) from None
            except TruncatedMultipart:
                raise PacsError(f"{self.server.address} closed the connection in the middle of "
                                f"the transfer (server stopped or network lost).") from None

    # -- store -----------------------------------------------------------------------------
    def store(self, paths: Sequence[str | Path],
              progress: Callable[[int, int], None] | None = None) -> tuple[int, list[str]]:
        """STOW-RS of DICOM files, in batches; returns (stored, failure messages)."""
        stored, failures = 0, []
        paths = list(paths)
        for i in range(0, len(paths), STOW_BATCH):
            batch = [dcmread(str(p)) for p in paths[i:i + STOW_BATCH]]
            answer = self._call(self.client.store_instances, batch)
            failed = answer.get("FailedSOPSequence", []) if answer is not None else []
            for item in failed:
                failures.append(f"{item.get('ReferencedSOPInstanceUID', '?')}: failure reason "
                                f"{item.get('FailureReason', '?')}")
            stored += len(batch) - len(failed)
            if progress is not None:
                progress(min(i + STOW_BATCH, len(paths)), len(paths))
        return stored, failures

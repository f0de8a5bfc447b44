"""Send DICOM files to a PACS: STOW-RS for a DICOMweb server, C-STORE for a DIMSE server.

Qt-free; used by "Send to PACS" (AI result objects) and by the tests to seed servers::

    from viewer.io.pacs import send_files
    result = send_files("orthanc", ["sr.dcm", "pmap.dcm"])   # a configured name or a URL
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from viewer.io.pacs.client import open_client
from viewer.io.pacs.config import PacsServer, resolve_server
from viewer.io.pacs.errors import PacsError
from viewer.io.pacs.secrets import get_secret, remember_for_session


@dataclass(frozen=True)
class SendResult:
    """``stored`` of ``total`` objects were accepted; ``failures``: one line per refused object."""

    server: str
    total: int
    stored: int
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.stored == self.total and not self.failures


def send_files(server: PacsServer | str, paths: Sequence[str | Path], *,
               secret: str | None = None,
               ask: Callable[[PacsServer], str | None] | None = None,
               progress: Callable[[int, int], None] | None = None) -> SendResult:
    """Store ``paths`` (DICOM files) on ``server`` (a :class:`PacsServer`, a configured name or
    a URL). ``secret`` overrides the keyring/env/``ask`` lookup. Raises :class:`PacsError`
    when nothing could be sent (connection, credentials, association)."""
    if isinstance(server, str):
        server, url_secret = resolve_server(server)
        if url_secret is not None:
            remember_for_session(server, url_secret)
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise PacsError(f"Not found, nothing sent: {', '.join(missing)}")
    if secret is None:
        secret = get_secret(server, ask)
    with open_client(server, secret) as client:
        stored, failures = client.store(paths, progress)
    return SendResult(server.address, len(paths), stored, tuple(failures))

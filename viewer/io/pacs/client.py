"""One entry point for both protocols: :func:`open_client` returns a DICOMweb or a DIMSE client
with the same methods (``echo``, ``find_studies``, ``find_series``, ``find_instances``,
``fetch``, ``store``, ``close``)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from viewer.io.pacs.cache import RetrieveCache
from viewer.io.pacs.config import PacsServer
from viewer.io.pacs.query import SeriesRecord, StudyQuery, StudyRecord


class PacsClient(Protocol):
    """What the retrieve logic, the CLI and the GUI need of a server connection."""

    server: PacsServer

    def echo(self) -> str: ...
    def find_studies(self, query: StudyQuery, limit: int = 500) -> list[StudyRecord]: ...
    def find_series(self, study_uid: str, query: StudyQuery | None = None
                    ) -> list[SeriesRecord]: ...
    def find_instances(self, study_uid: str, series_uid: str) -> list[str]: ...
    def fetch(self, study_uid: str, series_uid: str, sop_uids: Sequence[str] | None,
              cache: RetrieveCache, cancelled: Callable[[], bool] = ...) -> Iterator[Path]: ...
    def store(self, paths: Sequence[str | Path],
              progress: Callable[[int, int], None] | None = None) -> tuple[int, list[str]]: ...
    def close(self) -> None: ...


def open_client(server: PacsServer, secret: str | None = None) -> PacsClient:
    """A client for ``server`` (``secret``: its password or token, see
    :func:`viewer.io.pacs.secrets.get_secret`). Use it as a context manager or call ``close``."""
    if server.kind == "dicomweb":
        from viewer.io.pacs.dicomweb import DicomWebClient

        return DicomWebClient(server, secret)
    from viewer.io.pacs.dimse import DimseClient

    return DimseClient(server, secret)

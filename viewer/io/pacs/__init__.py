"""PACS clients (no Qt): the server list and secrets, DICOMweb (QIDO/WADO/STOW) and DIMSE
(C-ECHO/FIND/GET/MOVE/STORE) behind one client interface, the resumable retrieve into the local
cache, and sending files. Errors are :class:`PacsError` with a message a reader can act on."""
from __future__ import annotations

from viewer.io.pacs.cache import RetrieveCache, default_cache_dir
from viewer.io.pacs.client import PacsClient, open_client
from viewer.io.pacs.config import (
    PacsServer,
    config_path,
    load_servers,
    resolve_server,
    save_servers,
    server_from_url,
)
from viewer.io.pacs.errors import PacsAuthError, PacsConfigError, PacsError, PartialRetrieveError
from viewer.io.pacs.query import SeriesRecord, StudyQuery, StudyRecord, parse_date_range
from viewer.io.pacs.retrieve import RetrieveProgress, RetrieveResult, retrieve, run_retrieve
from viewer.io.pacs.secrets import forget_secret, get_secret, store_secret
from viewer.io.pacs.send import SendResult, send_files

__all__ = [
    "PacsAuthError", "PacsClient", "PacsConfigError", "PacsError", "PacsServer",
    "PartialRetrieveError", "RetrieveCache", "RetrieveProgress", "RetrieveResult", "SendResult",
    "SeriesRecord", "StudyQuery", "StudyRecord", "config_path", "default_cache_dir",
    "forget_secret", "get_secret", "load_servers", "open_client", "parse_date_range",
    "resolve_server", "retrieve", "run_retrieve", "save_servers", "send_files",
    "server_from_url", "store_secret",
]

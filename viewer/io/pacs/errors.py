"""Exceptions of the PACS clients. Messages say what happened and what to do, in words a reader
can act on; they never contain a password or a token."""
from __future__ import annotations


class PacsError(Exception):
    """A PACS operation failed (connection, authentication, association, query or retrieve)."""


class PacsConfigError(PacsError):
    """The server list or a server address is unusable (bad TOML, unknown name, bad URL)."""


class PacsAuthError(PacsError):
    """The server refused the credentials (HTTP 401/403, or no password available)."""


class PartialRetrieveError(PacsError):
    """A retrieve stopped before every image arrived. What arrived stays in the cache
    (``folder``); a second retrieve fetches only the ``missing`` images."""

    def __init__(self, message: str, *, folder: str, received: int, missing: int) -> None:
        super().__init__(message)
        self.folder = folder
        self.received = received
        self.missing = missing

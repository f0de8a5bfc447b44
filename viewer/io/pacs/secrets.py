"""Passwords and tokens of PACS servers: the OS keyring (``keyring``), else the environment
variable ``SLICEWISE_PACS_PASSWORD_<NAME>``, else asked once per session (the GUI passes
``ask``). Never written in clear to a file, never logged; the session cache lives in memory only.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable

from viewer.io.pacs.config import PacsServer

log = logging.getLogger(__name__)

SERVICE = "SliceWise PACS"
ENV_PREFIX = "SLICEWISE_PACS_PASSWORD_"

_session: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def env_name(server: PacsServer) -> str:
    """The environment variable holding ``server``'s secret: the name in capitals, other
    characters than A-Z and 0-9 as underscores (``my-pacs`` -> ``SLICEWISE_PACS_PASSWORD_MY_PACS``)."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", server.name.upper())


def _key(server: PacsServer) -> tuple[str, str]:
    return server.name, server.username


def _keyring_get(server: PacsServer) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(SERVICE, f"{server.name}:{server.username}")
        except KeyringError as exc:  # no backend (headless, CI): the other sources follow
            log.debug("no keyring for PACS secrets: %s", type(exc).__name__)
    except ImportError:
        log.debug("keyring not installed")
    return None


def keyring_available() -> bool:
    """Whether a usable OS keyring backend exists (not the 'fail' backend)."""
    try:
        import keyring
        from keyring.backends import fail

        return not isinstance(keyring.get_keyring(), fail.Keyring)
    except ImportError:
        return False


def get_secret(server: PacsServer, ask: Callable[[PacsServer], str | None] | None = None
               ) -> str | None:
    """``server``'s password or token, None when it needs none or none could be found.

    Order: this session's memory, the keyring, the environment variable, then ``ask`` (whose
    answer is remembered for the session only)."""
    if server.auth == "none":
        return None
    with _lock:
        cached = _session.get(_key(server))
    if cached is not None:
        return cached
    secret = _keyring_get(server) or os.environ.get(env_name(server)) or None
    if secret is None and ask is not None:
        secret = ask(server) or None
    if secret is not None:
        remember_for_session(server, secret)
    return secret


def remember_for_session(server: PacsServer, secret: str) -> None:
    """Keep ``secret`` in memory until the program ends (never on disk)."""
    with _lock:
        _session[_key(server)] = secret


def store_secret(server: PacsServer, secret: str) -> bool:
    """Save ``secret`` in the OS keyring; True when saved. Without a keyring it is kept for
    this session only (and False is returned, so the GUI can say so)."""
    remember_for_session(server, secret)
    if not keyring_available():
        return False
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(SERVICE, f"{server.name}:{server.username}", secret)
            return True
        except KeyringError as exc:
            log.warning("could not save the PACS password in the keyring: %s", type(exc).__name__)
    except ImportError:
        pass
    return False


def forget_secret(server: PacsServer, *, from_keyring: bool = False) -> None:
    """Drop ``server``'s secret from this session (e.g. after a 401, so it is asked again),
    and from the keyring too when ``from_keyring``."""
    with _lock:
        _session.pop(_key(server), None)
    if from_keyring and keyring_available():
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.delete_password(SERVICE, f"{server.name}:{server.username}")
        except KeyringError as exc:
            log.debug("keyring delete failed: %s", type(exc).__name__)


def clear_session() -> None:
    """Forget every secret kept in memory (tests)."""
    with _lock:
        _session.clear()

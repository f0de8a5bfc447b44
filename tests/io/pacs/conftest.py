"""The real Orthanc of tests/pacs_server.py for the PACS client tests."""
from __future__ import annotations

import pytest

from tests.pacs_server import orthanc, orthanc_factory  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _isolated_secrets(monkeypatch, tmp_path):
    """No keyring, no leftover session secrets, no user config or cache."""
    import keyring
    from keyring.backends import fail

    from viewer.io.pacs import secrets

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    monkeypatch.setattr(keyring, "get_password", lambda *a: None)
    monkeypatch.setenv("SLICEWISE_PACS_CONFIG", str(tmp_path / "config" / "pacs.toml"))
    monkeypatch.setenv("SLICEWISE_PACS_CACHE", str(tmp_path / "cache"))
    secrets.clear_session()
    yield
    secrets.clear_session()

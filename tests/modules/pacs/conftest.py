"""The real Orthanc of tests/pacs_server.py for the GUI module tests."""
from __future__ import annotations

from tests.pacs_server import orthanc, orthanc_factory  # noqa: F401 (fixtures)

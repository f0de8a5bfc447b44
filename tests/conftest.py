"""Suite-wide test setup: headless Qt, the shared real-DICOM folder, fast torch on 2 cores."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SLICEWISE_DEVICE", "cpu")
# Never touch the user's own settings or data folder: one throw-away place per test run
# (tests that need their own folders override these with monkeypatch).
_RUN_DIR = tempfile.mkdtemp(prefix="slicewise-tests-")
os.environ.setdefault("SLICEWISE_DATA_DIR", os.path.join(_RUN_DIR, "data"))
os.environ.setdefault("SLICEWISE_SETTINGS_DIR", os.path.join(_RUN_DIR, "settings"))

# Qt fixtures (isolated settings for every test, phantoms, a main window) live in gui_support.
pytest_plugins = ["tests.gui_support"]



def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ARG001 - pytest's hook signature
    """Let background jobs that outlived their test's window end before the interpreter does
    (a worker killed at exit makes Qt print a warning on the terminal)."""
    import sys

    if "viewer.state.jobs" in sys.modules:
        sys.modules["viewer.state.jobs"].wait_for_workers(60000)


REPO = Path(__file__).resolve().parents[1]
SHARED_DICOM = (REPO / ".." / "shared" / "dicom").resolve()


@pytest.fixture(scope="session")
def shared_dicom() -> Path:
    """The real DICOM collection beside the checkout; skips the test when it is absent."""
    if not SHARED_DICOM.is_dir():
        pytest.skip("../shared/dicom is not present (real DICOM tests run only beside it)")
    return SHARED_DICOM


def shared_path(*parts: str) -> Path:
    """A path inside ../shared/dicom, skipping the calling test when it is missing."""
    path = SHARED_DICOM.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path

"""Fixtures of the GUI tests: isolated settings, synthetic phantoms (numpy Volumes and DICOM
series written by the project's own writer), and a main window that is shut down cleanly."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own QSettings ini file (never the user's settings)."""
    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("SLICEWISE_SETTINGS_DIR", str(folder))
    monkeypatch.setenv("SLICEWISE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    return folder


def phantom(z: int = 12, y: int = 28, x: int = 64, bright: float = 400.0,
            background: float = -1000.0) -> np.ndarray:
    """(z, y, x) float32: ``background`` with a bright ellipse (value ``bright + 10*k`` on slice
    k) in the left half of the image and a medium square (``bright / 4``) lower right."""
    vox = np.full((z, y, x), background, np.float32)
    yy, xx = np.mgrid[:y, :x]
    ellipse = ((yy - y / 2) / (y / 3)) ** 2 + ((xx - x / 4) / (x / 6)) ** 2 < 1
    square = (yy > y * 0.6) & (yy < y * 0.9) & (xx > x * 0.65) & (xx < x * 0.9)
    for k in range(z):
        vox[k][ellipse] = bright + 10.0 * k
        vox[k][square] = bright / 4
    return vox


def make_volume(modality: str = "CT", z: int = 12, y: int = 28, x: int = 64,
                spacing=(5.0, 4.0, 6.4), name: str = "Doe^Jane", **kwargs):
    """A complete numpy Volume of :func:`phantom` (axial, LPS identity direction)."""
    from viewer.io.records import PatientInfo, Volume, WindowPreset

    vox = phantom(z, y, x)
    return Volume(vox, tuple(spacing), (-100.0, -50.0, 20.0), np.eye(3), modality, "1.2.3.4",
                  description="Phantom axial", study_description="Phantom study",
                  patient=PatientInfo(name, "PID-778", "19700131", "F"),
                  window=WindowPreset("Header", 40.0, 400.0), **kwargs)


@pytest.fixture
def volume():
    return make_volume()


@pytest.fixture
def ct_folder(tmp_path) -> Path:
    """A 12-slice synthetic CT series written as DICOM into tmp_path/ct."""
    from viewer.io import PatientInfo, write_series

    folder = tmp_path / "ct"
    write_series(folder, phantom(), spacing=(5.0, 4.0, 6.4), modality="CT",
                 series_description="Phantom CT", study_description="Phantom study",
                 patient=PatientInfo("Doe^Jane", "PID-778", "19700131", "F"), window=(40, 400))
    return folder


@pytest.fixture
def window(qtbot):
    """A MainWindow with the workspace module (not shown on screen) that cancels its jobs on
    teardown."""
    from viewer.app import create_main_window

    win = create_main_window(modules=("workspace",))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.runner.shutdown(2000)


def open_and_wait(qtbot, win, paths, timeout: int = 20000):
    """Open ``paths`` in ``win`` and wait until a volume is completely loaded."""
    with qtbot.waitSignal(win.state.volume_loaded, timeout=timeout) as blocker:
        win.open_paths([str(p) for p in paths])
    return blocker.args[0]

"""The command-line contracts: ``slicewise info``, ``screenshot``, ``--install-desktop``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from viewer.io import write_series

REPO = Path(__file__).resolve().parents[2]


def slicewise(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    return subprocess.run([sys.executable, "-m", "viewer", *args], capture_output=True, text=True,
                          cwd=REPO, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def ct_series(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ct")
    z = np.full((6, 48, 64), -1000.0, np.float32)
    z[:, 12:36, 16:48] = 40.0
    write_series(folder, z, spacing=(2.5, 0.8, 0.7), modality="CT", window=(40, 400),
                 series_description="CLI test CT")
    (folder / "notes.txt").write_text("not DICOM")
    return folder


def test_info_json_contract(ct_series: Path) -> None:
    r = slicewise("info", str(ct_series), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"series", "skipped"}
    (s,) = doc["series"]
    assert set(s) == {"uid", "description", "modality", "files", "slices", "rows", "columns",
                      "spacing", "orientation", "warnings"}
    assert (s["modality"], s["files"], s["slices"], s["rows"], s["columns"]) == ("CT", 6, 6, 48, 64)
    assert s["spacing"] == pytest.approx([2.5, 0.8, 0.7], abs=1e-3)
    assert s["orientation"] == "axial"
    assert s["description"] == "CLI test CT"
    assert any(k["path"].endswith("notes.txt") and k["reason"] for k in doc["skipped"])


def test_info_text_and_exit_status_when_nothing_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    r = slicewise("info", str(tmp_path))
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    r = slicewise("info", str(tmp_path / "does-not-exist"), "--json")
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr


def test_info_on_real_series(shared_dicom: Path) -> None:
    r = slicewise("info", str(shared_dicom / "geometry_edge_cases" / "sliceincrement" / "001"), "--json")
    assert r.returncode == 0, r.stderr
    (s,) = json.loads(r.stdout)["series"]
    assert s["warnings"], "a missing slice must be reported"
    assert s["spacing"][0] != pytest.approx(6.667, abs=0.01)


def test_screenshot_writes_png(ct_series: Path, tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    r = slicewise("screenshot", str(ct_series), "--out", str(out), "--slice", "3",
                  "--window", "40,400", "--size", "400x300")
    assert r.returncode == 0, r.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (400, 300)
    assert r.stderr == "" and r.stdout.strip() == str(out)   # no Qt plugin chatter on the terminal


def test_screenshot_bad_slice_is_a_message(ct_series: Path, tmp_path: Path) -> None:
    r = slicewise("screenshot", str(ct_series), "--out", str(tmp_path / "x.png"), "--slice", "99")
    assert r.returncode == 1
    assert "outside 1-6" in r.stderr and "Traceback" not in r.stderr


def test_install_desktop(tmp_path: Path) -> None:
    r = slicewise("--install-desktop", env={"XDG_DATA_HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    entry = (tmp_path / "applications" / "slicewise.desktop").read_text()
    assert "Name=SliceWise" in entry and "Exec=" in entry and "Icon=slicewise" in entry
    assert (tmp_path / "icons/hicolor/256x256/apps/slicewise.png").stat().st_size > 1000
    assert (tmp_path / "icons/hicolor/scalable/apps/slicewise.svg").is_file()


def test_version() -> None:
    r = slicewise("--version")
    assert r.returncode == 0 and "SliceWise" in r.stdout


def test_screenshot_layout_and_crosshair(ct_series: Path, tmp_path: Path) -> None:
    out = tmp_path / "layout.png"
    r = slicewise("screenshot", str(ct_series), "--out", str(out), "--layout", "2x2",
                  "--crosshair", "10,10,5", "--size", "600x600")
    assert r.returncode == 0, r.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (600, 600)


def test_screenshot_bad_crosshair_is_a_message(ct_series: Path, tmp_path: Path) -> None:
    r = slicewise("screenshot", str(ct_series), "--out", str(tmp_path / "x.png"),
                  "--layout", "1x3", "--crosshair", "1,2")
    assert r.returncode == 2 and "X,Y,Z" in r.stderr and "Traceback" not in r.stderr

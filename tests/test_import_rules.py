"""The package boundaries of ../shared/DESIGN.md.

The rules themselves are import-linter contracts in pyproject.toml (layers, no Qt in io/core/
inference, torch only where it belongs, inference standing alone); they see imports inside
functions too. This file runs them, plus the one runtime check import-linter cannot make: the
window opens without importing torch (models load in worker threads on first use).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    out = subprocess.run([exe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_window_opens_without_importing_torch(tmp_path) -> None:
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from viewer.app import create_application, create_main_window\n"
        "app = create_application([])\n"
        "win = create_main_window()\n"
        "from PySide6.QtCore import QTimer\n"
        "win.show(); QTimer.singleShot(200, app.quit); app.exec()\n"
        "loaded = sorted(m for m in ('torch', 'torchvision') if m in sys.modules)\n"
        "win.runner.shutdown(2000)\n"
        "print('LOADED', ' '.join(loaded))\n"
    )
    env = {"SLICEWISE_SETTINGS_DIR": str(tmp_path / "s"), "SLICEWISE_DATA_DIR": str(tmp_path / "d"),
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("LOADED")][-1]
    assert line.split()[1:] == [], f"opening the window imported {line.split()[1:]}"

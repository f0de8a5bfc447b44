"""viewer.ui, viewer.app and the screenshot renderer never import torch (checked in a fresh
interpreter, so other tests' imports cannot hide a violation)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["viewer.ui.main_window", "viewer.app", "viewer.cli.render",
                                    "viewer.state.viewer_state", "viewer.state.jobs"])
def test_no_torch_import(module):
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            "import viewer.ui.views.slice_view; "
            "bad = [m for m in ('torch', 'torchvision') if m in sys.modules]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert proc.returncode == 0, f"{module} imported {proc.stdout.strip()} {proc.stderr[-500:]}"

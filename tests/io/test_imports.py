"""viewer.io must not pull in Qt, torch or inference."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_viewer_io_loads_no_gui_or_torch() -> None:
    code = ("import sys, json, viewer.io; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'torch', 'inference', 'pyqtgraph', 'shiboken6'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []

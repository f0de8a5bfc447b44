"""Package boundaries of the teaching code, checked in fresh interpreters."""
from __future__ import annotations

import subprocess
import sys

import pytest

LOGIC = ["viewer.modules.teaching.caselist", "viewer.modules.teaching.session", "viewer.modules.teaching.summary",
         "viewer.modules.teaching.report", "viewer.modules.teaching.replay", "viewer.modules.teaching.demo_set",
         "viewer.modules.teaching.ai"]
UI = ["viewer.modules.teaching.quiz_panel", "viewer.modules.teaching.presenter", "viewer.modules.teaching.caselist_editor",
      "viewer.modules.teaching.controller", "viewer.modules.teaching.menu", "viewer.modules.teaching.presenting"]


def _loaded(module: str) -> set[str]:
    code = (f"import sys, {module}; print(' '.join(m for m in ('torch', 'PySide6', 'inference') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", LOGIC)
def test_logic_modules_load_neither_qt_nor_torch(module):
    assert not _loaded(module) & {"torch", "PySide6"}


@pytest.mark.parametrize("module", UI)
def test_gui_modules_never_load_torch_or_inference(module):
    assert not _loaded(module) & {"torch", "inference"}

"""A model manifest that cannot be read is listed in the Messages panel with its error; the
other models are still offered."""
from __future__ import annotations

import shutil

from tests.modules.ai.support import SHIPPED, ai_window


def test_broken_manifest_is_reported_and_the_others_stay(qtbot, monkeypatch, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    for suffix in (".json", ".safetensors"):
        shutil.copy(SHIPPED / f"tumour{suffix}", folder / f"tumour{suffix}")
    (folder / "broken.json").write_text("{ this is not JSON")
    monkeypatch.setenv("SLICEWISE_TEST_MODELS", str(folder))
    win, ctl = ai_window(qtbot, monkeypatch)
    assert "tumour" in ctl.ai.models and "broken" not in ctl.ai.models
    lines = "\n".join(win.messages.lines())
    assert "cannot be used" in lines and "broken" in lines

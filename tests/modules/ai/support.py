"""Shared helpers of the AI GUI tests: the shipped demo models, small phantom volumes, waiting.

Tests use the demo weights shipped in resources/models. They skip (saying why) only while that
folder has no manifest; ``SLICEWISE_TEST_MODELS=<dir>`` points them at other manifests (e.g. while
developing before the demo weights exist).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "resources" / "models"


def use_demo_models(monkeypatch: pytest.MonkeyPatch, needed: tuple[str, ...] = ("tumour",)) -> Path:
    """The folder of the model manifests the tests use; skips when the needed models are absent."""
    import inference.registry as registry

    folder = SHIPPED
    override = os.environ.get("SLICEWISE_TEST_MODELS")
    if override:
        folder = Path(override)
        monkeypatch.setattr(registry, "builtin_models_dir", lambda: folder)
    names = {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()
    missing = [n for n in needed if n not in names]
    if missing:
        pytest.skip(f"demo model(s) {', '.join(missing)} not in {folder} (train them with "
                    "`python -m inference.train --task TASK`)")
    return folder


def brain_volume(n: int = 6, size: int = 96, seed: int = 3, description: str = "Brain MR T1c",
                 spacing=(5.0, 1.0, 1.0), uid: str = "1.2.826.0.1.3680043.8.498.77"):
    """A small synthetic brain MR Volume (tumour phantom) without DICOM."""
    from inference.phantoms import brain_mr_volume
    from viewer.io.records import PatientInfo, Volume, WindowPreset

    vox, _ = brain_mr_volume(seed=seed, n_slices=n, size=size, tumour=True)
    return Volume(vox, tuple(spacing), (0.0, 0.0, 0.0), np.eye(3), "MR", uid,
                  description=description, study_description="AI test study",
                  patient=PatientInfo("Test^AI", "AI-1", "", "O"),
                  window=WindowPreset("Header", 500.0, 1000.0), orientation="axial")


def ai_window(qtbot, monkeypatch, needed: tuple[str, ...] = ("tumour",)):
    """A MainWindow with the AI module, its models listed, not shown on screen."""
    use_demo_models(monkeypatch, needed)
    from viewer.app import create_main_window

    win = create_main_window()
    qtbot.addWidget(win)
    win.show()
    ctl = win.modules["ai"]
    qtbot.waitUntil(lambda: bool(ctl.ai.models), timeout=15000)
    return win, ctl


def wait_maps(qtbot, ctl, final: bool = True, timeout: int = 60000, scored: bool | None = None) -> None:
    """Wait until every map the current method needs is on screen (final ones by default; with
    ``scored`` - default: when waiting for final maps - also their deletion score, which is
    computed in the background after the map is shown)."""
    scored = final if scored is None else scored

    def ready() -> bool:
        maps = ctl.ai.maps
        return all(m in maps and (maps[m].final or not final) and (maps[m].scored or not scored)
                   for m in ctl.ai.needed_methods())
    qtbot.waitUntil(ready, timeout=timeout)


def show_maps_anyway(ctl) -> None:
    """Show the maps of the series on screen even where its slices are outside the model's
    domain (the reader's "Show anyway"). For tests of drawing, alignment and caching, which must
    not depend on whether the demo weights' out-of-distribution threshold accepts a phantom."""
    ctl.ai.set_shown_anyway(True)

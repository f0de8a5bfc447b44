"""The fully composed window (viewer, workspace, AI module, teaching menu) binds each key once."""
from __future__ import annotations


def test_composed_window_has_no_shortcut_conflicts(qtbot):
    from viewer.app import create_main_window
    from viewer.ui.shortcuts import conflicts, every_action

    window = create_main_window()
    qtbot.addWidget(window)
    try:
        actions = every_action(window)
        texts = {a.text().replace("&", "") for a in actions}
        assert {"Toggle overlay", "Cine play / pause", "Ruler"} <= texts
        assert conflicts(actions) == {}
    finally:
        window.runner.shutdown(2000)

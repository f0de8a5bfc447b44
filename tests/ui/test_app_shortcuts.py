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


def test_conflicts_compare_keystrokes_not_sequence_texts(qtbot):
    from PySide6.QtGui import QAction, QKeySequence

    from viewer.ui.shortcuts import conflicts

    a, b = QAction("More"), QAction("Less")
    a.setShortcuts([QKeySequence("}"), QKeySequence("Shift+]")])   # one keystroke, twice
    b.setShortcut(QKeySequence("Ctrl+L"))
    assert set(conflicts([a, b])) == {"}"}
    a.setShortcuts([QKeySequence("}")])
    assert conflicts([a, b]) == {}

"""The Slicer-style module bar of the composed window: one entry per module, each raising its
panel (or popping up its menu) by the combo box or Ctrl+Alt+n."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMenu

pytestmark = pytest.mark.gui


@pytest.fixture
def composed(qtbot):
    from viewer.app import create_main_window

    window = create_main_window()
    qtbot.addWidget(window)
    window.show()
    yield window
    window.runner.shutdown(2000)


def test_module_bar_lists_the_modules_and_raises_their_panels(qtbot, composed):
    bar = composed.module_bar
    assert list(bar.entries) == ["data", "workspace", "compare", "ai", "teaching", "pacs"]
    assert [bar.combo.itemText(i) for i in range(bar.combo.count())] == \
        ["Data", "Workspace tools", "Compare", "AI", "Teaching", "PACS"]
    ai_dock = bar.entries["ai"].docks[0]
    assert ai_dock.objectName() == "inference"
    assert bar.entries["data"].docks == [composed.modules_dock]
    assert [d.objectName() for d in bar.entries["workspace"].docks] == ["measurements"]
    assert bar.entries["teaching"].docks == [] and bar.entries["teaching"].menu is not None
    # the AI panel is tabbed with the study browser on the left: choosing switches the tab
    bar.select("data")
    assert not composed.modules_dock.visibleRegion().isEmpty()
    bar.entries["ai"].action.trigger()  # Ctrl+Alt+3
    qtbot.waitUntil(lambda: not ai_dock.visibleRegion().isEmpty())
    assert composed.modules_dock.visibleRegion().isEmpty()
    assert bar.combo.currentText() == "AI"
    # another way to the front (the panel key Ctrl+4, a tab click): the box follows
    composed.modules_dock.raise_()
    qtbot.waitUntil(lambda: bar.combo.currentText() == "Data")
    ai_dock.raise_()
    qtbot.waitUntil(lambda: bar.combo.currentText() == "AI")
    measurements = bar.entries["workspace"].docks[0]
    measurements.hide()
    bar.combo.activated.emit(1)  # the combo box: Tools
    assert measurements.isVisible() and bar.current == "workspace"


def test_module_keys_are_ctrl_alt_numbers_and_teaching_pops_its_menu(qtbot, composed):
    bar = composed.module_bar
    keys = [a.shortcut().toString() for a in bar.actions_list()]
    assert keys == ["Ctrl+Alt+1", "Ctrl+Alt+2", "Ctrl+Alt+3", "Ctrl+Alt+4", "Ctrl+Alt+5",
                    "Ctrl+Alt+6"]
    assert all(a in list(composed.registry) for a in bar.actions_list())
    menu: QMenu = bar.entries["teaching"].menu
    bar.select("teaching")
    qtbot.waitUntil(menu.isVisible)
    menu.hide()


def test_plane_views_show_their_position(qtbot, window, ct_folder):
    from tests.gui_support import open_and_wait

    open_and_wait(qtbot, window, [ct_folder])
    layouts = window.modules["workspace"].layouts
    layouts.set_layout("2x2")
    view = layouts.views["coronal"]
    layouts.nav.step_plane("coronal", 2)
    depths = layouts.nav.planes["coronal"].depths
    assert view.canvas.annotations.bottom_left[0] == f"Coronal {view.depth + 1}/{depths}"
    single = window.slice_view
    assert single.canvas.annotations.bottom_left[0].startswith(
        f"Slice {window.state.slice_index + 1}/12")

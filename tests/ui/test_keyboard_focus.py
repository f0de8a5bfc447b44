"""The slice keys belong to the image: at start, after a series is chosen (click) and after Esc
in the series list; the list takes arrow keys only while the reader is in it. Multi-view
layouts frame the active view, which takes the keys and the cine.

Keys go to whatever widget has the keyboard focus (QApplication.focusWidget()), as a reader's
keystrokes do; the real-X-server check of the same behaviour is in the walkthrough notes."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui_support import open_and_wait, phantom

pytestmark = pytest.mark.gui


def _press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    target = QApplication.focusWidget()
    assert target is not None, "no widget has the keyboard"
    qtbot.keyClick(target, key, modifier)


@pytest.fixture
def two_series(tmp_path):
    from viewer.io import PatientInfo, write_series

    for n in (1, 2):
        write_series(tmp_path / f"s{n}", phantom(), spacing=(5.0, 4.0, 6.4), modality="CT",
                     series_description=f"Phantom {n}", study_description="Phantom study",
                     patient=PatientInfo("Doe^Jane", "PID-778", "19700131", "F"),
                     window=(40, 400))
    return tmp_path


@pytest.fixture
def app_window(qtbot):
    from viewer.app import create_main_window

    win = create_main_window(modules=("workspace",))
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    yield win
    win.runner.shutdown(2000)


def test_slice_keys_scroll_at_start_after_a_click_and_after_esc(qtbot, app_window, two_series):
    win = app_window
    open_and_wait(qtbot, win, [two_series])
    k0 = win.state.slice_index
    _press(qtbot, Qt.Key.Key_Down)                          # at start: the image has the keys
    assert win.state.slice_index == k0 + 1
    browser = win.series_browser
    second = browser.item(1)
    uid = win.state.volume.series_uid
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton,
                         pos=browser.visualItemRect(second).center())
    assert win.state.volume.series_uid != uid
    k1 = win.state.slice_index
    _press(qtbot, Qt.Key.Key_Down)                          # after choosing: still the image
    assert win.state.slice_index == k1 + 1 and browser.currentRow() == 1
    browser.setFocus(Qt.FocusReason.TabFocusReason)          # the reader tabs into the list
    _press(qtbot, Qt.Key.Key_Up)
    assert browser.currentRow() == 0 and win.state.slice_index == k1 + 1
    _press(qtbot, Qt.Key.Key_Escape)                        # Esc gives the keys back
    _press(qtbot, Qt.Key.Key_PageDown)
    assert win.state.slice_index == min(k1 + 11, win.state.volume.n_slices - 1)


def test_active_view_is_framed_and_takes_the_keys(qtbot, app_window, two_series):
    win = app_window
    open_and_wait(qtbot, win, [two_series / "s1"])
    layouts = win.modules["workspace"].layouts
    layouts.set_layout("1x3")
    qtbot.mouseClick(layouts.views["coronal"].canvas.viewport(), Qt.MouseButton.LeftButton)
    assert layouts.active_view() is layouts.views["coronal"]
    assert layouts.views["coronal"].testAttribute(Qt.WidgetAttribute.WA_StyledBackground)
    assert not layouts.views["axial"].testAttribute(Qt.WidgetAttribute.WA_StyledBackground)
    depth = layouts.nav.depth("coronal")
    _press(qtbot, Qt.Key.Key_Down)
    assert layouts.nav.depth("coronal") == depth + 1
    _press(qtbot, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)   # next view
    assert layouts.active_view() is layouts.views["sagittal"]
    assert layouts.views["sagittal"].testAttribute(Qt.WidgetAttribute.WA_StyledBackground)


def test_esc_in_a_side_panel_gives_the_keys_back_to_the_image(qtbot, two_series):
    """A walkthrough under X: with the AI panel's method box focused, Down changed the method
    and Esc left the keys there. Esc in any dock panel now hands them back to the image."""
    from viewer.app import create_main_window

    win = create_main_window(modules=("workspace", "ai"))
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    try:
        open_and_wait(qtbot, win, [two_series / "s1"])
        box = win.modules["ai"].panel.controls.method_box
        win.modules["ai"].show_panel()
        box.setFocus(Qt.FocusReason.MouseFocusReason)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is box, timeout=2000)
        method = box.currentIndex()
        _press(qtbot, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is not box, timeout=2000)
        k = win.state.slice_index
        _press(qtbot, Qt.Key.Key_Down)
        assert win.state.slice_index == k + 1 and box.currentIndex() == method
    finally:
        win.runner.shutdown(2000)

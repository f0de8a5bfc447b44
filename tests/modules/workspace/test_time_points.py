"""4-D series in the composed window: the time bar, Ctrl+Up/Down and cine over time show
other time points, read in the background; the voxels on screen are pydicom's decode of that
time point's file."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.conftest import shared_path
from tests.gui_support import open_and_wait
from tests.io.pydicom_oracle import oracle

pytestmark = pytest.mark.gui


def _shown(window) -> np.ndarray:
    return np.asarray(window.slice_view.image.image)


def _frame_of(path: str, plane: np.ndarray) -> bool:
    frames, _ = oracle(path)
    return any(np.allclose(plane, f, atol=1e-3) for f in frames)


def test_time_points_of_xa10_by_keys_slider_and_cine(qtbot, window):
    folder = shared_path("multiframe", "siemens_xa10")
    open_and_wait(qtbot, window, [folder])
    st, view = window.state, window.slice_view
    files = st.series.files
    assert st.time_points == 4 and st.time_point == 0
    assert view.time_bar.isVisible() and view.time_bar.label.text() == "time 1 / 4"
    k = st.slice_index
    with qtbot.waitSignal(st.time_point_changed, timeout=20000):
        qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert st.time_point == 1 and st.slice_index == k  # same slice, next time point
    assert _frame_of(files[1], _shown(window)) and not _frame_of(files[0], _shown(window))
    assert view.time_bar.label.text() == "time 2 / 4"
    with qtbot.waitSignal(st.time_point_changed, timeout=20000):
        view.time_bar.slider.setValue(3)
    assert st.time_point == 3 and _frame_of(files[3], st.volume.voxels[k])
    # back to a time point already read: from the cache, at once (no job)
    st.request_time_point(1)
    assert st.time_point == 1
    # cine over time: on by default for a 4-D series; it wraps around the time points
    ws = window.modules["workspace"]
    assert ws.act_cine_time.isEnabled() and ws.act_cine_time.isChecked()
    seen = set()
    st.time_point_changed.connect(seen.add)
    ws.cine.set_fps(60)
    ws.cine.play()
    qtbot.waitUntil(lambda: seen >= {0, 1, 2, 3}, timeout=20000)
    ws.cine.pause()
    assert st.slice_index == k


def test_three_d_series_has_no_time_bar(qtbot, window, ct_folder):
    open_and_wait(qtbot, window, [ct_folder])
    st = window.state
    assert st.time_points == 1 and not window.slice_view.time_bar.isVisible()
    st.request_time_point(2)
    assert st.time_point == 0
    assert not window.modules["workspace"].act_cine_time.isEnabled()

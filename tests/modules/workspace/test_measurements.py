"""Measurements drawn with the mouse: a ruler across a phantom of known size reads its length in
mm, ellipse ROI statistics in HU, the panel edits and deletes, handles edit, and the session file
brings measurements back when the series is reopened."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from tests.gui_support import open_and_wait
from viewer.io.records import Volume, WindowPreset
from viewer.modules.workspace.measurements import MeasurementController, MeasurementStore
from viewer.modules.workspace.measurements_panel import MeasurementsPanel
from viewer.state.viewer_state import ViewerState
from viewer.ui.views.slice_view import SliceView

BLOCK = (20, 40, 10, 50)   # rows 20-39, columns 10-49 at 0.7 mm: 28 mm wide, 10 mm tall


@pytest.fixture
def rig(qtbot):
    vox = np.full((3, 60, 80), -1000.0, np.float32)
    r0, r1, c0, c1 = BLOCK
    vox[:, r0:r1, c0:c1] = 40.0
    vol = Volume(vox, (2.0, 0.5, 0.7), (0.0, 0.0, 0.0), np.eye(3), "CT", "m",
                 window=WindowPreset("W", 0.0, 100.0))
    state = ViewerState()
    view = SliceView(state)
    qtbot.addWidget(view)
    view.resize(800, 640)
    view.show()
    qtbot.waitExposed(view)
    state.open_volume(vol)
    store = MeasurementStore()
    ctl = MeasurementController(state, store)
    ctl.add_view(view)
    return view, store, ctl


def _screen(view, x_mm: float, y_mm: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(x_mm, y_mm))
    return view.canvas.mapFromScene(scene)


def _edges_on_screen(view) -> tuple[int, int, int]:
    """Left and right screen x of the bright block on the row through its middle (found from
    the rendered pixels, as a reader would place the ruler), and that row's y."""
    img = view.canvas.grab().toImage()
    r0, r1, c0, c1 = BLOCK
    y = _screen(view, 40 * 0.7, (r0 + r1) / 2 * 0.5).y()
    centre = _screen(view, (c0 + c1) / 2 * 0.7, 0).x()

    def bright(x: int) -> bool:
        c = img.pixelColor(x, y)
        return min(c.red(), c.green(), c.blue()) > 200

    assert bright(centre)
    left = right = centre
    while bright(left - 1):
        left -= 1
    while bright(right):
        right += 1
    return left, right, y


def test_ruler_across_phantom_reads_its_width_in_mm(rig):
    view, store, ctl = rig
    view.view.set_interpolation("pixels")   # edges found on screen pixels: no smoothing
    ctl.set_tool("ruler")
    left, right, y = _edges_on_screen(view)
    vp = view.canvas.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(left, y))
    QTest.mouseMove(vp, QPoint((left + right) // 2, y))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(right, y))
    (m,) = store.ordered()
    mm_per_px = view.mm_per_pixel()
    assert m.kind == "ruler" and m.plane == "native"
    assert m.value == pytest.approx(40 * 0.7, abs=2 * mm_per_px)   # 28 mm block
    assert m.text().endswith(" mm")
    ctl.set_tool("navigate")   # back to panning: the filter lets events through
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=QPoint(left, y))
    assert len(store.items) == 1


def test_ellipse_stats_angle_and_panel(rig, qtbot):
    view, store, ctl = rig
    r0, r1, c0, c1 = BLOCK
    cx, cy = (c0 + c1) / 2 * 0.7, (r0 + r1) / 2 * 0.5
    m = ctl.draw(view, "ellipse", [(cx - 6, cy - 3), (cx + 6, cy + 3)])
    assert m.stats.mean == pytest.approx(40.0) and m.stats.sd == pytest.approx(0.0)
    assert m.stats.unit == "HU" and m.stats.area_mm2 == pytest.approx(math.pi * 18)
    a = ctl.draw(view, "angle", [(10, 0), (0, 0), (0, 10)])
    assert a.value == pytest.approx(90.0)
    panel = MeasurementsPanel(store)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == 2
    assert "HU" in panel.table.item(0, 2).text()
    panel.table.item(0, MeasurementsPanel.LABEL).setText("liver ROI")
    assert store.items[m.id].label == "liver ROI"
    # ROI items are on the view; moving the ellipse onto air changes its statistics
    (roi, label, _), = [v for k, v in ctl._items.items() if k[1] == m.id]
    assert "liver ROI" in label.toPlainText()
    roi.setPos(QPointF(1.0, 1.0), finish=True)
    assert store.items[m.id].stats.mean == pytest.approx(-1000.0)
    panel.table.selectRow(1)
    panel.delete_selected()
    assert list(store.items) == [m.id]
    # measurements show only on their slice
    view.state.set_slice(0)
    assert not ctl._items
    view.state.set_slice(1)
    assert len(ctl._items) == 1


def test_window_from_region(rig):
    view, store, ctl = rig
    r0, r1, c0, c1 = BLOCK
    ctl.draw(view, "region", [((c0 - 5) * 0.7, r0 * 0.5), ((c0 + 5) * 0.7, (r1 - 1) * 0.5)])
    c, w = view.state.window
    assert view.state.window_name == "Region"
    assert c - w / 2 <= -990 and c + w / 2 >= 30     # covers air and the block
    assert not store.items


def test_session_restores_measurements_on_reopen(window, qtbot, ct_folder):
    open_and_wait(qtbot, window, [ct_folder])
    ws = window.modules["workspace"]
    view = window.slice_view
    m = ws.measure.draw(view, "ellipse", [(60.0, 40.0), (120.0, 70.0)])
    ws.measure.draw(view, "ruler", [(10.0, 10.0), (70.0, 10.0)])
    with qtbot.waitSignal(window.runner.finished, timeout=5000,
                          check_params_cb=lambda key, rid, res: key == "session-save"):
        ws.save_session()
    with qtbot.waitSignal(ws.store.changed, timeout=10000):
        open_and_wait(qtbot, window, [ct_folder])
    qtbot.waitUntil(lambda: len(ws.store.items) == 2, timeout=5000)
    restored = ws.store.items[m.id]
    np.testing.assert_allclose(restored.points, m.points)
    from viewer.core.session_file import session_path

    assert session_path(window.state.series.study_instance_uid,
                        window.state.volume.series_uid).is_file()
    assert restored.stats is not None and restored.stats.mean == pytest.approx(m.stats.mean)
    assert ws.store.ordered()[1].value == pytest.approx(60.0)


def test_panel_names_the_slice_and_labels_stay_inside_the_view(window, qtbot, ct_folder):
    open_and_wait(qtbot, window, [ct_folder])
    ws = window.modules["workspace"]
    view = window.slice_view
    window.state.set_slice(4)
    cx = view.view_box.viewRect().center().x()
    ruler = ws.measure.draw(view, "ruler", [(cx - 40.0, 10.0), (cx + 60.0, 10.0)])
    panel = ws.panel
    slice_col = panel.COLUMNS.index("Slice")
    assert panel.table.item(0, slice_col).text() == f"5/{window.state.volume.n_slices}"
    (_, label, _), = [v for k, v in ws.measure._items.items() if k[1] == ruler.id]
    assert label.textItem.font().pointSizeF() >= 11
    # the end point is in the right half of the view: the text runs to the left, inside it
    rect = view.view_box.viewRect()
    end_x = label.pos().x()
    assert end_x > rect.center().x() and label.anchor.x() == 1.0

"""SliceView: what is drawn (slice, levels, letters, pixels), scrolling, window, zoom, probe."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.gui_support import make_volume
from viewer.io.records import WindowPreset
from viewer.state.viewer_state import ViewerState
from viewer.ui.views.slice_view import SliceView


@pytest.fixture
def view(qtbot):
    state = ViewerState()
    v = SliceView(state)
    qtbot.addWidget(v)
    v.resize(640, 520)
    v.show()
    qtbot.waitExposed(v)
    state.open_volume(make_volume())
    return v


def _pixel(view: SliceView, x_mm: float, y_mm: float):
    img = view.canvas.grab().toImage()
    p = view.canvas.mapFromScene(view.view_box.mapViewToScene(QPointF(x_mm, y_mm)))
    return QColorValue(img.pixelColor(p.x(), p.y()))


def QColorValue(c):  # noqa: N802
    return (c.red() + c.green() + c.blue()) / 3


def test_image_is_current_slice_with_levels(view):
    st = view.state
    assert st.slice_index == 6
    np.testing.assert_array_equal(view.image.image, st.volume.voxels[6])
    assert view.image.image.dtype == np.float32 and view.image.image.flags.c_contiguous
    assert tuple(view.image.levels) == pytest.approx((-160.0, 240.0))
    assert view.slice_label.text() == "slice 7 / 12"


def test_physical_aspect(view):
    rect = view.image_rect()
    assert rect.width() == pytest.approx(64 * 6.4) and rect.height() == pytest.approx(28 * 4.0)
    assert view.view_box.state["aspectLocked"] == 1


def test_letters_follow_direction(view):
    assert view.canvas.annotations.letters == {"left": "R", "right": "L", "top": "A",
                                               "bottom": "P"}
    from dataclasses import replace

    # sagittal: columns i -> posterior... rows: i = (0, 1, 0) P, j = (0, 0, -1) I, k = (-1, 0, 0)
    sagittal = np.array([[0, 0, -1], [1, 0, 0], [0, -1, 0]], float)
    view.state.open_volume(replace(make_volume(), direction=sagittal))
    letters = view.canvas.annotations.letters
    assert letters["right"] == "P" and letters["left"] == "A"
    assert letters["bottom"] == "I" and letters["top"] == "S"


def test_grabbed_pixels_bright_where_phantom_bright(view):
    bright = _pixel(view, 16 * 6.4, 14 * 4.0)      # ellipse centre (x/4, y/2)
    dark = _pixel(view, 40 * 6.4, 4 * 4.0)         # background
    medium = _pixel(view, 50 * 6.4, 21 * 4.0)      # square at 100 HU
    assert bright > 240 and dark < 10 and dark < medium < bright


def test_keys_wheel_and_slider_scroll(view, qtbot):
    st = view.state
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert st.slice_index == 7
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert st.slice_index == 5
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert st.slice_index == 11
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert st.slice_index == 1
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert st.slice_index == 0
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert st.slice_index == 10
    vp = view.canvas.viewport()
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    for delta, expected in ((-120, 11), (120, 10), (240, 8)):
        ev = QWheelEvent(centre, QPointF(vp.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                         QPoint(0, delta), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                         Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(vp, ev)
        assert st.slice_index == expected
    view.slider.setValue(3)
    assert st.slice_index == 3
    np.testing.assert_array_equal(view.image.image, st.volume.voxels[3])
    assert view.slider.value() == 3


def test_ctrl_wheel_zooms_instead_of_scrolling(view):
    vp = view.canvas.viewport()
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    before, k = view.zoom_percent(), view.state.slice_index
    ev = QWheelEvent(centre, QPointF(vp.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                     QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)
    assert view.state.slice_index == k and view.zoom_percent() > before * 1.05


def test_preset_keys_and_right_drag(view, qtbot):
    st = view.state
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert st.window == (40.0, 80.0) and st.window_name == "Brain"
    assert tuple(view.image.levels) == (0.0, 80.0)
    qtbot.keyClick(view, Qt.Key.Key_4)
    assert st.window_name == "Lung"
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert st.window == (40.0, 400.0)
    view.view_box.window_dragged.emit(0.0, 0.0, True)
    view.view_box.window_dragged.emit(100.0, -50.0, False)  # wider and lower level
    c, w = st.window
    assert w == pytest.approx(600.0) and c == pytest.approx(-60.0)
    assert tuple(view.image.levels) == pytest.approx((c - w / 2, c + w / 2))


def test_auto_preset_for_mr(qtbot):
    state = ViewerState()
    v = SliceView(state)
    qtbot.addWidget(v)
    state.open_volume(make_volume("MR"))
    names = [p.name for p in v.presets()]
    assert names[0] == "Header" and "Auto" in names and "Brain" not in names
    assert v.apply_preset_named("auto") and state.window_name == "Auto"


def test_mr_without_header_window_lists_auto_once(qtbot):
    from dataclasses import replace

    from viewer.io.records import WindowPreset
    from viewer.ui.views.window_presets import fill_preset_menu

    state = ViewerState()
    v = SliceView(state)
    qtbot.addWidget(v)
    state.open_volume(replace(make_volume("MR"), window=WindowPreset("Auto", 300.0, 600.0)))
    names = [p.name for p in v.presets()]
    assert names.count("Auto") == 1
    menu = v.preset_menu()
    fill_preset_menu(menu, v)
    assert sum("Auto" in a.text() for a in menu.actions()) == 1


def test_zoom_in_out_fit_reset(view, qtbot):
    assert view.zoom_percent() == pytest.approx(100.0, abs=1)
    view.zoom_in()
    assert view.zoom_percent() == pytest.approx(125.0, abs=1)
    mm_in = view.mm_per_pixel()
    view.zoom_out()
    view.zoom_out()
    assert view.zoom_percent() == pytest.approx(80.0, abs=1)
    assert view.mm_per_pixel() > mm_in
    view.fit()
    assert view.zoom_percent() == pytest.approx(100.0, abs=1)
    view.zoom_in()
    view.state.set_window(0, 10)
    view.reset()
    assert view.zoom_percent() == pytest.approx(100.0, abs=1)
    assert view.state.window == (40.0, 400.0)


def test_scale_bar_adapts_to_zoom(view):
    before = view.canvas.annotations.mm_per_px
    view.zoom_in()
    view.zoom_in()
    assert view.canvas.annotations.mm_per_px == pytest.approx(before / 1.5625, rel=1e-3)


def test_probe_reports_index_position_and_hu(view):
    st = view.state
    scene = view.view_box.mapViewToScene(QPointF(16.5 * 6.4, 14.5 * 4.0))
    view._on_scene_mouse_moved(scene)
    probe = st.probe
    assert (probe.k, probe.j, probe.i) == (6, 14, 16)
    assert probe.value == pytest.approx(460.0) and probe.unit == "HU"
    assert probe.patient_mm == pytest.approx((-100 + 16 * 6.4, -50 + 14 * 4.0, 20 + 6 * 5.0))
    assert "460 HU" in probe.text()
    outside = view.view_box.mapViewToScene(QPointF(-50.0, -50.0))
    view._on_scene_mouse_moved(outside)
    assert st.probe is None


def test_monochrome1_inverted_and_rgb_colour(qtbot):
    state = ViewerState()
    v = SliceView(state)
    qtbot.addWidget(v)
    state.open_volume(make_volume(invert_display=True))
    lut = v.image.lut
    assert lut is not None and lut[0] == 255 and lut[-1] == 0
    rgb = np.zeros((3, 16, 16, 3), np.float32)
    rgb[..., 0] = 200
    from dataclasses import replace
    state.open_volume(replace(make_volume(), voxels=rgb, is_rgb=True,
                              window=WindowPreset("RGB", 127.5, 255)))
    assert v.image.lut is None and v.image.image.shape == (16, 16, 3)
    img = v.canvas.grab().toImage()
    c = img.pixelColor(img.width() // 2, img.height() // 2)
    assert c.red() > 150 and c.green() < 30 and c.blue() < 30
    assert state.probe_at(2, 2).value == (200.0, 0.0, 0.0)


def test_progressive_loading_shows_loading_text(view):
    st = view.state
    vol = make_volume()
    loaded = np.zeros(vol.n_slices, bool)
    loaded[0] = True
    st.open_volume(vol, loaded, 1)
    assert view.canvas.annotations.centre == "loading…"
    assert float(view.image.image.max()) == 0.0      # blank, not stale data
    assert view.slider.isEnabled()
    view.slider.setValue(0)
    assert st.slice_index == 0 and view.canvas.annotations.centre == ""
    view.slider.setValue(5)
    loaded[:] = True
    st.update_progress(12, 12, loaded)
    np.testing.assert_array_equal(view.image.image, vol.voxels[5])


def test_overlay_api(view):
    heat = np.zeros((28, 64), np.float32)
    heat[10:20, 10:20] = 1.0
    from viewer.core.overlay import OverlayStyle

    view.set_overlay(heat, OverlayStyle("inferno", opacity=0.6, threshold=0.5))
    alpha = view.overlay_layer.rgba[..., 3]
    assert view.overlay_visible() and alpha.max() == round(0.6 * 255)
    assert np.all(alpha[heat < 0.5] == 0)
    assert view.overlay.mapRectToParent(view.overlay.boundingRect()) == view.image_rect()
    with pytest.raises(ValueError):
        view.set_overlay(np.zeros((5, 5), np.float32), OverlayStyle())
    view.set_overlay(None)
    assert not view.overlay_visible()


def test_anonymised_name_not_painted(view):
    assert "Doe Jane" in view.canvas.annotations.top_left
    view.state.set_anonymise(True)
    assert all("Doe" not in t for t in view.canvas.annotations.top_left)


def test_probe_follows_the_slice_when_scrolling_without_moving_the_mouse(view):
    st = view.state
    vol = st.volume
    st.set_slice(3)
    st.set_probe(st.probe_at(10, 20))
    assert st.probe.k == 3 and st.probe.value == pytest.approx(float(vol.voxels[3, 10, 20]))
    st.set_slice(7)                                        # wheel or keys; the mouse rests
    assert (st.probe.k, st.probe.j, st.probe.i) == (7, 10, 20)
    assert st.probe.value == pytest.approx(float(vol.voxels[7, 10, 20]))


def test_images_are_drawn_smooth_once_magnified(view):
    view.state.open_volume(make_volume(z=3, y=512, x=512, spacing=(1.0, 0.5, 0.5)))
    view.fit()
    view.zoom_by(0.25)                                       # a 512 px slice in ~120 px: pixels
    assert not view.view.smooth()
    for _ in range(8):
        view.zoom_in()                                       # far above 100 %: bilinear
    assert view.view.smooth()
    view.view.set_interpolation("pixels")                    # the reader's choice wins
    assert not view.view.smooth()
    view.view.set_interpolation("auto")
    assert view.view.smooth()


def test_annotation_text_follows_the_view_size(view):
    small_text, _ = view.canvas.scaled_fonts()
    view.resize(1400, 1100)
    view.canvas.resize(1400, 1050)
    big_text, big_letters = view.canvas.scaled_fonts()
    assert big_text.pointSizeF() > small_text.pointSizeF()
    view.resize(300, 260)
    view.canvas.resize(300, 230)
    tiny_text, _ = view.canvas.scaled_fonts()
    assert tiny_text.pointSizeF() < small_text.pointSizeF()

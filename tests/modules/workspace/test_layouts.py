"""Layouts and the linked crosshair: a marker at a known patient point lands under the crosshair
in all three plane views for axial, coronal, sagittal and oblique acquisitions; the native slice
follows; links; 3D overlays reformat with the image; every action has a unique shortcut."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from tests.core.test_reformat import DIRECTIONS, marker_volume
from viewer.state.viewer_state import ViewerState
from viewer.ui.views.layouts import LayoutContainer
from viewer.ui.views.slice_view import SliceView


@pytest.fixture
def container(qtbot):
    state = ViewerState()
    c = LayoutContainer(state, SliceView(state))
    qtbot.addWidget(c)
    c.resize(960, 420)
    c.show()
    qtbot.waitExposed(c)
    return c


def _value_under_crosshair(view) -> float:
    x, y = view.crosshair_view_pos()
    px = view.image.mapFromParent(QPointF(x, y))
    return float(view.image.image[int(np.floor(px.y())), int(np.floor(px.x()))])


def _screen_grey(view, dx: int = 3, dy: int = 3) -> float:
    img = view.canvas.grab().toImage()
    p = view.crosshair_screen_point()
    c = img.pixelColor(int(p.x()) + dx, int(p.y()) + dy)
    return (c.red() + c.green() + c.blue()) / 3


@pytest.mark.parametrize("name", ["axial", "coronal", "sagittal", "oblique"])
def test_marker_lands_under_crosshair_in_all_views(container, name):
    vol, p = marker_volume(DIRECTIONS[name])
    st = container.state
    st.open_volume(vol)
    st.set_window(500.0, 1000.0)
    container.set_layout("1x3")
    container.nav.set_crosshair(p)
    assert st.slice_index == 11                       # the native slice follows the crosshair
    views = container.visible_views()
    assert [v.plane for v in views] == ["axial", "coronal", "sagittal"]
    for view in views:
        view.fit()
        x, y = view.geom.to_view(p)
        assert view.crosshair_view_pos() == pytest.approx((x, y))
        assert _value_under_crosshair(view) > 900, view.plane
        assert _screen_grey(view) > 200, view.plane    # drawn bright beside the lines
        assert _screen_grey(view, 60, 60) < 30, view.plane
        assert view.geom.resampled == (name == "oblique")
        assert ("resampled" in view.canvas.annotations.top_left[0]) == (name == "oblique")


def test_native_scroll_moves_crosshair_and_views(container):
    vol, p = marker_volume(DIRECTIONS["axial"])
    st, nav = container.state, container.nav
    st.open_volume(vol)
    container.set_layout("2x2")
    nav.set_crosshair(p)
    st.set_slice(3)
    assert vol.patient_to_index(nav.point)[0] == pytest.approx(3)
    assert vol.patient_to_index(nav.point)[1:] == pytest.approx((23, 31))   # in-plane kept
    assert container.views["axial"].depth == 3
    nav.step_plane("coronal", 2)
    assert vol.patient_to_index(nav.point)[1] == pytest.approx(25)
    assert container.info in [container.grid.itemAt(n).widget()
                              for n in range(container.grid.count())]
    assert "mm" in container.info.text()


def test_layouts_and_unknown(container):
    container.state.open_volume(marker_volume(DIRECTIONS["sagittal"])[0])
    for name, n in (("1", 1), ("1x3", 3), ("2x2", 3), ("conventional", 3)):
        container.set_layout(name)
        assert len(container.visible_views()) == n
    # conventional: the acquisition plane (sagittal) is the large view
    assert container.grid.itemAtPosition(0, 0).widget().plane == "sagittal"
    with pytest.raises(ValueError, match="unknown layout"):
        container.set_layout("3x3")


def test_physical_aspect_of_reformats(container):
    vol, _ = marker_volume(DIRECTIONS["axial"])   # spacing z 3, y 1.5, x 1.2
    container.state.open_volume(vol)
    container.set_layout("1x3")
    rect = container.views["coronal"].image_rect()
    assert rect.width() == pytest.approx(50 * 1.2) and rect.height() == pytest.approx(30 * 3.0)


def test_links_zoom_and_window(container):
    vol, p = marker_volume(DIRECTIONS["axial"])
    st = container.state
    st.open_volume(vol)
    container.set_layout("1x3")
    ax, cor = container.views["axial"], container.views["coronal"]
    ax.zoom_by(2.0)
    assert cor.mm_per_pixel() == pytest.approx(ax.mm_per_pixel(), rel=1e-3)
    st.set_window(10.0, 100.0)
    assert tuple(cor.image.levels) == pytest.approx((-40.0, 60.0))
    container.act_link.setChecked(False)
    cor._on_view_window_dragged(50.0, 0.0, True)
    assert cor.window() != st.window and ax.window() == st.window
    container.act_link.setChecked(True)
    assert cor.window() == st.window


def test_overlay_volume_reformats_with_image(container):
    from viewer.core.overlay import OverlayStyle

    vol, p = marker_volume(DIRECTIONS["oblique"])
    st = container.state
    st.open_volume(vol)
    container.set_layout("1x3")
    container.nav.set_crosshair(p)
    heat = (vol.voxels / 1000.0).astype(np.float32)
    container.set_overlay_volume(heat, OverlayStyle(threshold=0.5))
    for view in container.visible_views():
        x, y = view.crosshair_view_pos()
        px = view.overlay.mapFromParent(QPointF(x, y))
        assert view.overlay.isVisible()
        assert view.overlay_layer.values[int(px.y()), int(px.x())] > 0.9
        assert view.overlay_layer.rgba[int(px.y()), int(px.x()), 3] > 0
    with pytest.raises(ValueError, match="differs"):
        container.set_overlay_volume(np.zeros((2, 2, 2), np.float32))
    container.set_overlay_volume(None)
    assert not container.views["axial"].overlay.isVisible()


def test_click_and_keys_move_crosshair(container, qtbot):
    vol, p = marker_volume(DIRECTIONS["axial"])
    container.state.open_volume(vol)
    container.set_layout("1x3")
    ax = container.views["axial"]
    ax._on_view_clicked(*ax.geom.to_view(p))
    assert container.nav.point == pytest.approx(ax.to_patient(*ax.geom.to_view(p)))
    before = container.nav.depth("axial")
    ax.setFocus()
    from PySide6.QtCore import Qt

    qtbot.keyClick(ax, Qt.Key.Key_Down)
    assert container.nav.depth("axial") == before + 1


def test_every_action_has_a_unique_shortcut(window):
    from viewer.ui.shortcuts import conflicts, every_action

    actions = every_action(window)
    texts = {a.text().replace("&", "") for a in actions}
    for expected in ("2x2 views", "Cine play / pause", "Ruler", "Ellipse ROI",
                     "Export PNG…", "Export heat map as NIfTI…", "Link views (window, zoom, pan)"):
        assert expected in texts
    for menu in window.menuBar().actions():
        for act in menu.menu().actions():
            if act.menu() is None and not act.isSeparator() and act.text() not in ("(none)",):
                if act.text() not in ("Clear list",) and not act.text()[:1].isdigit():
                    assert act.shortcuts(), f"menu item {act.text()!r} has no shortcut"
    assert conflicts(actions) == {}
    dialog = window.show_shortcuts()
    assert dialog.table.rowCount() >= len(actions)
    dialog.close()


def test_user_presets_are_saved_and_offered(window, qtbot):
    from tests.gui_support import make_volume
    from viewer.modules.workspace.presets_editor import UserPreset, load_user_presets

    window.show_volume(make_volume("CT"))
    dialog = window.modules["workspace"].edit_presets()
    dialog.add_current()
    dialog.table.item(0, 0).setText("Soft tissue 2")
    dialog.accept()
    saved = load_user_presets(window.settings.q)
    assert saved == [UserPreset("Soft tissue 2", 40.0, 400.0, "CT")]
    names = [p.name for p in window.slice_view.presets()]
    assert names[-1] == "Soft tissue 2"
    assert window.slice_view.apply_preset_named("Soft tissue 2")
    bad = window.modules["workspace"].edit_presets()
    bad.add_current()
    bad.table.item(0, 2).setText("wide")
    bad.accept()                       # refused with a message, dialog stays open
    assert bad.isVisible() and "numbers" in bad.last_error.text()
    bad.reject()


def test_two_slice_series_turns_the_plane_layouts_off(window):
    from tests.gui_support import make_volume

    ws = window.modules["workspace"]
    window.show_volume(make_volume("CT"))
    ws.layouts.layout_actions["1x3"].trigger()
    assert ws.layouts.current == "1x3"
    window.show_volume(make_volume("MR", z=2))            # "Only 2 slices: 3D tools are off"
    assert ws.layouts.current == "1"
    assert not ws.layouts.layout_actions["2x2"].isEnabled()
    ws.layouts.layout_actions["2x2"].trigger()            # the key does nothing then
    assert ws.layouts.current == "1"
    assert "at least 3 slices" in ws.layouts.layout_actions["2x2"].toolTip()
    window.show_volume(make_volume("CT"))
    assert ws.layouts.layout_actions["2x2"].isEnabled()

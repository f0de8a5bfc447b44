"""The compare module through the composed window: linked scrolling lands on the same patient
position for two series of one frame of reference with different spacing; the manual offset of
two unrelated series persists across windows; reference lines lie where the geometry says; hanging
protocols hang a synthetic knee and brain study."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import Qt

from viewer.io import write_series
from viewer.io.records import PatientInfo

FOR_UID = "1.2.826.0.1.3680043.8.498.1234567"
PATIENT = PatientInfo("Test^Compare", "CMP-1")
SAG = np.array([[0, 0, 1], [1, 0, 0], [0, -1, 0]], float)  # i -> +y (P), j -> -z, k -> +x


def _write(folder: Path, z: int, spacing, origin=(0.0, 0.0, 0.0), direction=None,
           desc: str = "T1", study_desc: str = "Test", study_uid: str = "1.2.3",
           frame: str | None = FOR_UID, shape=(32, 32)) -> Path:
    vox = np.arange(z, dtype=np.float32)[:, None, None] * 10 + np.zeros(shape, np.float32)
    paths = write_series(folder, vox, spacing=spacing, origin=origin, direction=direction,
                         series_description=desc, study_description=study_desc,
                         patient=PATIENT, study_uid=study_uid)
    if frame is not None:  # the writer draws a new FrameOfReferenceUID per call: share one
        for p in paths:
            ds = pydicom.dcmread(p)
            ds.FrameOfReferenceUID = frame
            ds.save_as(p)
    return folder


def _window(qtbot, modules=("workspace", "compare")):
    from viewer.app import create_main_window

    win = create_main_window(modules=modules)
    qtbot.addWidget(win)
    win.resize(1200, 700)
    win.show()
    return win, win.modules["compare"]


def _open(qtbot, win, root: Path):
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        win.open_paths([str(root)])


def _compare(qtbot, cmp, infos):
    cmp.set_compare(True)
    for n, info in enumerate(infos):
        cmp.show_series(n, info)
    qtbot.waitUntil(lambda: all(cmp.viewports[n].series is not None
                                and cmp.viewports[n].series.uid == i.uid
                                for n, i in enumerate(infos)), timeout=20000)


def _by_desc(win, desc):
    return next(s for s in win.state.discovery.series if s.description == desc)


def test_linked_scrolling_lands_on_the_same_patient_position(qtbot, tmp_path):
    _write(tmp_path / "a", 20, (3.0, 1.0, 1.0), desc="T1 3mm")
    _write(tmp_path / "b", 40, (1.5, 0.8, 0.8), origin=(0.0, 0.0, 1.2), desc="T1 1.5mm",
           shape=(40, 40))
    win, cmp = _window(qtbot)
    try:
        _open(qtbot, win, tmp_path)
        a, b = _by_desc(win, "T1 3mm"), _by_desc(win, "T1 1.5mm")
        assert a.frame_of_reference_uid == b.frame_of_reference_uid == FOR_UID
        _compare(qtbot, cmp, [a, b])
        va, vb = cmp.viewports[0], cmp.viewports[1]
        for k in (1, 3, 7, 12, 19):  # z 3..57 mm, inside both stacks
            va.state.set_slice(k)
            z_a, z_b = 3.0 * k, 1.2 + 1.5 * vb.state.slice_index  # oracle: written geometry
            assert abs(z_a - z_b) <= 0.75 + 1e-6, (k, vb.state.slice_index)
        vb.view.setFocus()
        qtbot.keyClick(vb.view, Qt.Key.Key_Up)
        z_b = 1.2 + 1.5 * vb.state.slice_index
        assert abs(3.0 * va.state.slice_index - z_b) <= 1.5 + 1e-6  # half of A's 3 mm slice
    finally:
        win.runner.shutdown(2000)


def test_manual_offset_is_remembered_for_the_pair(qtbot, tmp_path):
    _write(tmp_path / "now", 20, (2.0, 1.0, 1.0), desc="T2 now", study_uid="1.2.3",
           frame="1.2.3.4.1")
    _write(tmp_path / "old", 24, (2.0, 1.0, 1.0), desc="T2 old", study_uid="1.2.4",
           frame="1.2.3.4.2")
    for attempt in range(2):
        win, cmp = _window(qtbot)
        try:
            _open(qtbot, win, tmp_path)
            now, old = _by_desc(win, "T2 now"), _by_desc(win, "T2 old")
            _compare(qtbot, cmp, [now, old])
            va, vb = cmp.viewports[0], cmp.viewports[1]
            if attempt == 0:
                va.state.set_slice(5)
                assert vb.state.slice_index == 5          # no shared frame: same index
                cmp.set_active(1)
                cmp.act_offset_down.trigger()
                cmp.act_offset_down.trigger()
                cmp.act_offset_down.trigger()
                assert (va.state.slice_index, vb.state.slice_index) == (5, 8)
            va.state.set_slice(9)
            assert vb.state.slice_index == 12
            assert "+3" in vb.view.caption
        finally:
            win.runner.shutdown(2000)
            win.close()


def test_reference_line_of_an_axial_slice_on_a_sagittal_view(qtbot, tmp_path):
    _write(tmp_path / "ax", 16, (2.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), desc="ax")
    # sagittal: 24 rows of 1.5 mm from z = 30 downwards, 32 columns of 1 mm along y
    _write(tmp_path / "sag", 10, (3.0, 1.5, 1.0), origin=(2.0, 0.0, 30.0), direction=SAG,
           desc="sag", shape=(24, 32))
    win, cmp = _window(qtbot)
    try:
        _open(qtbot, win, tmp_path)
        ax, sag = _by_desc(win, "ax"), _by_desc(win, "sag")
        _compare(qtbot, cmp, [ax, sag])
        va, vs = cmp.viewports[0], cmp.viewports[1]
        cmp.act_link.setChecked(False)          # scroll the axial view alone
        for k in (3, 8, 12):
            va.state.set_slice(k)
            z = 2.0 * k
            seg = vs.reference_segment(0)
            assert seg is not None
            (x0, y0), (x1, y1) = seg
            y_expected = ((30.0 - z) / 1.5 + 0.5) * 1.5   # row j of height z, pixel centre
            assert y0 == pytest.approx(y_expected) and y1 == pytest.approx(y_expected)
            # the line spans the sagittal image where the axial image (y 0..31 mm) lies
            assert sorted((x0, x1)) == pytest.approx([0.0, 32.0])
        assert va.reference_segment(1) is not None  # and the sagittal slice cuts the axial one
        cmp.act_lines.setChecked(False)
        assert vs.reference_segment(0) is None
    finally:
        win.runner.shutdown(2000)


def test_hanging_protocols_for_a_knee_and_a_brain_study(qtbot, tmp_path):
    _write(tmp_path / "knee", 12, (3.0, 0.5, 0.5), desc="PD sag", study_desc="MR KNEE",
           study_uid="1.9.1", direction=SAG)
    win, cmp = _window(qtbot)
    try:
        _open(qtbot, win, tmp_path / "knee")
        qtbot.waitUntil(lambda: win.modules["workspace"].layouts.current == "1x3")
        assert not cmp.is_comparing()
    finally:
        win.runner.shutdown(2000)
    brain = tmp_path / "brain"
    for desc in ("FLAIR ax", "T2 tse ax", "T1 ax post Gd", "T1 se ax"):
        _write(brain / desc.replace(" ", "_"), 8, (4.0, 1.0, 1.0), desc=desc,
               study_desc="MR BRAIN", study_uid="1.9.2")
    win, cmp = _window(qtbot)
    try:
        win.open_paths([str(brain)])
        qtbot.waitUntil(lambda: cmp.is_comparing() and all(
            vp.series is not None for vp in cmp.viewports), timeout=20000)
        assert [vp.series.description for vp in cmp.viewports] == [
            "T1 se ax", "T1 ax post Gd", "T2 tse ax", "FLAIR ax"]
        assert cmp.grid.count == 4
        cmp.act_protocol.trigger()   # only one protocol fits: cycling keeps it
        assert cmp.protocols[cmp.protocol_index].layout == "compare"
    finally:
        win.runner.shutdown(2000)


def _main_and_other(qtbot, win, cmp, root: Path):
    """Two series of one frame of reference under ``root``, opened; compare shows the main one in
    viewport 0 and the other in viewport 1, scrolling unlinked. Returns the two viewports."""
    _write(root / "a", 20, (3.0, 1.0, 1.0), desc="T1 3mm")
    _write(root / "b", 40, (1.5, 0.8, 0.8), origin=(0.0, 0.0, 1.2), desc="T1 1.5mm", shape=(40, 40))
    _open(qtbot, win, root)
    main = win.state.series
    other = next(s for s in win.state.discovery.series if s.uid != main.uid)
    _compare(qtbot, cmp, [main, other])
    cmp.set_linked(False)
    return cmp.viewports[0], cmp.viewports[1]


def test_active_viewport_slice_is_the_slice_the_tools_act_on(qtbot, tmp_path):
    """While comparing, scrolling the active viewport that shows the main series moves the main
    state's slice (the AI's "Run on this slice" then classifies what the reader sees); scrolling
    a viewport of another series leaves it alone."""
    win, cmp = _window(qtbot)
    try:
        va, vb = _main_and_other(qtbot, win, cmp, tmp_path)
        qtbot.mouseClick(va.view.canvas.viewport(), Qt.MouseButton.LeftButton)
        assert cmp.active == 0
        start = win.state.slice_index
        for _ in range(3):
            qtbot.keyClick(va.view, Qt.Key.Key_Up)
        assert va.state.slice_index != start
        assert win.state.slice_index == va.state.slice_index
        qtbot.mouseClick(vb.view.canvas.viewport(), Qt.MouseButton.LeftButton)
        assert cmp.active == 1
        before = win.state.slice_index
        qtbot.keyClick(vb.view, Qt.Key.Key_Up)
        assert win.state.slice_index == before
    finally:
        win.runner.shutdown(2000)


def test_ai_maps_show_on_the_compare_viewports_of_the_main_series(qtbot, tmp_path):
    """Found under X: with a map on screen, the compare layout drew no heat map. The AI's map
    volume of the main series now shows in each viewport of that series at its own slice
    (NaN = no map for that slice), and not on a viewport of another series."""
    from viewer.core.overlay import OverlayStyle

    win, cmp = _window(qtbot, ("workspace", "compare", "ai"))
    ai = win.modules["ai"]
    try:
        va, vb = _main_and_other(qtbot, win, cmp, tmp_path)
        heat = np.full(win.state.volume.shape, np.nan, np.float32)
        k = va.state.slice_index
        heat[k] = np.linspace(0, 1, heat[k].size, dtype=np.float32).reshape(heat[k].shape)
        ai.map_volume_changed.emit(heat, OverlayStyle(), True)
        assert va.view.overlay_visible() and not vb.view.overlay_visible()
        np.testing.assert_array_equal(va.view.overlay_layer.values, heat[k])
        ai.map_volume_changed.emit(heat, OverlayStyle(), False)          # overlay switched off
        assert not va.view.overlay_visible()
    finally:
        win.runner.shutdown(2000)


def test_a_brain_study_with_one_series_hangs_in_one_view(qtbot, tmp_path):
    """Found under X: the sample study (one brain MR series) opened in the brain protocol's
    compare layout beside an empty "No series loaded" viewport."""
    _write(tmp_path / "brain", 8, (4.0, 1.0, 1.0), desc="T1 ax post Gd", study_desc="MR BRAIN",
           study_uid="1.9.3")
    win, cmp = _window(qtbot)
    try:
        _open(qtbot, win, tmp_path / "brain")
        qtbot.waitUntil(lambda: cmp.protocol_index == 0, timeout=5000)
        assert not cmp.is_comparing()
        assert win.modules["workspace"].layouts.current == "1"
        assert win.state.series.description == "T1 ax post Gd"
    finally:
        win.runner.shutdown(2000)


def test_a_tool_moving_the_main_slice_moves_the_active_viewport(qtbot, tmp_path):
    """Found under X: N (next flagged slice) and a click on the AI profile moved the main state
    (the AI panel said "Slice 8") while the active viewport stayed on slice 17. Such tools call
    the main state's set_slice; the viewport of the main series follows, another does not."""
    win, cmp = _window(qtbot)
    try:
        va, vb = _main_and_other(qtbot, win, cmp, tmp_path)
        qtbot.mouseClick(va.view.canvas.viewport(), Qt.MouseButton.LeftButton)
        assert cmp.active == 0
        other_before = vb.state.slice_index
        target = (va.state.slice_index + 5) % va.state.volume.n_slices
        win.state.set_slice(target)
        assert va.state.slice_index == target == win.state.slice_index
        assert vb.state.slice_index == other_before          # unlinked: the other stays
        qtbot.keyClick(va.view, Qt.Key.Key_Up)              # and the keys go on from there
        assert win.state.slice_index == va.state.slice_index != target
    finally:
        win.runner.shutdown(2000)


def test_sweep_marks_show_on_the_compare_viewports_of_the_main_series(qtbot, tmp_path):
    """Found under X: after "Run on series" in the compare layout no slider showed the flagged
    slices (only the hidden main view had them)."""
    win, cmp = _window(qtbot, ("workspace", "compare", "ai"))
    ai = win.modules["ai"]
    try:
        va, vb = _main_and_other(qtbot, win, cmp, tmp_path)
        ai.slice_marks_changed.emit((2, 5), (7,), "outside the model's domain")
        assert va.view.slider.marks() == (2, 5) and va.view.slider.muted() == (7,)
        assert vb.view.slider.marks() == () and vb.view.slider.muted() == ()
        ai.slice_marks_changed.emit((), (), "")
        assert va.view.slider.marks() == ()
    finally:
        win.runner.shutdown(2000)

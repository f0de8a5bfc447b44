"""The AI module's DICOM results in the GUI: "Export AI results as DICOM…" writes the maps of
the series on screen, and a Parametric Map found in the opened folder is drawn over its series
through the one overlay rule with the panel's style."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.gui_support import open_and_wait
from tests.io.results.support import assert_valid, maps_for, source_series
from tests.modules.ai.support import ai_window
from viewer.core.overlay import overlay_rgba
from viewer.io.results.common import AlgorithmInfo, read_sources
from viewer.io.results.parametric_map import write_parametric_map

pytestmark = pytest.mark.gui


def test_export_action_writes_the_maps_on_screen(qtbot, monkeypatch, tmp_path) -> None:
    from inference import phantoms
    from viewer.io import write_series

    win, ctl = ai_window(qtbot, monkeypatch)
    vol = phantoms.brain_mr_volume(7, n_slices=3, size=96, tumour=True)[0]
    files = write_series(tmp_path / "mr", vol, spacing=(5.0, 2.0, 2.0), modality="MR")
    open_and_wait(qtbot, win, [tmp_path / "mr"])
    ctl.ai.set_model("tumour")
    ctl.ai.set_method("gradcam")
    assert ctl.dicom.export(str(tmp_path / "none")) is None          # nothing explained yet
    assert ctl.dicom.export_action in ctl.ai_menu.actions()
    ctl.run_slice()
    qtbot.waitUntil(lambda: bool(ctl.dicom.results()), timeout=60000)
    out = tmp_path / "dicom"
    monkeypatch.setattr(ctl.dicom, "choose_folder", lambda: str(out))
    ctl.dicom.export_action.trigger()
    qtbot.waitUntil(lambda: bool(ctl.dicom.last_written), timeout=60000)
    names = sorted(p.name for p in ctl.dicom.last_written)
    assert names[0].startswith("PM_gradcam_") and "SR_tumour.dcm" in names
    for path in ctl.dicom.last_written:
        assert_valid(path)
    pm = pydicom.dcmread(next(p for p in ctl.dicom.last_written if p.name.startswith("PM_")))
    (result,) = ctl.dicom.results()
    np.testing.assert_allclose(pm.pixel_array, result.explanation.map, atol=1e-6)
    ref = pm.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    k = win.state.slice_index
    assert ref.ReferencedSOPInstanceUID == pydicom.dcmread(files[k]).SOPInstanceUID or \
        ref.ReferencedSOPInstanceUID == pydicom.dcmread(win.state.volume.slice_files[k]).SOPInstanceUID


def test_parametric_map_in_the_folder_shows_over_its_series(qtbot, monkeypatch, tmp_path) -> None:
    win, ctl = ai_window(qtbot, monkeypatch)
    files = source_series(tmp_path / "study" / "mr", n=4)
    maps = maps_for(4, 24, 32)
    write_parametric_map(tmp_path / "study" / "pm.dcm", maps, read_sources(files),
                         AlgorithmInfo("other", "3", "", False), "gradcam", "lesion")
    volume = open_and_wait(qtbot, win, [tmp_path / "study"])
    qtbot.waitUntil(lambda: ctl.dicom.shown is not None, timeout=20000)
    view = win.slice_view
    k = win.state.slice_index
    source = [str(f) for f in files].index(volume.slice_files[k])
    assert view.overlay_visible()
    np.testing.assert_array_equal(view.overlay_layer.rgba, overlay_rgba(maps[source], ctl.ai.style()))
    ctl.ai.set_opacity(0.9)                                       # the panel's controls apply
    qtbot.waitUntil(lambda: view.overlay_layer.style.opacity == pytest.approx(0.9), timeout=5000)
    np.testing.assert_array_equal(view.overlay_layer.rgba, overlay_rgba(maps[source], ctl.ai.style()))
    ctl.ai.toggle_overlay()
    assert not view.overlay_visible()
    assert str(Path(ctl.dicom.shown.path).name) == "pm.dcm"

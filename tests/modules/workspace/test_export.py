"""Exports open and contain what they claim: report JSON/CSV fields, heat-map NIfTI geometry equals
the series', montage and PNG series sizes, decorated PNG of the layout, clipboard, and the
screenshot renderer's layout and crosshair options."""
from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication, QImage

from tests.core.test_reformat import DIRECTIONS, marker_volume
from tests.gui_support import make_volume
from viewer.core.exports import (
    SliceProbability,
    build_report,
    montage,
    slice_images,
    write_heatmap_nifti,
    write_png_series,
    write_report,
)
from viewer.core.measurements import Measurement


def test_report_json_and_csv(tmp_path):
    vol = make_volume()
    ms = [Measurement(1, "ruler", ((0, 0, 0), (3, 4, 0)), "axial", "width"),
          Measurement(2, "angle", ((1, 0, 0), (0, 0, 0), (0, 1, 0)))]
    probs = [SliceProbability(4, "ct-lesion (demo)", "lesion", 0.83)]
    report = build_report(vol, ms, probs, study_uid="9.8.7")
    assert "patient" not in report
    js, cs = write_report(report, tmp_path / "r.json", tmp_path / "r.csv")
    data = json.loads(js.read_text())
    assert data["series"]["series_uid"] == "1.2.3.4" and data["series"]["study_instance_uid"] == "9.8.7"
    assert [m["value"] for m in data["measurements"]] == pytest.approx([5.0, 90.0])
    assert data["slice_probabilities"][0]["probability"] == pytest.approx(0.83)
    rows = list(csv.DictReader(cs.open()))
    assert [r["record"] for r in rows] == ["measurement", "measurement", "probability"]
    assert rows[0]["label"] == "width" and float(rows[0]["value"]) == 5.0 and rows[0]["unit"] == "mm"
    assert rows[2]["slice"] == "5" and rows[2]["class"] == "lesion"
    assert build_report(vol, [], include_patient=True)["patient"]["name"] == "Doe^Jane"


@pytest.mark.parametrize("name", ["axial", "oblique"])
def test_heatmap_nifti_is_aligned_with_the_series(tmp_path, name):
    import SimpleITK as sitk

    vol, p = marker_volume(DIRECTIONS[name])
    heat = (vol.voxels / 1000.0).astype(np.float32)
    path = write_heatmap_nifti(heat, vol, tmp_path / "heat")
    assert path.name == "heat.nii.gz"
    img = sitk.ReadImage(str(path))
    assert img.GetSpacing() == pytest.approx(vol.spacing[::-1])
    assert img.GetOrigin() == pytest.approx(vol.origin, abs=1e-4)
    assert np.asarray(img.GetDirection()).reshape(3, 3) == pytest.approx(vol.direction, abs=1e-6)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), heat)
    # the marker's physical point holds the map's maximum in the written file
    idx = img.TransformPhysicalPointToIndex(tuple(float(c) for c in p))
    assert img[idx] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="differs"):
        write_heatmap_nifti(heat[:2], vol, tmp_path / "bad.nii.gz")


def test_montage_and_png_series(tmp_path):
    vol = make_volume()          # 12 x 28 x 64
    images = slice_images(vol, range(0, 12, 2), (40.0, 400.0))
    m = montage(images, gap=2)   # 6 images -> 3 columns x 2 rows
    assert m.shape == (2 * 28 + 2, 3 * 64 + 4, 3)
    from viewer.core.overlay import save_png

    out = save_png(m, tmp_path / "montage.png")
    assert QImage(str(out)).size().toTuple() == (3 * 64 + 4, 2 * 28 + 2)
    files = write_png_series(images[:3], tmp_path / "series", numbers=[1, 3, 5])
    assert [f.name for f in files] == ["slice_001.png", "slice_003.png", "slice_005.png"]
    assert QImage(str(files[1])).size().toTuple() == (64, 28)
    with pytest.raises(ValueError, match="outside"):
        slice_images(vol, [40], (40.0, 400.0))


def test_layout_png_with_caption_colorbar_and_clipboard(window, qtbot, tmp_path):
    from viewer.core.overlay import OverlayStyle
    from viewer.modules.workspace.export_dialog import BAR_W, CAPTION_H, PngOptions

    vol, p = marker_volume(DIRECTIONS["axial"])
    window.show_volume(replace(vol, description="Marker"))
    ws = window.modules["workspace"]
    ws.layouts.set_layout("2x2")
    ws.set_overlay_volume((vol.voxels / 1000).astype(np.float32), OverlayStyle(threshold=0.5))
    plain = ws.render_png(PngOptions(overlay=False, colorbar=False, caption=""))
    full = ws.render_png(PngOptions(caption=ws.caption()))
    assert full.width() == plain.width() + BAR_W and full.height() == plain.height() + CAPTION_H
    assert "Marker" in ws.caption() and "Doe" not in ws.caption()
    window.state.set_anonymise(False)
    assert "Marker" in ws.caption(True)
    ws.copy_view()
    assert not QGuiApplication.clipboard().image().isNull()
    # background jobs write the files the menu actions produce
    for job, path in ((ws.montage_job(tmp_path / "m.png"), tmp_path / "m.png"),
                      (ws.report_job(tmp_path / "f.json"), tmp_path / "f.csv"),
                      (ws.heatmap_job(tmp_path / "h.nii.gz"), tmp_path / "h.nii.gz")):
        # other jobs (the session file) finish too: wait for the export job itself
        with qtbot.waitSignal(window.runner.finished, timeout=10000,
                              check_params_cb=lambda key, _rid, _result: key == "export"):
            ws.exports.background("test", job)
        assert path.is_file()
    assert ws.act_nifti.isEnabled()


def test_screenshot_layout_and_crosshair(tmp_path, qapp):
    from viewer.cli.render import render_to_png

    vol, p = marker_volume(DIRECTIONS["sagittal"])
    out = render_to_png(vol, tmp_path / "s.png", layout="2x2", crosshair=tuple(p), size=(900, 700))
    assert QImage(str(out)).size().toTuple() == (900, 700)
    out1 = render_to_png(vol, tmp_path / "one.png", crosshair=tuple(p), size=(400, 300))
    assert QImage(str(out1)).size().toTuple() == (400, 300)
    with pytest.raises(ValueError, match="outside"):
        render_to_png(vol, tmp_path / "x.png", layout="1x3", crosshair=(1e4, 0, 0))

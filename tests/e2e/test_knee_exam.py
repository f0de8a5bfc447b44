"""Knee exams end to end: a synthetic knee study written as DICOM with true sagittal and coronal
orientations (axial missing) is recognised by plane, the knee model runs per plane and fused, the
missing plane is stated and each plane's series shows its per-slice Grad-CAM."""
from __future__ import annotations

import numpy as np
import pytest

from tests.modules.ai.support import ai_window

pytestmark = pytest.mark.gui

SAG = np.array([[0, 0, 1], [1, 0, 0], [0, -1, 0]], float)   # columns: i -> P, j -> I, k -> L
COR = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float)   # i -> L, j -> I, k -> P


def _write_knee(folder, planes=("sagittal", "coronal")):
    from inference.phantoms import knee_exam
    from viewer.io import PatientInfo, write_series

    images, labels = knee_exam(seed=1_000_123, size=48, planes=planes)
    study = "1.2.826.0.1.3680043.8.498.4242"
    for n, plane in enumerate(planes):
        write_series(folder / plane, images[plane], spacing=(3.0, 0.8, 0.8),
                     direction={"sagittal": SAG, "coronal": COR, "axial": np.eye(3)}[plane],
                     series_description=f"Knee {plane} PD", study_description="MR KNEE",
                     patient=PatientInfo("Knee^Test", "K-1", "", "O"), study_uid=study,
                     series_number=n + 1)
    return images, labels


def test_knee_planes_from_orientation(tmp_path):
    from viewer.io import discover
    from viewer.modules.ai.study import is_knee_study, knee_planes

    _write_knee(tmp_path, ("sagittal", "coronal", "axial"))
    found = discover([tmp_path]).series
    assert is_knee_study(found)
    planes = knee_planes(found)
    assert set(planes) == {"sagittal", "coronal", "axial"}
    assert all(planes[p].description == f"Knee {p} PD" for p in planes)


def test_knee_exam_runs_per_plane_and_fused_with_missing_plane(qtbot, monkeypatch, tmp_path):
    images, _ = _write_knee(tmp_path)
    win, ctl = ai_window(qtbot, monkeypatch, ("knee",))
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        win.open_paths([str(tmp_path)])
    qtbot.waitUntil(lambda: ctl.ai.knee is not None, timeout=90000)
    knee = ctl.ai.knee
    assert ctl.ai.card.level == "exam"
    assert knee.missing == ("axial",)
    assert set(knee.prediction.per_plane) == {"sagittal", "coronal"}
    assert set(knee.prediction.probabilities) == set(ctl.ai.card.classes)
    for parts in knee.prediction.contributions.values():
        assert set(parts) == {"sagittal", "coronal"}
    text = ctl.panel.knee_label.text()
    assert "Missing plane" in text and "axial" in text and "fused" in text
    assert "axial" in ctl.ai.status
    vol = win.state.volume
    stack = knee.maps[vol.series_uid]
    assert stack.shape == vol.shape
    assert knee.importance[vol.series_uid].shape == (vol.n_slices,)
    win.state.set_slice(vol.n_slices // 2)
    if not knee.prediction.applicable:
        # out of the model's domain (e.g. a stack unlike the training data): the plane is named,
        # the call is no valid call and the maps stay hidden until the reader shows them anyway
        assert "No valid call" in ctl.panel.predicted_label.text()
        assert "Outside this model's domain" in ctl.panel.domain_label.text()
        named = [p for p in ("sagittal", "coronal") if f"{p} plane outside" in text]
        assert named or "Outside this model's domain" in text
        assert not win.slice_view.overlay_visible()
        ctl.act_show_anyway.trigger()
    assert win.slice_view.overlay_visible() or not np.any(stack[vol.n_slices // 2] > 0)
    other = [s for s in win.series_browser.series_list() if s.uid != vol.series_uid][0]
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        win.load_series(other)
    assert win.state.volume.series_uid in knee.maps
    assert ctl.ai.prediction == knee.prediction

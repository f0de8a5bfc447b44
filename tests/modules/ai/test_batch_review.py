"""AI > Open batch results: the batch's call shows in the series list (flagged series marked)
and the opened series gets the batch's per-slice probabilities as its profile."""
from __future__ import annotations

import numpy as np
import pydicom

from tests.gui_support import phantom
from tests.modules.ai.support import ai_window
from tests.modules.batch.test_review import _write


def test_batch_results_in_the_series_list_and_profile(qtbot, monkeypatch, tmp_path):
    from viewer.io import write_series

    paths = write_series(tmp_path / "study" / "ax", phantom(z=3, y=32, x=32), spacing=(5, 1, 1),
                         modality="MR", series_description="ax")
    uid = pydicom.dcmread(paths[0]).SeriesInstanceUID
    out = tmp_path / "batch"
    out.mkdir()
    _write(out, [
        {"level": "series", "model": "tumour", "series_uid": uid, "status": "ok",
         "predicted": "no tumour", "p_no tumour": "0.6", "applicable": "False",
         "reasons": "sagittal slice; this model reads axial slices", "n_slices": "3"},
        *({"level": "slice", "model": "tumour", "series_uid": uid, "slice": str(k),
           "p_tumour": str(0.1 * k), "p_no tumour": str(1 - 0.1 * k)} for k in range(3))])
    win, ctl = ai_window(qtbot, monkeypatch)
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        win.open_paths([str(tmp_path / "study")])
    with qtbot.waitSignal(win.runner.finished, timeout=10000,
                          check_params_cb=lambda key, _r, _x: key == "batch-review"):
        ctl.batch_review.open(str(out))
    browser = win.series_browser
    info = browser.series_list()[0]
    assert browser.note(info.uid, "batch") == "batch tumour: ?"
    item = browser.item(0)
    assert "batch tumour: ?" in item.text()
    # the contrast label of the same series may arrive before or after: it never hides the batch's
    browser.set_note(info.uid, "AI (demo): T1 (90%)", source="contrast")
    assert {"batch tumour: ?", "AI (demo): T1 (90%)"} <= set(item.text().splitlines())
    assert set(browser.note(info.uid).splitlines()) == {"batch tumour: ?", "AI (demo): T1 (90%)"}
    browser.set_note(info.uid, "", source="contrast")
    assert browser.note(info.uid) == "batch tumour: ?"
    sweep = ctl.ai.sweep
    assert sweep is not None and sweep.model == "tumour"
    np.testing.assert_allclose(sweep.probs[:, 1], [0.0, 0.1, 0.2], atol=1e-6)

"""AI > Send AI results to PACS…: the maps of the series on screen are written as DICOM result
objects and stored on the PACS chosen in the Query PACS window (a fresh, real Orthanc)."""
from __future__ import annotations

import pytest

from inference import phantoms
from tests.modules.ai.support import show_maps_anyway, use_demo_models, wait_maps
from tests.pacs_server import PASSWORD, USER

pytestmark = pytest.mark.gui


def test_send_ai_results_to_the_chosen_pacs(qtbot, monkeypatch, tmp_path, orthanc_factory):
    import keyring
    import requests
    from PySide6.QtWidgets import QInputDialog

    from viewer.app import create_main_window
    from viewer.io import write_series
    from viewer.io.pacs import PacsServer, save_servers, secrets

    use_demo_models(monkeypatch, ("tumour",))
    server = orthanc_factory()
    monkeypatch.setattr(keyring, "get_password", lambda *a: None)
    monkeypatch.setenv("SLICEWISE_PACS_CONFIG", str(tmp_path / "pacs.toml"))
    monkeypatch.setenv("SLICEWISE_PACS_CACHE", str(tmp_path / "cache"))
    save_servers([PacsServer("fresh", url=server.url, auth="basic", username=USER)])
    secrets.clear_session()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (PASSWORD, True))
    vol = phantoms.brain_mr_volume(1_234_569, n_slices=4, size=96, tumour=True)[0]
    write_series(tmp_path / "ax", vol, spacing=(5.0, 2.0, 2.0), modality="MR",
                 series_description="ax")
    win = create_main_window(("ai", "pacs"))
    qtbot.addWidget(win)
    ctl = win.modules["ai"]
    qtbot.waitUntil(lambda: bool(ctl.ai.models), timeout=15000)
    with qtbot.waitSignal(win.state.volume_loaded, timeout=20000):
        win.open_paths([str(tmp_path / "ax")])
    ctl.ai.set_model("tumour")
    show_maps_anyway(ctl)
    ctl.run_slice()
    wait_maps(qtbot, ctl)
    assert ctl.dicom.send_action.isEnabled()
    ctl.dicom.send_action.trigger()                  # no server chosen yet: the window opens
    browser = win.modules["pacs"].browser
    qtbot.waitUntil(browser.isVisible)
    assert browser.server_text() == "fresh"
    with qtbot.waitSignal(win.runner.finished, timeout=60000,
                          check_params_cb=lambda key, _rid, _r: key == "dicom-export"):
        ctl.dicom.send_action.trigger()
    stored = requests.get(f"http://127.0.0.1:{server.http_port}/instances?expand",
                          auth=(USER, PASSWORD), timeout=10).json()
    assert len(stored) == len(ctl.dicom.last_written) and len(stored) >= 4
    win.runner.shutdown(3000)

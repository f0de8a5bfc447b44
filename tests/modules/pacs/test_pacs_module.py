"""The PACS browser driven by qtbot against the real Orthanc: File > Query PACS…, test
connection, search, expand to series with counts, anonymised display, retrieve (the first
series opens before the retrieve ends, then the whole study), cancel, wrong password."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.pacs_server import PASSWORD, USER

pytestmark = pytest.mark.gui


@pytest.fixture()
def env(monkeypatch, tmp_path, orthanc):
    import keyring

    from viewer.io.pacs import PacsServer, save_servers, secrets

    monkeypatch.setattr(keyring, "get_password", lambda *a: None)
    monkeypatch.setenv("SLICEWISE_PACS_CONFIG", str(tmp_path / "pacs.toml"))
    monkeypatch.setenv("SLICEWISE_PACS_CACHE", str(tmp_path / "cache"))
    save_servers([PacsServer("test-orthanc", url=orthanc.server.url, auth="basic",
                             username=USER)])
    secrets.clear_session()
    yield orthanc
    secrets.clear_session()


@pytest.fixture()
def window(qtbot, env):
    from viewer.app import create_main_window

    w = create_main_window(("pacs",))
    qtbot.addWidget(w)
    yield w
    w.runner.shutdown(3000)


def _module(window):
    return window.modules["pacs"]


def _open_browser(window, qtbot, monkeypatch, password=PASSWORD):
    from PySide6.QtWidgets import QInputDialog

    asked = []
    monkeypatch.setattr(QInputDialog, "getText",
                        lambda *a, **k: (asked.append(a[2]) or (password, True)))
    window.act_query = next(a for a in _module(window).actions())
    window.act_query.trigger()
    browser = _module(window).browser
    qtbot.waitUntil(browser.isVisible)
    assert browser.server_text() == "test-orthanc"
    return browser, asked


def test_menu_entry_and_shortcut(window):
    from viewer.ui.module import MENU_FILE

    act = _module(window).act_query
    assert act in window.menu_named(MENU_FILE).actions()
    assert act.shortcut().toString() == "Ctrl+Shift+F"


def test_search_expand_anonymise(window, qtbot, monkeypatch, env):
    browser, asked = _open_browser(window, qtbot, monkeypatch)
    qtbot.mouseClick(browser.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: browser.status.text().startswith("Connected"), timeout=10000)
    assert len(asked) == 1 and PASSWORD not in asked[0]   # asked once per session
    browser.patient_id.setText("PAT001")
    qtbot.mouseClick(browser.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: browser.tree.topLevelItemCount() == 1, timeout=10000)
    item = browser.tree.topLevelItem(0)
    assert (item.text(0), item.text(1), item.text(6), item.text(7)) == ("Doe Jane", "PAT001",
                                                                        "2", "20")
    item.setExpanded(True)
    qtbot.waitUntil(lambda: item.childCount() == 2 and item.child(0).text(7) == "12",
                    timeout=10000)
    assert [item.child(i).text(4) for i in range(2)] == ["T1 axial", "T2 axial"]
    window.state.set_anonymise(True)
    assert "Doe" not in item.text(0) and "PAT001" not in item.text(1)
    assert "ACC001" not in item.text(5)
    assert len(asked) == 1


def test_retrieve_opens_first_series_early_then_the_study(window, qtbot, monkeypatch, env):
    browser, _ = _open_browser(window, qtbot, monkeypatch)
    module = _module(window)
    opened, open_calls = [], []
    window.state.volume_opened.connect(lambda v: opened.append(v))
    real_open = window.open_paths

    def spy(paths):
        open_calls.append((list(paths), browser.progress.value()))
        return real_open(paths)
    monkeypatch.setattr(window, "open_paths", spy)
    browser.patient_id.setText("PAT001")
    qtbot.mouseClick(browser.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: browser.tree.topLevelItemCount() == 1, timeout=10000)
    browser.tree.setCurrentItem(browser.tree.topLevelItem(0))
    qtbot.mouseClick(browser.retrieve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: module.last_result is not None, timeout=20000)
    assert module.last_result.fetched == 20 and module.last_result.missing == 0
    qtbot.waitUntil(lambda: len(opened) >= 1 and window.state.discovery is not None
                    and len(window.state.discovery.series) == 2, timeout=20000)
    (first, done_then), (last, _) = open_calls
    assert done_then == 3 and first[0].endswith(env.brain_t1.series_uid)  # opened early
    assert last == [str(module.last_result.folder)]                     # then the study
    qtbot.waitUntil(lambda: window.state.volume is not None
                    and window.state.volume.n_slices in (12, 8)
                    and not window.state.is_loading, timeout=20000)   # a whole series shown


def test_cancel_keeps_what_arrived(window, qtbot, monkeypatch, env):
    import time

    from viewer.io.pacs import RetrieveCache

    browser, _ = _open_browser(window, qtbot, monkeypatch)
    module = _module(window)
    big = env.big
    for name in ("write_file", "write_dataset_bytes"):   # 50 ms an instance: 120 take >= 6 s,
        real = getattr(RetrieveCache, name)              # so the click lands mid-retrieve even
                                                         # on a loaded machine

        def slow(self, *args, _real=real, **kwargs):
            time.sleep(0.05)
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(RetrieveCache, name, slow)
    module.retrieve(big.study_uid)
    qtbot.waitUntil(lambda: browser.progress.value() >= 5, timeout=20000)
    qtbot.mouseClick(browser.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in browser.status.text()
    qtbot.waitUntil(lambda: not window.runner.is_running("pacs-retrieve"), timeout=10000)
    qtbot.wait(300)
    kept = RetrieveCache().present(big.study_uid, big.series_uid)
    assert 5 <= len(kept) < len(big.sop_uids) and module.last_result is None


def test_wrong_password_is_said_and_asked_again(window, qtbot, monkeypatch, env, caplog):
    browser, asked = _open_browser(window, qtbot, monkeypatch, password="Bad-Pw-4242")
    qtbot.mouseClick(browser.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "401" in browser.status.text(), timeout=10000)
    assert browser.tree.topLevelItemCount() == 0
    qtbot.mouseClick(browser.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=5000)   # forgotten after the 401
    assert "Bad-Pw-4242" not in caplog.text + browser.status.text()

"""MainWindow end to end on synthetic DICOM: loading, anonymised display, tags, errors,
settings, sample study, shutdown during a long job, screenshots."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.gui_support import make_volume, open_and_wait


def test_open_series_shows_first_slice_and_info(qtbot, window, ct_folder):
    opened = []
    window.state.volume_opened.connect(lambda v: opened.append(window.state.load_done))
    vol = open_and_wait(qtbot, window, [ct_folder])
    assert opened and opened[0] <= vol.n_slices  # shown while (or before) the rest loaded
    assert vol.shape == (12, 28, 64) and vol.modality == "CT"
    k = window.state.slice_index
    np.testing.assert_array_equal(window.slice_view.image.image, vol.voxels[k])
    assert window.series_browser.count() == 1
    assert "Phantom CT" in window.series_browser.item(0).text()
    assert "12 images" in window.series_browser.item(0).text()
    info = window.study_info.text()
    assert "Doe Jane" in info and "PID-778" in info and "1970-01-31" in info
    assert "Doe Jane" in window.windowTitle()
    assert window.slice_view.canvas.annotations.letters["left"] == "R"
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=10000)
    assert not window.series_browser.item(0).icon().isNull()


def test_anonymise_hides_name_everywhere(qtbot, window, ct_folder):
    open_and_wait(qtbot, window, [ct_folder])
    window.tags_dock.show()
    qtbot.waitUntil(lambda: bool(window.tag_browser.visible_rows()), timeout=10000)
    window.act_anonymise.trigger()
    assert window.state.anonymise
    assert "Doe" not in window.windowTitle() and "Anonymised" in window.windowTitle()
    info = window.study_info.text()
    assert "Doe" not in info and "PID-778" not in info and "1970" not in info
    assert "Doe" not in window.series_browser.item(0).toolTip()
    rows = window.tag_browser.visible_rows()
    assert rows and not any("Doe" in r[3] or "PID-778" in r[3] for r in rows)
    assert all("Doe" not in t for t in window.slice_view.canvas.annotations.top_left)
    window.act_anonymise.trigger()
    assert "Doe Jane" in window.windowTitle()


def test_tag_browser_reads_current_file_and_filters(qtbot, window, ct_folder):
    vol = open_and_wait(qtbot, window, [ct_folder])
    window.tags_dock.show()
    qtbot.waitUntil(lambda: bool(window.tag_browser.visible_rows()), timeout=10000)
    assert vol.slice_files[window.state.slice_index] in window.tag_browser.source.text()
    window.tag_browser.set_filter("PixelSpacing")
    rows = window.tag_browser.visible_rows()
    assert [r[1] for r in rows] == ["PixelSpacing"]
    assert rows[0][0] == "(0028,0030)"
    window.tag_browser.set_filter("0010,0010")
    assert [r[1] for r in window.tag_browser.visible_rows()] == ["PatientName"]
    window.tag_browser.set_filter("no such tag anywhere")
    assert window.tag_browser.visible_rows() == []
    window.tag_browser.set_filter("")
    assert len(window.tag_browser.visible_rows()) > 20


def test_non_dicom_files_listed_quietly_with_relative_paths(qtbot, window, ct_folder):
    (ct_folder / "notes.dcm").write_bytes(b"this is not DICOM at all" * 10)
    (ct_folder / "a").mkdir()
    (ct_folder / "a" / "LICENSE.txt").write_text("licence")
    vol = open_and_wait(qtbot, window, [ct_folder])
    assert vol.n_slices == 12
    lines = "\n".join(window.messages.lines())
    assert "2 other files (not DICOM) ignored" in lines
    assert "notes.dcm" in lines and "a/LICENSE.txt" in lines
    assert not window.messages_dock.isVisible()          # harmless files: the panel stays shut


def test_damaged_dicom_file_opens_the_messages_panel(qtbot, window, ct_folder):
    first = sorted(ct_folder.iterdir())[0]
    (ct_folder / "cut.dcm").write_bytes(first.read_bytes()[:400])   # a DICOM file cut short
    vol = open_and_wait(qtbot, window, [ct_folder])
    assert vol.n_slices == 12
    lines = "\n".join(window.messages.lines())
    assert "1 file skipped" in lines and "cut.dcm" in lines
    assert window.messages_dock.isVisible()


def test_missing_path_is_named_not_counted_as_a_skipped_file(qtbot, window, tmp_path):
    window.open_paths([str(tmp_path / "nonexistent")])
    lines = "\n".join(window.messages.lines())
    assert "Not found" in lines and "nonexistent" in lines and "skipped" not in lines
    assert window.messages_dock.isVisible()


def test_unreadable_series_shows_error_not_traceback(qtbot, window, ct_folder):
    from dataclasses import replace

    from viewer.io import discover

    info = discover([str(ct_folder)]).series[0]
    broken = replace(info, files=tuple(str(ct_folder / f"missing{n}.dcm") for n in range(3)))
    with qtbot.waitSignal(window.runner.failed, timeout=10000):
        window.load_series(broken)
    box = window.last_error
    assert box is not None and box.isVisible()
    assert "Traceback" not in box.text() and box.text()
    assert any("could not be loaded" in line for line in window.messages.lines())
    with qtbot.waitSignal(window.state.volume_loaded, timeout=10000):
        window.load_series(info)  # the rest of the study stays usable


def test_empty_folder_message(qtbot, window, tmp_path):
    (tmp_path / "empty").mkdir()
    with qtbot.waitSignal(window.runner.finished, timeout=10000):
        window.open_paths([tmp_path / "empty"])
    assert window.last_error is not None and "No displayable" in window.last_error.text()


def test_settings_recent_and_presets_remembered(qtbot, window, ct_folder):
    open_and_wait(qtbot, window, [ct_folder])
    assert window.settings.recent()[0] == str(ct_folder)
    window.slice_view.apply_preset_named("Bone")
    assert window.settings.preset_for("CT") == "Bone"
    window.recent_menu.aboutToShow.emit()
    assert any(str(ct_folder) in a.text() for a in window.recent_menu.actions())
    from viewer.ui.main_window import MainWindow

    second = MainWindow()
    qtbot.addWidget(second)
    vol = open_and_wait(qtbot, second, [ct_folder])
    assert second.state.window_name == "Bone" and vol.modality == "CT"
    second.runner.shutdown(2000)


def test_sample_study_opens_without_paths(qtbot, window):
    with qtbot.waitSignal(window.state.volume_loaded, timeout=60000):
        window.open_sample_study()
    assert window.series_browser.count() >= 2
    assert window.state.volume.n_slices > 1


def test_close_during_long_job_cancels_it(qtbot, window):
    """Closing cancels the job and does not wait for it (quit time is measured by the GUI
    walkthrough under a real X server, not asserted here)."""
    def endless(ctx):
        while True:
            time.sleep(0.01)
            yield None

    window.runner.submit("inference", endless, label="Long job")
    qtbot.waitUntil(lambda: window.progress.isVisible(), timeout=3000)  # indicator after 0.3 s
    window.close()
    assert not window.runner.is_busy()


def test_show_volume_and_shortcut_list(qtbot, window):
    vol = make_volume()
    window.show_volume(vol)
    assert window.state.volume is vol and window.state.is_slice_loaded(6)
    assert window.state.slice_index == 6
    dialog = window.show_shortcuts()
    texts = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "Open Folder…" in texts and "Zoom in" in texts and "Next slice" in texts
    keys = {window.act_open_folder.shortcut().toString(), window.act_anonymise.shortcut().toString()}
    assert keys == {"Ctrl+O", "Ctrl+Shift+A"}
    dialog.close()


def test_render_to_png(tmp_path, qtbot):
    from viewer.cli.render import render_to_png

    out = render_to_png(make_volume(), tmp_path / "shot.png", slice_index=2, window=(40, 400),
                        size=(320, 240))
    img = QImage(str(out))
    assert (img.width(), img.height()) == (320, 240)
    grey = lambda x, y: img.pixelColor(x, y).value()  # noqa: E731
    assert max(grey(x, 120) for x in range(40, 140)) > 200   # ellipse in the left half
    assert grey(5, 230) < 30 and grey(300, 90) < 30           # dark: outside the image, and air
    with pytest.raises(ValueError):
        render_to_png(make_volume(), tmp_path / "x.png", slice_index=99)


def test_drop_folder_opens_it(qtbot, window, ct_folder):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(ct_folder))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.state.volume_loaded, timeout=20000) as blocker:
        window.dropEvent(ev)
    assert blocker.args[0].n_slices == 12


def test_main_delegates_headless_commands(ct_folder, capsys):
    from viewer.app import main

    assert main(["info", str(ct_folder)]) == 0
    assert "Phantom CT" in capsys.readouterr().out


def test_first_start_opens_maximised_then_where_the_reader_left_it(qtbot, tmp_path, monkeypatch):
    from viewer.ui.main_window import MainWindow

    monkeypatch.setenv("SLICEWISE_SETTINGS_DIR", str(tmp_path / "fresh"))
    first = MainWindow()
    qtbot.addWidget(first)
    first.show_for_reading()
    assert first.windowState() & Qt.WindowState.WindowMaximized
    first.showNormal()
    first.resize(900, 700)
    first.close()                                          # remembers its geometry
    second = MainWindow()
    qtbot.addWidget(second)
    second.show_for_reading()
    assert not second.windowState() & Qt.WindowState.WindowMaximized


def test_panel_keys_raise_and_focus_never_hide(qtbot, window):
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    for act, dock in ((window.act_tags, window.tags_dock), (window.act_messages,
                                                             window.messages_dock)):
        act.trigger()
        assert dock.isVisible()
        act.trigger()                                       # pressing again never hides it
        assert dock.isVisible()
    window.act_tags.trigger()
    assert QApplication.focusWidget() is window.tag_browser.search

"""Switching between series of different sizes and orientations, in every layout, raises
nothing (pytest-qt fails a test on any exception raised inside a Qt slot)."""
from __future__ import annotations

import pytest

from tests.gui_support import open_and_wait, phantom

pytestmark = pytest.mark.gui


@pytest.fixture
def mixed_study(tmp_path):
    from viewer.io import PatientInfo, write_series

    who = PatientInfo("Doe^Jane", "P1", "19700101", "F")
    write_series(tmp_path / "a", phantom(z=16, y=40, x=64), spacing=(5.0, 1.0, 1.0),
                 modality="CT", series_description="Axial 16", patient=who, window=(40, 400))
    write_series(tmp_path / "b", phantom(z=5, y=90, x=30), spacing=(2.0, 0.5, 0.7),
                 modality="MR", series_description="Small 5", patient=who, window=(200, 400))
    write_series(tmp_path / "c", phantom(z=2, y=20, x=20), spacing=(1.0, 1.0, 1.0),
                 modality="MR", series_description="Two slices", patient=who, window=(200, 400))
    return tmp_path


@pytest.mark.parametrize("layout", ["1", "1x3", "2x2"])
def test_switching_series_raises_nothing(qtbot, window, mixed_study, layout):
    open_and_wait(qtbot, window, [mixed_study])
    layouts = window.modules["workspace"].layouts
    layouts.set_layout(layout)
    series = window.series_browser.series_list()
    assert len(series) == 3
    for info in series * 3:
        with qtbot.waitSignal(window.state.volume_loaded, timeout=20000):
            window.load_series(info)
        window.state.step_slice(3)
        layouts.nav.step_plane("coronal", 2)
        layouts.set_layout(layout)

"""Cine: loop and bounce stepping, frame rate limits, the timer drives the slice, keys."""
from __future__ import annotations

import pytest

from viewer.ui.views.cine import CineBar, CineController


def _fake(n: int):
    pos = {"k": 0}
    cine = CineController(lambda: n, lambda: pos["k"], lambda k: pos.update(k=k))
    return cine, pos


def test_loop_wraps_and_bounce_reverses():
    cine, pos = _fake(3)
    seen = []
    for _ in range(5):
        cine.advance()
        seen.append(pos["k"])
    assert seen == [1, 2, 0, 1, 2]
    cine.set_mode("bounce")
    seen = []
    for _ in range(6):
        cine.advance()
        seen.append(pos["k"])
    assert seen == [1, 0, 1, 2, 1, 0]
    with pytest.raises(ValueError):
        cine.set_mode("shuffle")


def test_fps_limits_and_single_frame():
    cine, _ = _fake(1)
    cine.set_fps(500)
    assert cine.fps == 60 and cine.timer.interval() == 17
    cine.set_fps(0)
    assert cine.fps == 1
    cine.play()
    assert not cine.playing          # nothing to play with one frame


def test_timer_plays_native_stack_and_keys(window, qtbot):
    from tests.gui_support import make_volume

    window.show_volume(make_volume())
    ws = window.modules["workspace"]
    bar = ws.cine_bar
    assert isinstance(bar, CineBar)
    start = window.state.slice_index
    ws.cine.set_fps(60)
    ws.act_play.trigger()
    assert ws.cine.playing and "Pause" in bar.play.text()
    qtbot.waitUntil(lambda: window.state.slice_index != start, timeout=2000)
    ws.act_play.trigger()
    assert not ws.cine.playing
    ws.act_bounce.trigger()
    assert ws.cine.mode == "bounce" and bar.mode.currentText() == "bounce"
    ws.act_slower.trigger()
    assert ws.cine.fps == pytest.approx(40) and bar.fps.value() == pytest.approx(40)
    # in a plane layout cine steps the active plane view
    ws.layouts.set_layout("1x3")
    depth = ws.nav.depth("axial")
    ws.cine.advance()
    assert ws.nav.depth("axial") == depth + 1

"""Overlay benchmark: GUI responsiveness while the classifiers work (``make bench``).

Figures (demo tumour model, 256 px brain phantom series, offscreen Qt):
* ``max_stall_ms``: the GUI thread's longest gap between 5 ms QTimer ticks while a series sweep
  and a Grad-CAM request run (target <= 30 ms); ``idle_max_stall_ms`` the same with nothing running
  (the peer: what the event loop does on its own on this machine).
* ``scroll_fps_overlay``: slice changes per second with the overlay redrawn from the map cache,
  each frame painted (target >= 60); ``scroll_fps_plain`` the same without overlay (peer).
* ``first_gradcam_ms`` / ``first_gradcam_cold_ms``: Run -> Grad-CAM overlay on screen with the
  model loaded / including the model load; ``first_occlusion_coarse_ms``: Run -> the coarse
  occlusion map on screen; ``occlusion_final_ms``: -> the refined map.
Run as a script: ``python -m tests.benchmarks.bench_overlay``.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SLICEWISE_DEVICE", "cpu")
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

N_SLICES = 48
SIZE = 256


def _spin(app, until, timeout: float = 120.0) -> float:
    """Run the event loop until ``until()``; returns seconds waited."""
    from PySide6.QtCore import QEventLoop, QTimer

    t0 = time.perf_counter()
    while not until():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("benchmark step did not finish")
        loop = QEventLoop()
        QTimer.singleShot(1, loop.quit)
        loop.exec()
    return time.perf_counter() - t0


class _StallMeter:
    """Largest gap between the ticks of a 5 ms QTimer."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.max_gap = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last:
            self.max_gap = max(self.max_gap, now - self.last)
        self.last = now

    def start(self) -> None:
        self.last, self.max_gap = 0.0, 0.0
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.max_gap * 1000.0


def _scroll_fps(app, win, slices: list[int], rounds: int) -> float:
    view = win.slice_view
    frames = 0
    t0 = time.perf_counter()
    for _ in range(rounds):
        for k in slices:
            win.state.set_slice(k)
            view.canvas.viewport().repaint()
            frames += 1
    return frames / (time.perf_counter() - t0)


def main() -> dict:
    from tests.modules.ai.support import brain_volume
    from viewer.app import create_application, create_main_window

    app = create_application([])
    win = create_main_window()
    win.resize(1280, 820)
    win.show()
    ctl = win.modules["ai"]
    ai = ctl.ai
    _spin(app, lambda: bool(ai.models))
    if "tumour" not in ai.models:
        raise RuntimeError("the demo tumour model is not installed (resources/models)")
    ai.set_model("tumour")
    win.show_volume(brain_volume(n=N_SLICES, size=SIZE, seed=7))
    out: dict[str, float] = {}

    idle = _StallMeter()
    idle.start()
    t_idle = time.perf_counter()
    _spin(app, lambda: time.perf_counter() - t_idle >= 1.0)
    out["idle_max_stall_ms"] = idle.stop()

    def on_screen(method: str, final: bool) -> bool:
        r = ai.maps.get(method)
        return r is not None and (r.final or not final) and win.slice_view.overlay_visible() \
            if method == "gradcam" else r is not None and (r.final or not final)

    win.state.set_slice(10)
    t0 = time.perf_counter()
    ctl.run_slice()
    _spin(app, lambda: on_screen("gradcam", True))
    out["first_gradcam_cold_ms"] = (time.perf_counter() - t0) * 1000
    win.state.set_slice(11)
    t0 = time.perf_counter()
    ctl.run_slice()
    _spin(app, lambda: on_screen("gradcam", True))
    out["first_gradcam_ms"] = (time.perf_counter() - t0) * 1000

    ai.set_method("occlusion")
    win.state.set_slice(12)
    t0 = time.perf_counter()
    ctl.run_slice()
    _spin(app, lambda: on_screen("occlusion", False))
    out["first_occlusion_coarse_ms"] = (time.perf_counter() - t0) * 1000
    _spin(app, lambda: on_screen("occlusion", True))
    out["occlusion_final_ms"] = (time.perf_counter() - t0) * 1000
    ai.set_method("gradcam")

    meter = _StallMeter()
    meter.start()
    t0 = time.perf_counter()
    ctl.run_series()
    win.state.set_slice(20)
    ctl.run_slice()
    _spin(app, lambda: ai.sweep is not None and ai.sweep.complete and on_screen("gradcam", True))
    out["sweep_s"] = time.perf_counter() - t0
    out["max_stall_ms"] = meter.stop()

    cached = list(range(8, 16))
    for k in cached:  # fill the map cache for the scroll test
        win.state.set_slice(k)
        _spin(app, lambda: on_screen("gradcam", True))
    ai.follow = False
    out["scroll_fps_overlay"] = _scroll_fps(app, win, cached, 12)
    ai.set_overlay_visible(False)
    out["scroll_fps_plain"] = _scroll_fps(app, win, cached, 12)
    win.runner.shutdown(2000)
    win.close()

    print(f"{'measure':<34}{'value':>12}  target")
    targets = {"max_stall_ms": "<= 30", "scroll_fps_overlay": ">= 60"}
    for key, value in out.items():
        print(f"{key:<34}{value:>12.1f}  {targets.get(key, '')}")
    return out


if __name__ == "__main__":
    main()

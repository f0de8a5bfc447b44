"""Scroll frame rate of the compare view off-screen: four linked viewports each with a heat-map
overlay, against the same four viewports unlinked (each moved by hand) and one SliceView with an
overlay, in the same run, 512 x 512 px per viewport and 512 x 512 float32 slices.

Per frame: move the slice (linked: the first viewport, the others follow by patient position in
one frame of reference; unlinked: every viewport's own ViewerState), give every viewport the heat
map of its new slice (the AI module does the same per slice), render the whole grid synchronously
(``grab()``). Target from issue 15: >= 60 fps for four linked viewports.

Run: ``python tests/benchmarks/bench_compare.py`` (QT_QPA_PLATFORM=offscreen is set if unset).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.benchmarks.events import deliver_pending_events

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from tests.benchmarks.frames import ct_noise_volume, frame_rate  # noqa: E402

SIZE = 512
SLICES = 48
VIEWPORT = 512
SECONDS = 2.0


def main() -> dict:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from viewer.core.overlay import OverlayStyle
    from viewer.io.records import PatientInfo, SeriesInfo
    from viewer.modules.compare.sync import CompareSync
    from viewer.modules.compare.viewports import CompareGrid
    from viewer.state.viewer_state import ViewerState
    from viewer.ui.views.slice_view import SliceView, configure_pyqtgraph

    app = QApplication.instance() or QApplication([])  # noqa: F841
    configure_pyqtgraph()
    vols = [ct_noise_volume(SLICES, SIZE, 0.3 * n) for n in range(4)]
    heat = np.random.default_rng(1).random((SLICES, SIZE, SIZE)).astype(np.float32)
    style = OverlayStyle()
    settings = QSettings(str(Path(os.environ.get("SLICEWISE_SETTINGS_DIR", "/tmp"))
                             / "bench_compare.ini"), QSettings.Format.IniFormat)
    grid = CompareGrid()
    grid.set_count(4)
    grid.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    grid.resize(2 * VIEWPORT, 2 * VIEWPORT)
    grid.show()
    sync = CompareSync(grid.viewports, settings)
    sync.count = 4
    for n, (vp, vol) in enumerate(zip(grid.viewports, vols)):
        vp.series = SeriesInfo(f"s{n}", f"s{n}", "study", "CT", "bench", "", PatientInfo(),
                               ("x",), SIZE, SIZE, frame_of_reference_uid="1.2.3")
        vp.state.open_volume(vol)
        vp.view.fit()
    deliver_pending_events()
    viewport_px = grid.viewports[0].view.canvas.size()

    def overlays() -> None:
        for vp in grid.viewports:
            vp.view.set_overlay(heat[vp.state.slice_index], style)

    def linked(n: int) -> None:
        sync.linked = True
        grid.viewports[0].state.set_slice(1 + n % (SLICES - 2))
        overlays()
        grid.grab()

    def unlinked(n: int) -> None:
        sync.linked = False
        for vp in grid.viewports:
            vp.state.set_slice(1 + n % (SLICES - 2))
        overlays()
        grid.grab()

    state = ViewerState()
    single = SliceView(state)
    single.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    single.resize(VIEWPORT, VIEWPORT)
    single.show()
    state.open_volume(vols[0])
    single.fit()

    def one(n: int) -> None:
        state.set_slice(1 + n % (SLICES - 2))
        single.set_overlay(heat[state.slice_index], style)
        single.canvas.grab()

    results = {
        "four_linked_fps": frame_rate(linked, SECONDS),
        "four_unlinked_fps": frame_rate(unlinked, SECONDS),
        "single_view_fps": frame_rate(one, SECONDS),
    }
    results["ratio_linked_to_unlinked"] = results["four_linked_fps"] / results["four_unlinked_fps"]
    results["ratio_linked_to_single"] = results["four_linked_fps"] / results["single_view_fps"]
    results["target_fps"] = 60.0
    results["meets_target"] = results["four_linked_fps"] >= 60.0
    results["setup"] = (f"4 x {SLICES}x{SIZE}x{SIZE} float32 + overlay, viewport canvas "
                        f"{viewport_px.width()}x{viewport_px.height()} px")
    grid.close()
    single.close()
    print(f"{'measure':<34}{'value':>12}")
    for key, value in results.items():
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"{key:<34}{text:>12}")
    return results


if __name__ == "__main__":
    main()

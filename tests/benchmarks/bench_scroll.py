"""Scroll frame rate of the SliceView off-screen on a 512 x 512 float32 volume.

Per frame: move the slice (ViewerState.set_slice -> ImageItem.setImage with explicit levels) and
render the view synchronously (``grab()``), letters, corner text and scale bar included. Also the
pure set-image rate (no paint). Peer, measured in the same run: a bare pyqtgraph ImageItem in a
GraphicsView of the same size doing setImage + grab. Target: >= 60 frames per second.

Run: ``python tests/benchmarks/bench_scroll.py`` (QT_QPA_PLATFORM=offscreen is set if unset).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.frames import ct_noise_volume, frame_rate  # noqa: E402

SIZE = 512
SLICES = 64
VIEW = (800, 800)
SECONDS = 2.0


def main() -> dict:
    import pyqtgraph as pg
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from viewer.state.viewer_state import ViewerState
    from viewer.ui.views.slice_view import SliceView, configure_pyqtgraph

    _app = QApplication.instance() or QApplication([])  # kept alive for the benchmark
    configure_pyqtgraph()
    vol = ct_noise_volume(SLICES, SIZE)
    state = ViewerState()
    view = SliceView(state)
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.resize(*VIEW)
    view.show()
    state.open_volume(vol)
    view.fit()

    def view_frame(n: int) -> None:
        state.set_slice(n % SLICES if n % SLICES != state.slice_index else (n + 1) % SLICES)
        view.canvas.grab()

    def view_set_only(n: int) -> None:
        state.set_slice(n % SLICES if n % SLICES != state.slice_index else (n + 1) % SLICES)

    peer_view = pg.GraphicsView()
    peer_view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    box = pg.ViewBox(lockAspect=True, invertY=True)
    peer_view.setCentralItem(box)
    item = pg.ImageItem(axisOrder="row-major")
    box.addItem(item)
    peer_view.resize(*VIEW)
    peer_view.show()
    item.setImage(vol.voxels[0], autoLevels=False, levels=(-160, 240))
    box.autoRange()

    def peer_frame(n: int) -> None:
        item.setImage(vol.voxels[n % SLICES], autoLevels=False, levels=(-160, 240))
        peer_view.grab()

    def peer_set_only(n: int) -> None:
        item.setImage(vol.voxels[n % SLICES], autoLevels=False, levels=(-160, 240))

    results = {
        "slice_view_fps": frame_rate(view_frame, SECONDS),
        "imageitem_peer_fps": frame_rate(peer_frame, SECONDS),
        "slice_view_set_image_per_s": frame_rate(view_set_only, SECONDS),
        "imageitem_peer_set_image_per_s": frame_rate(peer_set_only, SECONDS),
    }
    results["ratio_view_to_peer"] = results["slice_view_fps"] / results["imageitem_peer_fps"]
    results["target_fps"] = 60.0
    results["meets_target"] = results["slice_view_fps"] >= 60.0
    results["volume"] = f"{SLICES}x{SIZE}x{SIZE} float32, view {VIEW[0]}x{VIEW[1]} px"
    view.close()
    peer_view.close()
    print(f"{'measure':<34}{'value':>12}")
    for key, value in results.items():
        text = f"{value:.1f}" if isinstance(value, float) else str(value)
        print(f"{key:<34}{text:>12}")
    return results


if __name__ == "__main__":
    main()

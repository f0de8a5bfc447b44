"""Reformatting a 200 x 512 x 512 float32 volume: coronal and sagittal view update time and memory.

Per update (PlaneView off-screen, 800 x 800): move the crosshair one plane (extract the plane as a
numpy view + one contiguous 2D copy, ImageItem.setImage with explicit levels) and render
synchronously (``grab()``: image, crosshair, letters, corner text, scale bar). Target < 16 ms.
Memory: tracemalloc peak of one plane extraction, against the volume's size (no volume copy).
Peers measured in the same run on the same plane: numpy fancy-indexing copy (``np.take``) and
SimpleITK ``sitk.Extract`` (from an image built once). Also the oblique path (trilinear resample
of a 512 x 512 plane) for reference.

Run: ``python tests/benchmarks/bench_reformat.py``.
"""
from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

SHAPE = (200, 512, 512)
SPACING = (1.0, 0.7, 0.7)
VIEW = (800, 800)
FRAMES = 60


def _per_call_ms(fn, n: int = FRAMES) -> float:
    for k in range(3):
        fn(k)
    t0 = time.perf_counter()
    for k in range(n):
        fn(k)
    return (time.perf_counter() - t0) / n * 1000.0


def _peak_mb(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> dict:
    import SimpleITK as sitk
    from PySide6.QtWidgets import QApplication

    from viewer.core.reformat import extract, volume_planes
    from viewer.io.records import Volume, WindowPreset
    from viewer.state.navigation import Navigator
    from viewer.state.viewer_state import ViewerState
    from viewer.ui.views.plane_view import PlaneView
    from viewer.ui.views.slice_view import configure_pyqtgraph

    _app = QApplication.instance() or QApplication([])  # kept alive for the benchmark
    configure_pyqtgraph()
    rng = np.random.default_rng(0)
    vox = rng.normal(40.0, 200.0, SHAPE).astype(np.float32)
    vol = Volume(vox, SPACING, (0.0, 0.0, 0.0), np.eye(3), "CT", "bench",
                 window=WindowPreset("Header", 40.0, 400.0))
    state = ViewerState()
    nav = Navigator(state)
    views = {}
    for plane in ("coronal", "sagittal"):
        view = PlaneView(state, nav, plane)
        view.resize(*VIEW)
        view.show()
        views[plane] = view
    state.open_volume(vol)
    for view in views.values():
        view.layout().activate()
        view.fit()
    geoms = volume_planes(vol)
    sitk_img = sitk.GetImageFromArray(vox)
    rows = []
    out: dict = {"shape_zyx": list(SHAPE), "volume_mb": vox.nbytes / 2**20}
    for plane, view in views.items():
        g = geoms[plane]
        depth0 = g.depths // 4

        def update(k, view=view, plane=plane):
            nav.set_depth(plane, depth0 + k % 100)
            view.canvas.grab()

        def set_only(k, view=view, plane=plane):
            nav.set_depth(plane, depth0 + k % 100)

        def ours(k, g=g):
            np.ascontiguousarray(extract(vox, g, depth0 + k % 100))

        axis = g.axes[0][0]

        def fancy(k, axis=axis):
            np.take(vox, [depth0 + k % 100], axis=axis)

        size = list(sitk_img.GetSize())
        sitk_axis = 2 - axis
        size[sitk_axis] = 0

        def sitk_extract(k, size=size, sitk_axis=sitk_axis):
            index = [0, 0, 0]
            index[sitk_axis] = depth0 + k % 100
            sitk.GetArrayViewFromImage(sitk.Extract(sitk_img, size, index))

        figures = {
            "update_ms": _per_call_ms(update),
            "set_image_ms": _per_call_ms(set_only),
            "extract_ms": _per_call_ms(ours),
            "numpy_take_ms": _per_call_ms(fancy),
            "sitk_extract_ms": _per_call_ms(sitk_extract),
            "extract_peak_mb": _peak_mb(lambda: np.ascontiguousarray(extract(vox, g, depth0))),
            "numpy_take_peak_mb": _peak_mb(lambda: np.take(vox, [depth0], axis=axis)),
            "is_view": bool(np.shares_memory(extract(vox, g, depth0), vox)),
        }
        out[plane] = figures
        rows.append((plane, figures))
    oblique = Volume(vox, SPACING, (0.0, 0.0, 0.0),
                     np.array([[0.966, -0.259, 0], [0.259, 0.966, 0], [0, 0, 1.0]]), "CT", "o")
    og = volume_planes(oblique)["coronal"]
    out["oblique_resample_ms"] = _per_call_ms(
        lambda k: extract(vox, og, og.depths // 2 + k % 20, spacing=SPACING, origin=(0, 0, 0),
                          direction=oblique.direction), n=10)
    out["oblique_plane_shape"] = list(og.shape)
    print(f"volume {SHAPE} float32 = {out['volume_mb']:.0f} MB, view {VIEW[0]}x{VIEW[1]}")
    print(f"{'plane':9} {'update':>8} {'ext+set':>9} {'extract':>8} {'np.take':>8} "
          f"{'sitk.Extr':>9} {'peak MB':>8} {'take MB':>8} view")
    for plane, f in rows:
        print(f"{plane:9} {f['update_ms']:7.2f}ms {f['set_image_ms']:8.2f}ms "
              f"{f['extract_ms']:7.3f}ms {f['numpy_take_ms']:7.3f}ms {f['sitk_extract_ms']:8.3f}ms "
              f"{f['extract_peak_mb']:8.2f} {f['numpy_take_peak_mb']:8.2f} {f['is_view']}")
    print(f"oblique coronal resample {og.shape}: {out['oblique_resample_ms']:.1f} ms per plane")
    print("target: update < 16 ms; no copy of the volume per view")
    for view in views.values():
        view.close()
    return out


if __name__ == "__main__":
    main()

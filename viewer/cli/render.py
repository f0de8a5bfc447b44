"""Off-screen rendering of the slice view to PNG, exactly as the GUI draws it (image, window,
orientation letters, corner text, scale bar, and optionally a classifier's heat map overlay).
Used by ``slicewise screenshot``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from viewer.io.records import Volume

OVERLAYS = ("gradcam", "hirescam", "occlusion", "both")


def render_to_png(volume: Volume, out: Path, *, slice_index: int | None = None,
                  window: tuple[float, float] | None = None, size: tuple[int, int] = (800, 800),
                  anonymise: bool = True, model: str | None = None, overlay: str | None = None,
                  opacity: float = 0.5, target: str | None = None, colormap: str = "inferno",
                  threshold: float = 0.2, device: str = "auto", layout: str = "1",
                  crosshair: tuple[float, float, float] | None = None) -> Path:
    """Render slice ``slice_index`` (default: middle) of ``volume`` with ``window`` (centre, width
    in volume units; default: the volume's window) into a ``size`` (width, height) px PNG.

    With ``model`` the heat map of ``overlay`` ("gradcam", "hirescam", "occlusion" or "both":
    Grad-CAM and occlusion in two views side by side, each ``size``) for ``target`` (a class name;
    default the predicted class) is computed
    synchronously and drawn with ``opacity`` (0..1), ``colormap`` (inferno, jet, hot, turbo) and
    ``threshold`` (fraction of the map's maximum below which it is transparent).
    ``layout`` ("1", "1x3", "2x2", "conventional") renders the three-plane layouts through
    ``crosshair`` (patient LPS mm; default: the volume centre); with layout "1" the crosshair picks
    the slice. Patient name, ID and birth date are left out when ``anonymise`` is True. Creates a
    QApplication when none exists (use QT_QPA_PLATFORM=offscreen on machines without a display).
    Raises ``ValueError`` for a slice outside the volume or a bad overlay option, ``OSError``
    when the file cannot be written; model errors (ModelLoadError, InputError) pass through.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from viewer.core.overlay import COLORMAPS, OverlayStyle
    from viewer.state.viewer_state import ViewerState
    from viewer.ui.views.slice_view import SliceView, configure_pyqtgraph

    if slice_index is not None and not 0 <= slice_index < volume.n_slices:
        raise ValueError(f"slice {slice_index} is outside the series (0 to {volume.n_slices - 1})")
    if model and (overlay or "gradcam") not in OVERLAYS:
        raise ValueError(f"unknown overlay {overlay!r}; choose one of {', '.join(OVERLAYS)}")
    if model and colormap not in COLORMAPS:
        raise ValueError(f"unknown colormap {colormap!r}; choose one of {', '.join(COLORMAPS)}")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity {opacity} is outside 0..1")
    from viewer.ui.views.layouts import LAYOUTS

    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if crosshair is not None:
        kji = volume.patient_to_index(crosshair)
        if np.any(kji < -0.5) or np.any(kji > np.array(volume.shape) - 0.5):
            raise ValueError(f"crosshair {tuple(crosshair)} mm is outside the series")
        if slice_index is None:
            slice_index = int(np.floor(kji[0] + 0.5))
    from viewer.ui.qt_messages import route_qt_messages

    route_qt_messages()
    app = QApplication.instance() or QApplication(["slicewise-screenshot"])
    configure_pyqtgraph()
    k = volume.n_slices // 2 if slice_index is None else slice_index
    heats: list = []
    if model:
        from viewer.modules.ai.service import compute_maps, default_target

        method = overlay or "gradcam"
        methods = ("gradcam", "occlusion") if method == "both" else (method,)
        results = compute_maps(volume, k, model, methods, target or default_target(model),
                               device=device)
        heats = [(r.heat, r.reference) for r in results]
    state = ViewerState()
    state.set_anonymise(anonymise)
    views = [SliceView(state) for _ in range(max(1, len(heats)))]
    for view in views:
        view.controls.hide()
        view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        view.resize(*size)
        view.show()
    try:
        state.open_volume(volume)
        state.set_slice(k)
        if window is not None:
            state.set_window(window[0], window[1], "")
        images = []
        for n, view in enumerate(views):
            view.layout().activate()
            view.fit()
            if heats:
                view.set_overlay(heats[n][0], OverlayStyle(colormap, opacity, threshold),
                                 heats[n][1])
            images.append(view.canvas.grab().toImage())
        image = images[0]
        if layout != "1":
            image = _render_layout(state, views[0], layout, crosshair, size)
        elif len(images) > 1:
            image = QImage(sum(i.width() for i in images), max(i.height() for i in images),
                           QImage.Format.Format_RGB32)
            image.fill(0)
            p = QPainter(image)
            x = 0
            for part in images:
                p.drawImage(x, 0, part)
                x += part.width()
            p.end()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(out), "PNG"):
            raise OSError(f"could not write {out}")
    finally:
        for view in views:
            view.close()
            view.deleteLater()
    del app
    return out


def _render_layout(state, single, layout: str, crosshair, size: tuple[int, int]):
    """Grab the three-plane ``layout`` through ``crosshair`` (the volume centre by default)."""
    from PySide6.QtCore import Qt

    from viewer.ui.views.layouts import LayoutContainer

    container = LayoutContainer(state, single)
    container.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    container.resize(*size)
    container.show()
    try:
        container.set_layout(layout)
        vol = state.volume
        point = crosshair
        if point is None:
            point = vol.index_to_patient(*((np.array(vol.shape, float) - 1) / 2))
        container.nav.set_crosshair(point)
        container.layout().activate()
        for view in container.visible_views():
            if hasattr(view, "fit"):
                view.fit()
        return container.grab().toImage()
    finally:
        container.close()
        container.deleteLater()

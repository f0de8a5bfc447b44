"""Off-screen rendering of the slice view to PNG, exactly as the GUI draws it (image, window,
orientation letters, corner text, scale bar). Used by ``slicewise screenshot``."""
from __future__ import annotations

from pathlib import Path

from viewer.io.volume import Volume


def render_to_png(volume: Volume, out: Path, *, slice_index: int | None = None,
                  window: tuple[float, float] | None = None, size: tuple[int, int] = (800, 800),
                  anonymise: bool = True) -> Path:
    """Render slice ``slice_index`` (default: middle) of ``volume`` with ``window`` (centre, width
    in volume units; default: the volume's window) into a ``size`` (width, height) px PNG.

    Patient name, ID and birth date are left out when ``anonymise`` is True. Creates a
    QApplication when none exists (use QT_QPA_PLATFORM=offscreen on machines without a display).
    Raises ``ValueError`` for a slice outside the volume, ``OSError`` when the file cannot be
    written.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from viewer.state import ViewerState
    from viewer.ui.slice_view import SliceView, configure_pyqtgraph

    if slice_index is not None and not 0 <= slice_index < volume.n_slices:
        raise ValueError(f"slice {slice_index} is outside the series (0 to {volume.n_slices - 1})")
    app = QApplication.instance() or QApplication(["slicewise-screenshot"])
    configure_pyqtgraph()
    state = ViewerState()
    state.set_anonymise(anonymise)
    view = SliceView(state)
    view.controls.hide()
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.resize(*size)
    view.show()
    try:
        state.open_volume(volume)
        if slice_index is not None:
            state.set_slice(slice_index)
        if window is not None:
            state.set_window(window[0], window[1], "")
        view.layout().activate()
        view.fit()
        image = view.canvas.grab().toImage()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(out), "PNG"):
            raise OSError(f"could not write {out}")
    finally:
        view.close()
        view.deleteLater()
    del app
    return out

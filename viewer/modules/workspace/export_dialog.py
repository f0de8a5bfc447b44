"""PNG export of what is on screen: the current view or the whole layout, with the overlay as
shown, an optional colour bar and caption (series, slice, model, class, probability). Patient
identity is burned in only when the reader ticks "Include patient data". Also copy to clipboard.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QLinearGradient, QPainter
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget

from viewer.core.overlay import lookup_table

CAPTION_H = 28
BAR_W = 70


@dataclass(frozen=True)
class PngOptions:
    """What goes into an exported picture. ``what``: "view" (active view) or "layout"."""

    what: str = "layout"
    overlay: bool = True
    colorbar: bool = True
    caption: str = ""
    include_patient: bool = False


def caption_text(state, model_text: str = "", include_patient: bool = False) -> str:
    """"<patient — >series — slice k/n — <model, class, probability>" for the caption."""
    vol = state.volume
    if vol is None:
        return ""
    parts = []
    if include_patient and vol.patient.name:
        parts.append(vol.patient.name.replace("^", " ").strip())
    parts += [vol.description or vol.series_uid, f"slice {state.slice_index + 1}/{vol.n_slices}"]
    if model_text:
        parts.append(model_text)
    return " — ".join(parts)


def colorbar_levels(layer) -> tuple[str, float, float] | None:
    """(label, low, high) of a visible OverlayLayer (the map values its colours span), None
    when no overlay is shown."""
    span = layer.colour_range() if layer is not None else None
    return None if span is None else ("map", span[0], span[1])


def decorate(image: QImage, caption: str = "", colorbar: tuple | None = None,
             lut: np.ndarray | None = None) -> QImage:
    """``image`` with a colour bar strip on the right (``colorbar`` = (label, low, high) and
    ``lut`` (256, 3|4) uint8) and a caption strip at the bottom."""
    w = image.width() + (BAR_W if colorbar else 0)
    h = image.height() + (CAPTION_H if caption else 0)
    out = QImage(w, h, QImage.Format.Format_RGB32)
    out.fill(QColor(0, 0, 0))
    p = QPainter(out)
    p.drawImage(0, 0, image)
    font = QFont()
    font.setPointSize(10)
    p.setFont(font)
    p.setPen(QColor(235, 235, 235))
    if colorbar:
        label, low, high = colorbar
        x0, top, bottom = image.width() + 12, 24, image.height() - 24
        grad = QLinearGradient(0, bottom, 0, top)
        table = lut if lut is not None else np.stack([np.arange(256)] * 3, 1)
        for n in range(0, 256, 8):
            r, g, b = (int(c) for c in table[n][:3])
            grad.setColorAt(n / 255.0, QColor(r, g, b))
        p.fillRect(QRect(x0, top, 16, bottom - top), grad)
        p.drawText(QRect(x0 - 8, 4, BAR_W, 18), Qt.AlignmentFlag.AlignLeft, f"{high:.3g}")
        p.drawText(QRect(x0 - 8, bottom + 4, BAR_W, 18), Qt.AlignmentFlag.AlignLeft, f"{low:.3g}")
    if caption:
        p.drawText(QRect(8, image.height(), w - 16, CAPTION_H),
                   int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), caption)
    p.end()
    return out


def render(workspace, options: PngOptions) -> QImage:
    """The picture to export from a Workspace (layout or active view) per ``options``."""
    layouts = workspace.layouts
    target = layouts.active_view() if options.what == "view" else layouts.stack.currentWidget()
    overlays = _overlay_layers(layouts)
    hidden = []
    if not options.overlay:
        for layer in overlays:
            if layer.visible:
                layer.item.setVisible(False)
                hidden.append(layer.item)
    try:
        if hasattr(target, "canvas") and options.what == "view":
            image = target.canvas.grab().toImage()
        else:
            image = target.grab().toImage()
    finally:
        for item in hidden:
            item.setVisible(True)
    bar, lut = None, None
    if options.overlay and options.colorbar:
        for layer in overlays:
            bar = colorbar_levels(layer)
            if bar is not None:
                lut = lookup_table(layer.style.colormap)
                break
    return decorate(image, options.caption, bar, lut)


def _overlay_layers(layouts) -> list:
    """Overlay layers of the native SliceView (possibly wrapped) and the plane views."""
    from viewer.ui.views.slice_view import SliceView

    single = layouts.single
    if not isinstance(single, SliceView):
        single = single.findChild(SliceView)
    layers = [single.overlay_layer] if single is not None else []
    return layers + [v.overlay_layer for v in layouts.views.values()]


def copy_to_clipboard(image: QImage) -> None:
    """Put ``image`` on the system clipboard."""
    QGuiApplication.clipboard().setImage(image)


class ExportDialog(QDialog):
    """Options of a PNG export (what, overlay, colour bar, caption, patient data)."""

    def __init__(self, default_caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export PNG")
        self.what = QComboBox()
        self.what.addItem("Whole layout", "layout")
        self.what.addItem("Active view", "view")
        self.overlay = QCheckBox("Heat-map overlay")
        self.overlay.setChecked(True)
        self.colorbar = QCheckBox("Colour bar")
        self.colorbar.setChecked(True)
        self.caption = QLineEdit(default_caption)
        self.patient = QCheckBox("Include patient data (name in caption)")
        form = QFormLayout(self)
        form.addRow("Export", self.what)
        form.addRow(self.overlay)
        form.addRow(self.colorbar)
        form.addRow("Caption", self.caption)
        form.addRow(self.patient)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> PngOptions:
        return PngOptions(self.what.currentData(), self.overlay.isChecked(),
                          self.colorbar.isChecked(), self.caption.text(),
                          self.patient.isChecked())

"""Series browser: one row per discovered series with a thumbnail (made in the background),
description, modality, slice count and a warning badge with the problems as tooltip and text."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QWidget

from viewer.core.overlay import window_to_gray
from viewer.io.records import DiscoveryResult, SeriesInfo
from viewer.state.viewer_state import display_name

THUMB = 72
UID_ROLE = Qt.ItemDataRole.UserRole


def thumbnail_job(series: tuple[SeriesInfo, ...]):
    """Job factory: for each series, read its middle image and yield ``(uid, uint8 array,
    width/height aspect in mm)``; arrays are (H, W) grey or (H, W, 3) colour, at most 4*THUMB px."""

    def job(ctx) -> Iterator[tuple[str, np.ndarray, float]]:
        from viewer.io import auto_window, iter_load

        for info in series:
            if ctx.cancelled():
                return
            one = replace(info, files=(info.files[len(info.files) // 2],)) \
                if len(info.files) > 1 else info
            try:
                first = next(iter(iter_load(one, chunk=1, cancelled=ctx.cancelled)))
            except Exception:  # a series that cannot be read keeps its placeholder icon
                continue
            image = np.asarray(first.volume.voxels[0])
            step = max(1, int(np.ceil(max(image.shape[:2]) / (4 * THUMB))))
            image = image[::step, ::step]
            if first.volume.is_rgb:
                grey = np.clip(image, 0, 255).astype(np.uint8)
            else:
                w = auto_window(image)
                grey = window_to_gray(image, w.center, w.width, first.volume.invert_display)
            sy, sx = info.pixel_spacing
            aspect = (info.columns * sx) / max(info.rows * sy, 1e-6)
            yield info.uid, np.ascontiguousarray(grey), float(aspect)

    return job


def array_to_pixmap(grey: np.ndarray, aspect: float, size: int = THUMB) -> QPixmap:
    """Square ``size`` pixmap with the image scaled to its physical aspect, centred on black."""
    h, w = grey.shape[:2]
    if grey.ndim == 3:
        img = QImage(grey.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    else:
        img = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    tw, th = (size, max(1, int(size / aspect))) if aspect >= 1 else (max(1, int(size * aspect)), size)
    scaled = img.scaled(tw, th, Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)
    pix = QPixmap(size, size)
    pix.fill(QColor("black"))
    p = QPainter(pix)
    p.drawImage((size - tw) // 2, (size - th) // 2, scaled)
    p.end()
    return pix


def placeholder_pixmap(size: int = THUMB) -> QPixmap:
    pix = QPixmap(size, size)
    pix.fill(QColor(40, 40, 40))
    return pix


class SeriesBrowser(QListWidget):
    """List of series; ``series_activated(SeriesInfo)`` when the reader picks one."""

    series_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setSpacing(2)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setAccessibleName("Series")
        self._series: dict[str, SeriesInfo] = {}
        self._pixmaps: dict[str, QPixmap] = {}
        self._anonymise = False
        self._notes: dict[str, dict[str, tuple[str, bool, str]]] = {}   # uid -> source -> note
        self.itemActivated.connect(self._on_item_activated)
        self.itemClicked.connect(self._on_item_activated)
        # Arrow keys move through the list only while the reader is in it: make that visible.
        self.setStyleSheet("QListWidget:focus { border: 2px solid palette(highlight); }")

    def event(self, ev) -> bool:
        # Esc in the list means "back to the image" (viewer.ui.escape_to_image hands the keys
        # over), not a window-wide Esc shortcut such as the navigate tool
        if ev.type() == QEvent.Type.ShortcutOverride and ev.key() == Qt.Key.Key_Escape:
            ev.accept()
            return True
        return super().event(ev)

    def set_discovery(self, result: DiscoveryResult) -> None:
        """Show the series of a discovery result (thumbnails arrive via :meth:`set_thumbnail`)."""
        self.clear()
        self._series = {s.uid: s for s in result.series}
        self._pixmaps = {}
        for info in result.series:
            item = QListWidgetItem()
            item.setData(UID_ROLE, info.uid)
            self.addItem(item)
            self._refresh(item)

    def series_list(self) -> list[SeriesInfo]:
        return list(self._series.values())

    def set_thumbnail(self, uid: str, grey: np.ndarray, aspect: float) -> None:
        """Attach a thumbnail to the series ``uid``."""
        self._pixmaps[uid] = array_to_pixmap(grey, aspect)
        item = self._item(uid)
        if item is not None:
            self._refresh(item)

    def set_current_uid(self, uid: str) -> None:
        """Highlight the series ``uid`` without activating it."""
        item = self._item(uid)
        if item is not None:
            self.blockSignals(True)
            self.setCurrentItem(item)
            self.blockSignals(False)

    def set_note(self, uid: str, text: str, warn: bool = False, tooltip: str = "",
                 source: str = "ai") -> None:
        """Show an extra line (e.g. the contrast model's label) under series ``uid``; ``warn``
        marks it as a disagreement. Each ``source`` (the contrast labels, opened batch results)
        keeps its own line, so one never hides the other whichever arrives last. An empty
        ``text`` removes that source's line."""
        notes = self._notes.setdefault(uid, {})
        if text:
            notes[source] = (text, warn, tooltip)
        else:
            notes.pop(source, None)
        item = self._item(uid)
        if item is not None:
            self._refresh(item)

    def note(self, uid: str, source: str | None = None) -> str:
        """The extra line(s) shown under series ``uid`` ("" when none): one source's, or all of
        them one per line."""
        notes = self._notes.get(uid, {})
        if source is not None:
            return notes.get(source, ("", False, ""))[0]
        return "\n".join(n[0] for n in notes.values())

    def set_anonymise(self, on: bool) -> None:
        self._anonymise = on
        for row in range(self.count()):
            self._refresh(self.item(row))

    def _item(self, uid: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(UID_ROLE) == uid:
                return self.item(row)
        return None

    def _refresh(self, item: QListWidgetItem) -> None:
        info = self._series[item.data(UID_ROLE)]
        title = info.description or "(no description)"
        number = f"#{info.series_number} " if info.series_number is not None else ""
        lines = [f"{number}{title}",
                 f"{info.modality} · {info.n_slices} image{'s' if info.n_slices != 1 else ''}"
                 f" · {info.orientation}"]
        if info.warnings:
            n = len(info.warnings)
            lines.append(f"⚠ {n} warning{'s' if n > 1 else ''}")
        notes = list(self._notes.get(info.uid, {}).values())
        lines += [n[0] for n in notes]
        item.setText("\n".join(lines))
        if any(n[1] for n in notes):
            item.setForeground(QColor(230, 150, 40))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
        patient = display_name(info.patient.name.replace("^", " ").strip(), self._anonymise)
        tip = [f"{title}", f"Patient: {patient or '—'}",
               f"{info.columns} × {info.rows} px, {info.n_slices} images",
               f"Pixel spacing {info.pixel_spacing[1]:g} × {info.pixel_spacing[0]:g} mm"]
        tip += [f"⚠ {w}" for w in info.warnings]
        tip += [n[2] for n in notes if n[2]]
        item.setToolTip("\n".join(tip))
        pix = self._pixmaps.get(info.uid) or placeholder_pixmap()
        if info.warnings:
            pix = QPixmap(pix)
            p = QPainter(pix)
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            p.drawPixmap(pix.width() - 24, 2, icon.pixmap(22, 22))
            p.end()
        icon = QIcon(pix)
        icon.addPixmap(pix, QIcon.Mode.Selected)
        item.setIcon(icon)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        info = self._series.get(item.data(UID_ROLE))
        if info is not None:
            self.series_activated.emit(info)

"""CompareViewport: one series of the compare view — its own ViewerState and SliceView (the shared
canvas component), the reference lines of the other viewports, and a drop target for series
dragged from the series browser. CompareGrid lays out two to four of them.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from viewer.io.records import SeriesInfo
from viewer.state.viewer_state import ViewerState
from viewer.ui.series_browser import UID_ROLE
from viewer.ui.views.slice_view import SliceView

MAX_VIEWPORTS = 4
#: Reference-line colour of each viewport (also its frame when active), as Weasis colours them.
COLOURS = (QColor(255, 210, 0), QColor(0, 220, 120), QColor(255, 90, 200), QColor(90, 170, 255))


class CompareViewport(QFrame):
    """One viewport. Signals: ``activated(int index)`` on a click or focus;
    ``series_dropped(int index, str uid)`` when a series is dropped from the series browser."""

    activated = Signal(int)
    series_dropped = Signal(int, str)

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.state = ViewerState(self)
        self.series: SeriesInfo | None = None
        self.view = SliceView(self.state)
        # Keys act on the focused viewport only: four views share the window, so their keys are
        # taken off the shortcut system (one binding per keystroke) and read here instead.
        self._keys = [(seq[0], act) for act in self.view.actions() for seq in act.shortcuts()
                      if seq.count() == 1]
        for act in self.view.actions():
            act.setShortcuts([])
        self.view.installEventFilter(self)
        self.view.canvas.installEventFilter(self)
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addWidget(self.view)
        self.setFrameShape(QFrame.Shape.Box)
        self.setLineWidth(2)
        self.set_active(False)
        self.lines: dict[int, pg.PlotCurveItem] = {}
        self.view.canvas.scene().sigMouseClicked.connect(lambda *_: self.activated.emit(index))
        self.setAcceptDrops(True)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            mods = ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            for combo, act in self._keys:
                if combo.key() == ev.key() and combo.keyboardModifiers() == mods:
                    if ev.type() == QEvent.Type.KeyPress:
                        act.trigger()
                    ev.accept()
                    return ev.type() == QEvent.Type.KeyPress
        return super().eventFilter(obj, ev)

    def set_active(self, on: bool) -> None:
        colour = COLOURS[self.index].name() if on else "#333"
        self.setStyleSheet(f"CompareViewport {{ border: 2px solid {colour}; }}")

    def focusInEvent(self, ev) -> None:  # noqa: N802
        super().focusInEvent(ev)
        self.activated.emit(self.index)

    # -- reference lines ------------------------------------------------------------------
    def set_reference_line(self, other: int, segment) -> None:
        """Draw the line where viewport ``other``'s slice cuts this one (``((x0, y0), (x1, y1))``
        view mm), or hide it (None)."""
        item = self.lines.get(other)
        if item is None:
            pen = QPen(COLOURS[other], 1)
            pen.setCosmetic(True)
            item = pg.PlotCurveItem(pen=pen)
            item.setZValue(25)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.view.view_box.addItem(item, ignoreBounds=True)
            self.lines[other] = item
        if segment is None:
            item.setVisible(False)
            return
        (x0, y0), (x1, y1) = segment
        item.setData(x=[x0, x1], y=[y0, y1])
        item.setVisible(True)

    def reference_segment(self, other: int):
        """The drawn line of viewport ``other`` (((x0, y0), (x1, y1)) view mm) or None."""
        item = self.lines.get(other)
        if item is None or not item.isVisible():
            return None
        x, y = item.getData()
        return (float(x[0]), float(y[0])), (float(x[1]), float(y[1]))

    # -- drag and drop from the series browser --------------------------------------------
    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if hasattr(ev.source(), "selectedItems"):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        items = ev.source().selectedItems() if hasattr(ev.source(), "selectedItems") else []
        if items:
            self.series_dropped.emit(self.index, str(items[0].data(UID_ROLE)))
            ev.acceptProposedAction()


class CompareGrid(QWidget):
    """Two to four viewports: side by side for two, 2x2 for three or four."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewports = [CompareViewport(n) for n in range(MAX_VIEWPORTS)]
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.count = 0
        self.set_count(2)

    def set_count(self, n: int) -> None:
        n = max(2, min(MAX_VIEWPORTS, int(n)))
        for vp in self.viewports:
            self.grid.removeWidget(vp)
            vp.hide()
        for i in range(n):
            r, c = (0, i) if n == 2 else divmod(i, 2)
            self.grid.addWidget(self.viewports[i], r, c)
            self.viewports[i].show()
        self.count = n

    def visible(self) -> list[CompareViewport]:
        return self.viewports[:self.count]

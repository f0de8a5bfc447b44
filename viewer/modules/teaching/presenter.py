"""Presenter mode: a main window turned into a lecture screen — full screen, every panel, menu,
status and slider bar hidden, large annotation fonts, and a high-contrast legend (case, question,
AI result with a colour bar, truth) drawn over the image. One key shows or hides the AI.

Keys: Space show/hide the AI; T show/hide the answer and notes; Ctrl+→ / Ctrl+← next /
previous case; Esc or F5 leave. While it runs, other actions give up these keys. A passive view: the teaching
presenter session decides what the AI shows.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QLinearGradient, QPainter
from PySide6.QtWidgets import QDockWidget, QLabel, QToolBar, QVBoxLayout, QWidget

from viewer.core.overlay import lookup_table
from viewer.modules.teaching.quiz_keys import KeySuspension
from viewer.ui.main_window import MainWindow

PRESENTER_KEYS = {"toggle_ai": ["Space"], "truth": ["T"], "next": ["Ctrl+Right"],
                  "previous": ["Ctrl+Left"], "leave": ["Esc", "F5"]}
LEGEND_STYLE = ("QWidget#legend { background: rgba(0, 0, 0, 215); border: 2px solid #ffd400; "
                "border-radius: 6px; } QLabel { color: #ffffff; background: transparent; }")
FONT_SCALE = 1.8


class ColourBar(QWidget):
    """A horizontal colour bar of a colormap with 'low' / 'high' labels (white on black)."""

    def __init__(self, colormap: str = "inferno", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colormap = colormap
        self.setMinimumSize(260, 44)

    def set_colormap(self, name: str) -> None:
        self.colormap = name
        self.update()

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        lut = lookup_table(self.colormap, 64)
        bar = QRect(0, 0, self.width(), self.height() // 2)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for n, (r, g, b) in enumerate(np.asarray(lut, dtype=int)):
            grad.setColorAt(n / (len(lut) - 1), QColor(int(r), int(g), int(b)))
        p.fillRect(bar, grad)
        p.setPen(QColor("#ffffff"))
        f = p.font()
        f.setPointSizeF(max(11.0, f.pointSizeF() * 1.2))
        p.setFont(f)
        text = QRect(0, bar.bottom() + 2, self.width(), self.height() - bar.height() - 2)
        p.drawText(text, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), "low")
        p.drawText(text, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop),
                   "high model evidence")
        p.end()


class PresenterLegend(QWidget):
    """The legend box: case line, question, AI line + colour bar, answer line."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setStyleSheet(LEGEND_STYLE)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        self.case_label = self._label(24, True, "#ffd400")
        self.question_label = self._label(22, False, "#ffffff")
        self.ai_label = self._label(22, True, "#7df9ff")
        self.colour_bar = ColourBar()
        self.truth_label = self._label(22, True, "#8dff8d")
        self.hint_label = self._label(13, False, "#d0d0d0")
        self.hint_label.setText("Space: show / hide AI    T: answer    Ctrl+→ / Ctrl+←: next / "
                                "previous    Esc: leave")
        for w in (self.case_label, self.question_label, self.ai_label, self.colour_bar,
                  self.truth_label, self.hint_label):
            lay.addWidget(w)
        self.ai_label.hide()
        self.colour_bar.hide()
        self.truth_label.hide()

    def _label(self, points: float, bold: bool, colour: str) -> QLabel:
        lab = QLabel()
        lab.setWordWrap(True)
        f = lab.font()
        f.setPointSizeF(points)
        f.setBold(bold)
        lab.setFont(f)
        lab.setStyleSheet(f"color: {colour};")
        return lab

    def place(self) -> None:
        """Top-right corner of the parent (clear of the series text and the orientation
        letters), about 35 % of its width; the presenter moves the image clear of it."""
        parent = self.parentWidget()
        if parent is None:
            return
        width = max(360, int(parent.width() * 0.35))
        self.setFixedWidth(min(width, max(200, parent.width() - 40)))
        lay = self.layout()
        lay.activate()
        self.setFixedHeight(lay.totalHeightForWidth(self.width()))
        self.move(max(0, parent.width() - self.width() - 48), 20)
        self.raise_()


class PresenterMode(QObject):
    """Turns ``window`` (a MainWindow) into presenter mode and back. Signals:
    ``ai_toggled(bool)``, ``truth_toggled(bool)``, ``next_requested()``,
    ``previous_requested()``, ``left()``."""

    ai_toggled = Signal(bool)
    truth_toggled = Signal(bool)
    next_requested = Signal()
    previous_requested = Signal()
    left = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.active = False
        self.ai_visible = False
        self.truth_visible = False
        self.legend: PresenterLegend | None = None
        self._saved: dict[str, Any] = {}
        self._keys = KeySuspension()
        self.actions: list[QAction] = []

    def _make_actions(self) -> None:
        """The presenter's keys exist only while it runs (no clash with other modes' keys)."""
        for name, keys in PRESENTER_KEYS.items():
            act = QAction(f"Presenter: {name.replace('_', ' ')}", self.window)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(getattr(self, f"_on_{name}_triggered"))
            self.window.addAction(act)
            self.actions.append(act)
        self._keys.suspend(self.window, [k for ks in PRESENTER_KEYS.values() for k in ks],
                           self.actions)

    def handle_key(self, key: int, modifiers) -> bool:
        """Trigger the presenter action bound to ``key`` (for keys the shortcut system missed)."""
        mods = modifiers & ~Qt.KeyboardModifier.KeypadModifier
        for a in self.actions:
            for seq in a.shortcuts():
                if seq.count() == 1 and seq[0].key() == key and seq[0].keyboardModifiers() == mods:
                    a.trigger()
                    return True
        return False

    def place_legend(self) -> None:
        """Put the legend top right and fit the image into the rest of the view, so the legend
        never covers the patient (it covered the brain once the answer showed)."""
        if self.legend is None:
            return
        self.legend.place()
        view = self.window.slice_view
        canvas = view.canvas
        if self.window.state.volume is None or canvas.width() <= 0:
            return
        free = max(0.2, 1.0 - (self.legend.width() + 60) / canvas.width())
        r = view.image_rect()
        view.view_box.setRange(rect=QRectF(r.left(), r.top(), r.width() / free, r.height()),
                               padding=0.02)

    # -- enter / leave -------------------------------------------------------------------------
    def enter(self, full_screen: bool = True) -> None:
        """Hide the chrome, enlarge fonts, show the legend, go full screen."""
        if self.active:
            return
        w = self.window
        view = w.slice_view
        canvas = view.canvas
        fonts = [f for f in (getattr(canvas, "_text_font", None),
                             getattr(canvas, "_letter_font", None)) if f is not None]
        self._saved = {
            "docks": [d for d in w.findChildren(QDockWidget) if d.isVisible()],
            "toolbars": [t for t in w.findChildren(QToolBar) if t.isVisible()],
            "menu": w.menuBar().isVisible(), "status": w.statusBar().isVisible(),
            "controls": view.controls.isVisible(), "state": w.windowState(),
            "fonts": [(f, f.pointSizeF()) for f in fonts]}
        for d in self._saved["docks"]:
            d.hide()
        for t in self._saved["toolbars"]:
            t.hide()
        w.menuBar().hide()
        w.statusBar().hide()
        view.controls.hide()
        for f, size in self._saved["fonts"]:
            f.setPointSizeF(size * FONT_SCALE)
        canvas.viewport().update()
        self.legend = PresenterLegend(canvas)
        self.legend.show()
        self.place_legend()
        canvas.installEventFilter(self)
        self._make_actions()
        self.active = True
        if full_screen:
            w.showFullScreen()

    def leave(self) -> None:
        """Restore the window as it was."""
        if not self.active:
            return
        w, s = self.window, self._saved
        self._keys.restore()
        for a in self.actions:
            w.removeAction(a)
            a.deleteLater()
        self.actions = []
        w.slice_view.canvas.removeEventFilter(self)
        if self.legend is not None:
            self.legend.deleteLater()
            self.legend = None
        for f, size in s.get("fonts", []):
            f.setPointSizeF(size)
        w.menuBar().setVisible(s.get("menu", True))
        w.statusBar().setVisible(s.get("status", True))
        w.slice_view.controls.setVisible(s.get("controls", True))
        for d in s.get("docks", []):
            d.show()
        for t in s.get("toolbars", []):
            t.show()
        w.setWindowState(s.get("state", Qt.WindowState.WindowNoState))
        self.active = False
        self.ai_visible = self.truth_visible = False
        self.left.emit()

    def eventFilter(self, obj: QObject, ev) -> bool:  # noqa: N802
        if self.legend is not None and ev.type() == ev.Type.Resize:
            self.place_legend()
        return False

    # -- content -------------------------------------------------------------------------------
    def set_case(self, number: int, total: int, question: str, title: str = "") -> None:
        """Case line and question; the AI and the answer are hidden again."""
        if self.legend is None:
            return
        self.legend.case_label.setText(f"Case {number} / {total}")
        self.legend.case_label.setToolTip(title)
        self.legend.question_label.setText(question)
        self.set_ai_visible(False)
        self.set_truth("", visible=False)

    def set_ai_text(self, text: str, colormap: str = "inferno") -> None:
        """The AI line shown while the AI is visible (e.g. 'AI: tumour 92 % · Grad-CAM')."""
        if self.legend is not None:
            self.legend.ai_label.setText(text)
            self.legend.colour_bar.set_colormap(colormap)
            self.place_legend()

    def set_ai_visible(self, on: bool) -> None:
        self.ai_visible = bool(on)
        if self.legend is not None:
            self.legend.ai_label.setVisible(self.ai_visible)
            self.legend.colour_bar.setVisible(self.ai_visible)
            self.place_legend()

    def set_truth(self, text: str, visible: bool | None = None) -> None:
        if self.legend is None:
            return
        if text:
            self.legend.truth_label.setText(text)
        if visible is not None:
            self.truth_visible = bool(visible)
        self.legend.truth_label.setVisible(self.truth_visible and bool(self.legend.truth_label.text()))
        self.place_legend()

    def grab_png(self, path: str) -> bool:
        """Save the window as shown (for docs and checks)."""
        img: QImage = self.window.grab().toImage()
        return img.save(path, "PNG")

    # -- keys ----------------------------------------------------------------------------------
    def _on_toggle_ai_triggered(self) -> None:
        self.set_ai_visible(not self.ai_visible)
        self.ai_toggled.emit(self.ai_visible)

    def _on_truth_triggered(self) -> None:
        self.set_truth("", not self.truth_visible)
        self.truth_toggled.emit(self.truth_visible)

    def _on_next_triggered(self) -> None:
        self.next_requested.emit()

    def _on_previous_triggered(self) -> None:
        self.previous_requested.emit()

    def _on_leave_triggered(self) -> None:
        self.leave()

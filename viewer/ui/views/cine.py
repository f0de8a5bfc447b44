"""Cine: play through the slices of the active view at a chosen frame rate, looping or bouncing.

The controller is independent of any view: it drives three callables (frame count, current
frame, go to frame), so it plays the native stack or a reformatted plane alike.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QToolButton, QWidget

MODES = ("loop", "bounce")
MIN_FPS, MAX_FPS, DEFAULT_FPS = 1.0, 60.0, 10.0


class CineController(QObject):
    """Steps frames on a QTimer. Signals: ``playing_changed(bool)``, ``fps_changed(float)``,
    ``mode_changed(str)``."""

    playing_changed = Signal(bool)
    fps_changed = Signal(float)
    mode_changed = Signal(str)

    def __init__(self, count: Callable[[], int], current: Callable[[], int],
                 go: Callable[[int], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._count, self._current, self._go = count, current, go
        self.fps = DEFAULT_FPS
        self.mode = "loop"
        self.direction = 1
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.advance)
        self.timer.setInterval(int(round(1000 / self.fps)))

    def set_target(self, count: Callable[[], int], current: Callable[[], int],
                   go: Callable[[int], None]) -> None:
        """Play another view from now on."""
        self._count, self._current, self._go = count, current, go

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        if not self.playing and self._count() > 1:
            self.timer.start()
            self.playing_changed.emit(True)

    def pause(self) -> None:
        if self.playing:
            self.timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        """Play or pause (Space)."""
        self.pause() if self.playing else self.play()

    def set_fps(self, fps: float) -> None:
        """Frames per second, clamped to 1-60."""
        fps = float(min(max(fps, MIN_FPS), MAX_FPS))
        if fps != self.fps:
            self.fps = fps
            self.timer.setInterval(int(round(1000 / fps)))
            self.fps_changed.emit(fps)

    def faster(self) -> None:
        self.set_fps(self.fps * 1.5)

    def slower(self) -> None:
        self.set_fps(self.fps / 1.5)

    def set_mode(self, mode: str) -> None:
        """"loop" (back to the first frame after the last) or "bounce" (reverse at the ends)."""
        if mode not in MODES:
            raise ValueError(f"unknown cine mode {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self.mode_changed.emit(mode)

    def toggle_mode(self) -> None:
        self.set_mode("bounce" if self.mode == "loop" else "loop")

    def next_frame(self) -> int:
        """The frame the next step goes to (updates the bounce direction)."""
        n, k = self._count(), self._current()
        if n <= 1:
            return 0
        nxt = k + self.direction
        if 0 <= nxt < n:
            return nxt
        if self.mode == "loop":
            return 0 if self.direction > 0 else n - 1
        self.direction = -self.direction
        return k + self.direction

    def advance(self) -> None:
        """One step (timer tick)."""
        if self._count() <= 1:
            self.pause()
            return
        self._go(self.next_frame())


class CineBar(QWidget):
    """Play button, frame-rate box and loop/bounce choice bound to a CineController."""

    def __init__(self, cine: CineController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cine = cine
        self.play = QToolButton()
        self.play.setText("▶ Play")
        self.play.setToolTip("Play / pause cine (Space)")
        self.play.clicked.connect(cine.toggle)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(MIN_FPS, MAX_FPS)
        self.fps.setDecimals(1)
        self.fps.setSuffix(" fps")
        self.fps.setValue(cine.fps)
        self.fps.setToolTip("Frame rate ([ slower, ] faster)")
        self.fps.valueChanged.connect(cine.set_fps)
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.mode.setToolTip("Loop or bounce (B)")
        self.mode.currentTextChanged.connect(cine.set_mode)
        box = QHBoxLayout(self)
        box.setContentsMargins(4, 0, 4, 0)
        box.addWidget(QLabel("Cine"))
        for w in (self.play, self.fps, self.mode):
            box.addWidget(w)
        cine.playing_changed.connect(
            lambda on: self.play.setText("❚❚ Pause" if on else "▶ Play"))
        cine.fps_changed.connect(self._on_cine_fps_changed)
        cine.mode_changed.connect(self.mode.setCurrentText)

    def _on_cine_fps_changed(self, fps: float) -> None:
        self.fps.blockSignals(True)
        self.fps.setValue(fps)
        self.fps.blockSignals(False)

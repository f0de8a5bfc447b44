"""TimeBar: a slider over the time points of a 4-D series, under the slice slider.

Bound to :class:`viewer.state.viewer_state.ViewerState`: hidden for 3-D series, shown with
``time t / T`` when the volume is one of several time points. Moving it asks the state for that
time point (``request_time_point``); the label says "loading…" until the time point is on
screen (it is read in the background by whoever answers ``time_point_requested``).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from viewer.state.viewer_state import ViewerState


class TimeBar(QWidget):
    """Time-point slider and ``time t / T`` label (see the module docstring)."""

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Time point")
        self.slider.setToolTip("Time point (Ctrl+Up / Ctrl+Down)")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Up/Down keep scrolling slices
        self.label = QLabel("time – / –")
        self.label.setMinimumWidth(110)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        box = QHBoxLayout(self)
        box.setContentsMargins(6, 0, 6, 2)
        box.addWidget(self.slider, 1)
        box.addWidget(self.label)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        state.time_points_found.connect(self._on_state_time_points_found)
        state.time_point_requested.connect(self._on_state_time_point_requested)
        state.time_point_changed.connect(self._on_state_time_point_changed)
        state.volume_closed.connect(lambda: self._on_state_time_points_found(1))
        self.hide()

    def _set_value(self, t: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(t)
        self.slider.blockSignals(False)

    def _show_text(self) -> None:
        st = self.state
        pending = st.requested_time_point != st.time_point
        self.label.setText(f"time {st.time_point + 1} / {st.time_points}"
                           + ("  loading…" if pending else ""))

    def _on_state_time_points_found(self, count: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.setVisible(count > 1)
        self._show_text()

    def _on_state_time_point_requested(self, t: int) -> None:
        self._set_value(t)
        self._show_text()

    def _on_state_time_point_changed(self, t: int) -> None:
        self._set_value(self.state.requested_time_point)
        self._show_text()

    def _on_slider_value_changed(self, value: int) -> None:
        self.state.request_time_point(value)

"""ViewerState: the mutable state of one viewer window, with a past-tense signal for every change.

It holds the discovery result, the chosen series, the (possibly still loading) volume, the slice
index, the display window, the anonymised-display flag, the load progress, the mouse probe and the
user-facing messages. It owns no widgets: views subscribe to its signals (napari-style), so the
same state drives the main window, the off-screen screenshot renderer and the tests.

Arrays are row-major ``(z, y, x)``; window centre and width are in the volume's units (HU for CT).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from viewer.io.records import DiscoveryResult, SeriesInfo, Volume, WindowPreset

MIN_WINDOW_WIDTH = 1e-3
HIDDEN = "(hidden)"


@dataclass(frozen=True)
class Message:
    """A user-facing problem report: ``level`` is "info" | "warning" | "error".

    ``title`` is one line a radiologist understands ("3 files skipped"); ``details`` lists the
    individual items (one file or problem per entry). ``source`` groups messages so that opening a
    new study can replace the old discovery messages ("discovery", "load", "job").
    """

    level: str
    title: str
    details: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class ProbeInfo:
    """What lies under the mouse: voxel index (k slice, j row, i column), patient LPS mm (x, y, z),
    the value (HU for CT; RGB triple for colour images) and whether the slice is loaded yet."""

    k: int
    j: int
    i: int
    patient_mm: tuple[float, float, float]
    value: float | tuple[float, ...] | None
    unit: str
    loaded: bool

    def text(self) -> str:
        """Status-bar text, e.g. ``"k 3  j 40  i 12   (12.5, -40.0, 7.0) mm   35 HU"``."""
        x, y, z = self.patient_mm
        where = f"k {self.k}  j {self.j}  i {self.i}   ({x:.1f}, {y:.1f}, {z:.1f}) mm"
        if not self.loaded or self.value is None:
            return f"{where}   loading…"
        if isinstance(self.value, tuple):
            return f"{where}   RGB {', '.join(f'{v:.0f}' for v in self.value)}"
        value = f"{self.value:.0f}" if abs(self.value) >= 100 else f"{self.value:.4g}"
        return f"{where}   {value} {self.unit}".rstrip()


def display_name(value: str, anonymise: bool) -> str:
    """``value`` or the hidden marker when the anonymised display is on (empty stays empty)."""
    if anonymise and value:
        return HIDDEN
    return value


def value_unit(modality: str) -> str:
    """Unit of voxel values for a modality: "HU" for CT, "" otherwise."""
    return "HU" if modality.upper() == "CT" else ""


class ViewerState(QObject):
    """Mutable state of one viewer; every change emits a signal named in the past tense.

    Signals:
      ``series_found(DiscoveryResult)`` discovery finished;
      ``series_selected(SeriesInfo)`` a series was chosen for loading;
      ``volume_opened(Volume)`` a new volume is available (first slice loaded, more may follow);
      ``volume_progressed(int done, int total)`` more slices were loaded;
      ``volume_loaded(Volume)`` every slice is loaded;
      ``volume_closed()`` the volume was cleared;
      ``slice_changed(int)``; ``window_changed(float center, float width)``;
      ``anonymise_changed(bool)``; ``warnings_changed(tuple[Message, ...])``;
      ``probe_moved(object)`` a ProbeInfo or None when the mouse left the image;
      ``time_points_found(int count)`` the volume is one of ``count`` time points (4-D series;
      1 for a 3-D series, after each new volume);
      ``time_point_requested(int t)`` the reader asked for time point ``t`` (a loader fetches
      it in the background and calls :meth:`show_time_point`);
      ``time_point_changed(int t)`` the volume on screen is now time point ``t`` (same grid,
      same slice and window; views redraw).
    """

    series_found = Signal(object)
    series_selected = Signal(object)
    volume_opened = Signal(object)
    volume_progressed = Signal(int, int)
    volume_loaded = Signal(object)
    volume_closed = Signal()
    slice_changed = Signal(int)
    window_changed = Signal(float, float)
    anonymise_changed = Signal(bool)
    warnings_changed = Signal(object)
    probe_moved = Signal(object)
    time_points_found = Signal(int)
    time_point_requested = Signal(int)
    time_point_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.discovery: DiscoveryResult | None = None
        self.series: SeriesInfo | None = None
        self.volume: Volume | None = None
        self.loaded: np.ndarray = np.zeros(0, dtype=bool)
        self.load_done = 0
        self.load_total = 0
        self.slice_index = 0
        self.window: tuple[float, float] = (0.0, 1.0)
        self.window_name = ""
        self.anonymise = False
        self.messages: tuple[Message, ...] = ()
        self.probe: ProbeInfo | None = None
        self.time_points = 1        # time points of the series (4-D series), 1 otherwise
        self.time_point = 0         # 0-based time point of ``volume``
        self.requested_time_point = 0

    # -- discovery and series --------------------------------------------------------------
    def set_discovery(self, result: DiscoveryResult) -> None:
        """Store a discovery result and announce it."""
        self.discovery = result
        self.series_found.emit(result)

    def select_series(self, series: SeriesInfo) -> None:
        """Record the series chosen for loading."""
        self.series = series
        self.series_selected.emit(series)

    # -- volume ----------------------------------------------------------------------------
    def open_volume(self, volume: Volume, loaded: np.ndarray | None = None,
                    done: int | None = None) -> None:
        """Show a new volume. ``loaded`` (bool, shape (z,)) marks slices already read; None means
        all. The slice moves to the middle of the stack and the window to the header window."""
        n = volume.n_slices
        self.volume = volume
        self.loaded = np.ones(n, bool) if loaded is None else loaded
        self.load_total = n
        self.load_done = n if loaded is None else int(done if done is not None else loaded.sum())
        self.slice_index = n // 2
        self.window = (float(volume.window.center), max(float(volume.window.width),
                                                        MIN_WINDOW_WIDTH))
        self.window_name = volume.window.name
        self.probe = None
        self.time_points, self.time_point, self.requested_time_point = 1, 0, 0
        self.time_points_found.emit(1)  # a loader may say more once the volume is opened
        self.volume_opened.emit(volume)
        self.slice_changed.emit(self.slice_index)
        self.window_changed.emit(*self.window)
        if loaded is None:
            self.volume_loaded.emit(volume)

    def update_progress(self, done: int, total: int, loaded: np.ndarray | None = None) -> None:
        """Record that ``done`` of ``total`` slices of the current volume are read."""
        if loaded is not None:
            self.loaded = loaded
        self.load_done, self.load_total = int(done), int(total)
        self.volume_progressed.emit(self.load_done, self.load_total)

    def finish_volume(self, volume: Volume) -> None:
        """Mark the current volume fully loaded (``volume`` may carry final warnings)."""
        self.volume = volume
        self.loaded = np.ones(volume.n_slices, bool)
        self.load_done = self.load_total = volume.n_slices
        self.volume_progressed.emit(self.load_done, self.load_total)
        self.volume_loaded.emit(volume)

    def close_volume(self) -> None:
        """Forget the volume (e.g. when its series failed to load)."""
        self.volume = None
        self.loaded = np.zeros(0, bool)
        self.load_done = self.load_total = 0
        self.probe = None
        self.volume_closed.emit()

    @property
    def is_loading(self) -> bool:
        """True while the current volume still has unread slices."""
        return self.volume is not None and self.load_done < self.load_total

    def is_slice_loaded(self, k: int) -> bool:
        """Whether slice ``k`` of the current volume has been read."""
        return 0 <= k < len(self.loaded) and bool(self.loaded[k])

    # -- slice and window ------------------------------------------------------------------
    def set_slice(self, k: int) -> None:
        """Move to slice ``k`` (clamped to the stack); emits only on a change."""
        if self.volume is None:
            return
        k = int(min(max(int(k), 0), self.volume.n_slices - 1))
        if k != self.slice_index:
            self.slice_index = k
            self.slice_changed.emit(k)
            if self.probe is not None:  # the pointer rests on the same pixel of the new slice
                self.set_probe(self.probe_at(self.probe.j, self.probe.i))

    def step_slice(self, delta: int) -> None:
        """Move ``delta`` slices (negative = towards slice 0)."""
        self.set_slice(self.slice_index + int(delta))

    def set_window(self, center: float, width: float, name: str = "") -> None:
        """Set the display window (centre, width in volume units); width is kept positive."""
        width = max(float(width), MIN_WINDOW_WIDTH)
        new = (float(center), width)
        self.window_name = name
        if new != self.window:
            self.window = new
            self.window_changed.emit(*new)

    def apply_preset(self, preset: WindowPreset) -> None:
        """Set the window from a named preset."""
        self.set_window(preset.center, preset.width, preset.name)

    @property
    def levels(self) -> tuple[float, float]:
        """(low, high) display levels of the current window."""
        c, w = self.window
        return (c - w / 2.0, c + w / 2.0)

    # -- time points (4-D series) ------------------------------------------------------------
    def set_time_points(self, count: int) -> None:
        """Say that the open volume is time point 0 of ``count`` (called once it is opened)."""
        self.time_points = max(1, int(count))
        self.time_point = self.requested_time_point = 0
        self.time_points_found.emit(self.time_points)

    def request_time_point(self, t: int) -> None:
        """Ask for time point ``t`` (clamped); ``time_point_requested`` tells the loader."""
        if self.volume is None or self.time_points < 2:
            return
        t = int(min(max(int(t), 0), self.time_points - 1))
        if t != self.requested_time_point or t != self.time_point:
            self.requested_time_point = t
            self.time_point_requested.emit(t)

    def step_time_point(self, delta: int) -> None:
        """Ask for the time point ``delta`` steps from the last one asked for."""
        self.request_time_point(self.requested_time_point + int(delta))

    def show_time_point(self, t: int, volume: Volume) -> None:
        """Show ``volume`` as time point ``t``: it must have the open volume's grid; slice,
        window and probe position stay."""
        if self.volume is None or volume.voxels.shape != self.volume.voxels.shape:
            raise ValueError("a time point must have the shape of the open volume")
        self.volume = volume
        self.time_point = int(t)
        self.time_point_changed.emit(self.time_point)
        if self.probe is not None:
            self.set_probe(self.probe_at(self.probe.j, self.probe.i))

    # -- anonymised display, messages, probe ------------------------------------------------
    def set_anonymise(self, on: bool) -> None:
        """Hide (True) or show patient name, ID and birth date everywhere."""
        on = bool(on)
        if on != self.anonymise:
            self.anonymise = on
            self.anonymise_changed.emit(on)

    def add_messages(self, *messages: Message) -> None:
        """Append user-facing messages."""
        if messages:
            self.messages = self.messages + tuple(messages)
            self.warnings_changed.emit(self.messages)

    def clear_messages(self, source: str | None = None) -> None:
        """Drop all messages, or only those from ``source``."""
        kept = () if source is None else tuple(m for m in self.messages if m.source != source)
        if kept != self.messages:
            self.messages = kept
            self.warnings_changed.emit(self.messages)

    def set_probe(self, probe: ProbeInfo | None) -> None:
        """Record what is under the mouse (None when outside the image)."""
        if probe != self.probe:
            self.probe = probe
            self.probe_moved.emit(probe)

    def probe_at(self, j: int, i: int) -> ProbeInfo | None:
        """ProbeInfo for row ``j``, column ``i`` of the current slice, None when outside."""
        vol = self.volume
        if vol is None:
            return None
        _, ny, nx = vol.shape
        if not (0 <= j < ny and 0 <= i < nx):
            return None
        k = self.slice_index
        xyz = tuple(float(v) for v in vol.index_to_patient(k, j, i))
        loaded = self.is_slice_loaded(k)
        value: float | tuple[float, ...] | None = None
        if loaded:
            raw = vol.voxels[k, j, i]
            value = tuple(float(v) for v in raw) if vol.is_rgb else float(raw)
        return ProbeInfo(k, j, i, xyz, value, value_unit(vol.modality), loaded)  # type: ignore[arg-type]

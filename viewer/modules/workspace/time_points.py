"""Time points of a 4-D series on screen: answers the state's ``time_point_requested`` by reading
that time point in the JobRunner (never on the GUI thread) and keeping the ones read.

When a volume opens, :class:`TimePointLoader` asks :func:`viewer.io.time_points.time_point_count`
how many time points its series has and tells the state (``set_time_points``); the opened
volume is time point 0. A requested time point comes from the cache at once, or from a
background job under the key "time-point" (the latest request wins; a result no longer wanted
is kept for later). Read volumes are kept up to :data:`CACHE_BYTES` (least recently used go
first; time point 0 always stays).
"""
from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject

from viewer.io.records import SeriesInfo, Volume
from viewer.state.jobs import JobError, JobRunner
from viewer.state.viewer_state import Message, ViewerState

CACHE_BYTES = 1 << 30  # time points kept in memory (float32 voxels), 1 GiB


class TimePointLoader(QObject):
    """Loads requested time points of the open 4-D series (see the module docstring)."""

    def __init__(self, state: ViewerState, runner: JobRunner, parent: QObject | None = None
                 ) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.series: SeriesInfo | None = None
        self.cache: "OrderedDict[int, Volume]" = OrderedDict()
        self.pending: int | None = None
        state.volume_opened.connect(self._on_state_volume_opened)
        state.volume_loaded.connect(self._on_state_volume_loaded)
        state.volume_closed.connect(self._forget)
        state.time_point_requested.connect(self._on_state_time_point_requested)

    def _forget(self) -> None:
        self.runner.cancel("time-point")
        self.series, self.pending = None, None
        self.cache.clear()

    def _on_state_volume_opened(self, volume: Volume) -> None:
        from viewer.io.time_points import time_point_count

        self._forget()
        series = self.state.series
        if series is None or series.uid != volume.series_uid:
            return  # a volume shown without its discovery record (e.g. the sample study)
        count = time_point_count(series)
        if count > 1:
            self.series = series
            self.cache[0] = volume
            self.state.set_time_points(count)

    def _on_state_volume_loaded(self, volume: Volume) -> None:
        if self.series is not None and self.state.time_point == 0:
            self.cache[0] = volume  # the complete load (final window and warnings)

    def _on_state_time_point_requested(self, t: int) -> None:
        if self.series is None:
            return
        cached = self.cache.get(t)
        if cached is not None:
            self.cache.move_to_end(t)
            self.state.show_time_point(t, cached)
            return
        if self.pending == t:
            return
        self.pending = t
        series, reference = self.series, self.cache[0]

        def job(ctx):
            from viewer.io.time_points import load_time_point

            return load_time_point(series, t, reference, cancelled=ctx.cancelled)

        self.runner.submit("time-point", job, label=f"Reading time point {t + 1}",
                           on_result=lambda v: self._on_job_loaded(series, t, v),
                           on_error=self._on_job_failed)

    def _on_job_loaded(self, series: SeriesInfo, t: int, volume: Volume) -> None:
        if series is not self.series:
            return  # another series opened meanwhile
        self.pending = None
        self.cache[t] = volume
        self._trim()
        if self.state.requested_time_point == t:
            self.state.show_time_point(t, volume)
        elif self.state.requested_time_point != self.state.time_point:
            self._on_state_time_point_requested(self.state.requested_time_point)

    def _on_job_failed(self, error: JobError) -> None:
        self.pending = None
        self.state.request_time_point(self.state.time_point)  # the bar stops saying "loading"
        self.state.add_messages(Message("error", "A time point could not be read",
                                        (error.message,), "load"))

    def _trim(self) -> None:
        total = sum(v.voxels.nbytes for v in self.cache.values())
        for t in [k for k in self.cache if k != 0]:
            if total <= CACHE_BYTES:
                break
            total -= self.cache.pop(t).voxels.nbytes

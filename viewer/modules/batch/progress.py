"""Batch progress: a tqdm bar on a terminal, or one JSON object per line for other tools.

JSON lines (``--json-progress``, on stdout): ``{"event": "progress", "series_done": n,
"series_found": n, "series_skipped": n, "slices": n, "slices_per_s": x, "eta_s": x|null,
"last": {"series_key", "status"}}`` after each series, and ``{"event": "summary", ...}`` at the end.
The series total grows while discovery streams, so the ETA uses the series found so far.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


class Progress:
    """Counts series and slices; ``mode`` "bar" (tqdm on stderr), "json" (lines on ``stream``)
    or "quiet"."""

    def __init__(self, mode: str = "quiet", stream: TextIO | None = None) -> None:
        self.mode = mode
        self.stream = stream or sys.stdout
        self.t0 = time.perf_counter()
        self.done = self.skipped = self.slices = self.found = 0
        self._bar: Any = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=0, unit="series", dynamic_ncols=True, file=sys.stderr)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    @property
    def slices_per_s(self) -> float:
        return self.slices / self.elapsed if self.elapsed > 0 else 0.0

    def found_series(self, total: int) -> None:
        self.found = total
        if self._bar is not None and total != self._bar.total:
            self._bar.total = total
            self._bar.refresh()

    def skip(self) -> None:
        """A series already done by an earlier run (same model sha256)."""
        self.skipped += 1
        if self._bar is not None:
            self._bar.update(1)

    def series_done(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.slices += max(0, len(record.get("rows", ())) - 1)
        if self._bar is not None:
            self._bar.set_postfix(slices_s=f"{self.slices_per_s:.1f}", refresh=False)
            self._bar.update(1)
        elif self.mode == "json":
            remaining = max(0, self.found - self.done - self.skipped)
            rate = self.done / self.elapsed if self.elapsed > 0 else 0.0
            self.emit({"event": "progress", "series_done": self.done, "series_found": self.found,
                       "series_skipped": self.skipped, "slices": self.slices,
                       "slices_per_s": round(self.slices_per_s, 2),
                       "eta_s": round(remaining / rate, 1) if rate > 0 else None,
                       "last": {"series_key": record.get("uid"), "status": record.get("status")}})

    def emit(self, doc: dict[str, Any]) -> None:
        self.stream.write(json.dumps(doc, default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

"""A slice's pixel values sorted once, and what the input checks read from them (numpy only).

The domain check (1st/99th percentiles, extremes, saturation, grey-level count) and a percentile
normalisation (0.5th/99.5th) all read order statistics of the same pixels. ``np.percentile``
partitions the array again on every call (0.5 ms for a 256 x 256 slice); numpy's sort is about
six times faster than that partition, and once sorted every statistic is an index. Percentiles
are numpy's default ('linear', Hyndman & Fan 7) reproduced bit for bit, so models trained with
``np.percentile`` see exactly the inputs they were trained on (tests/inference/test_value_stats.py
compares them on random, tied and tiny arrays).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class SortedValues:
    """The finite values of an array, sorted (``values``: 1-D, ascending, the input's dtype)."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    @classmethod
    def of(cls, a: np.ndarray) -> SortedValues:
        """Sort ``a``'s values; non-finite ones are left out (none are, for a finite slice).
        Integer values are sorted as float64 (exact), so interpolating between neighbours
        cannot overflow (int16 -32768 and 32767 are 65535 apart)."""
        arr = np.asarray(a)
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float64)
        if np.issubdtype(arr.dtype, np.floating) and not bool(np.isfinite(arr).all()):
            arr = arr[np.isfinite(arr)]
        return cls(np.sort(arr, axis=None))

    @property
    def size(self) -> int:
        return int(self.values.size)

    @property
    def min(self) -> float:
        return float(self.values[0])

    @property
    def max(self) -> float:
        return float(self.values[-1])

    def percentiles(self, qs: Iterable[float]) -> dict[float, np.float64]:
        """{q: value} for percentiles ``qs`` (0-100), equal to ``np.percentile(a, qs)``.

        numpy's linear method: virtual index (n - 1) q / 100 between its two neighbours, weight
        its fractional part, and the same ``_lerp`` arithmetic (difference in the array's dtype,
        interpolation in float64, from the upper neighbour when the weight is >= 0.5)."""
        qs = [float(q) for q in qs]
        s, n = self.values, self.values.size
        if n == 0:
            raise ValueError("no finite values")
        quantiles = np.true_divide(np.asarray(qs, dtype=np.float64), 100)
        virtual = (n - 1) * quantiles
        prev = np.floor(virtual)
        nxt = prev + 1
        above = virtual >= n - 1
        prev[above] = -1
        nxt[above] = -1
        below = virtual < 0
        prev[below] = 0
        nxt[below] = 0
        pi, ni = prev.astype(np.intp), nxt.astype(np.intp)
        a, b = s[pi], s[ni]
        t = np.asarray(virtual - pi, dtype=np.float64)
        diff = b - a
        out = np.add(a, diff * t)
        np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5, casting="unsafe",
                    dtype=type(out.dtype))
        return dict(zip(qs, out.astype(np.float64, copy=False)))

    def share_at_max(self) -> float:
        """Fraction of the values equal to the maximum (a saturated or burnt-in image)."""
        s = self.values
        return float((s.size - np.searchsorted(s, s[-1], side="left")) / s.size)

    def distinct(self) -> int:
        """Number of distinct values."""
        s = self.values
        return int(np.count_nonzero(s[1:] != s[:-1])) + 1 if s.size else 0


__all__ = ["SortedValues"]

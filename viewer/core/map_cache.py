"""Heat maps kept for reuse (no Qt, no torch): a least-recently-used cache bounded by memory, and
the per-slice maps of one series assembled into a volume for the three-plane views.

Cache keys are ``(series_uid, slice_index, model, method, target)``; values are final map
records (the AI module's ``MapResult``: anything with a ``tag``, ``final`` and ``nbytes``). The
bound counts the map arrays' bytes.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Protocol

import numpy as np

from viewer.core.overlay import normalise_map


class _Tag(Protocol):
    series_uid: str
    slice_index: int
    model: str
    method: str
    target: str


class MapResult(Protocol):
    """What the cache needs of a map record."""

    @property
    def tag(self) -> _Tag: ...

    @property
    def final(self) -> bool: ...

    @property
    def nbytes(self) -> int: ...

DEFAULT_BUDGET = 256 * 1024 * 1024  # bytes

CacheKey = tuple[str, int, str, str, str]
VolumeKey = tuple[str, str, str, str]   # (series_uid, model, method, target)


def cache_key(result: MapResult) -> CacheKey:
    t = result.tag
    return (t.series_uid, t.slice_index, t.model, t.method, t.target)


class MapCache:
    """LRU cache of final maps within ``budget`` bytes (oldest dropped first)."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = int(budget)
        self._items: OrderedDict[Hashable, MapResult] = OrderedDict()
        self._bytes = 0

    def put(self, result: MapResult) -> None:
        """Store a final map (coarse ones are ignored); evicts the least recently used."""
        if not result.final or result.nbytes > self.budget:
            return
        key = cache_key(result)
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._items[key] = result
        self._bytes += result.nbytes
        while self._bytes > self.budget and self._items:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= dropped.nbytes

    def get(self, key: CacheKey) -> MapResult | None:
        """The map for ``key`` (marking it recently used), or None."""
        result = self._items.get(key)
        if result is not None:
            self._items.move_to_end(key)
        return result

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def slices(self, key: VolumeKey) -> list[tuple[int, MapResult]]:
        """(slice index, map) of every cached slice of ``key`` = (series, model, method, target),
        without changing the recency order."""
        series, model, method, target = key
        return [(k[1], r) for k, r in self._items.items()
                if (k[0], k[2], k[3], k[4]) == (series, model, method, target)]

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items


class MapVolume:
    """The known per-slice maps of one ``(series, model, method, target)`` as a ``(z, y, x)``
    volume for the reformatted plane views and the NIfTI export.

    Each slice's map is stored normalised to its positive maximum (0..1, negative evidence 0),
    which is how the slice view colours it; slices without a map are NaN. The array is float32,
    float16 when float32 would exceed ``budget`` bytes, and not made at all (``too_large``) when
    even that does not fit. It is allocated when the first map arrives.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = int(budget)
        self.key: VolumeKey | None = None
        self.shape: tuple[int, int, int] | None = None
        self.data: np.ndarray | None = None
        self.known = np.zeros(0, bool)
        self.too_large = False

    def reset(self, key: VolumeKey | None, shape: tuple[int, ...] | None = None) -> None:
        """Forget every map and start assembling ``key`` for a series of ``shape`` (z, y, x)."""
        self.key = key
        self.shape = (None if shape is None
                      else (int(shape[0]), int(shape[1]), int(shape[2])))
        self.data = None
        self.known = np.zeros(0 if self.shape is None else self.shape[0], bool)
        self.too_large = False

    def put(self, k: int, heat: np.ndarray, reference: float | None = None) -> bool:
        """Store the raw map (y, x) of slice ``k`` normalised by the overlay rule (``reference``:
        see :mod:`viewer.core.overlay`); False when it cannot be stored (no key, wrong shape or
        slice, volume over budget)."""
        shape = self.shape
        if shape is None or not 0 <= k < shape[0] or heat.shape != shape[1:]:
            return False
        if self.data is None and not self._allocate():
            return False
        self.data[k] = normalise_map(heat, reference)  # type: ignore[index]
        self.known[k] = True
        return True

    def _allocate(self) -> bool:
        voxels = int(np.prod(self.shape))
        for dtype in (np.float32, np.float16):
            if voxels * np.dtype(dtype).itemsize <= self.budget:
                self.data = np.full(self.shape, np.nan, dtype)
                return True
        self.too_large = True
        return False

    @property
    def volume(self) -> np.ndarray | None:
        """The assembled volume, None while no slice has a map."""
        return self.data if self.data is not None and self.known.any() else None

    @property
    def nbytes(self) -> int:
        return 0 if self.data is None else int(self.data.nbytes)

"""inference.value_stats: one sort serves every order statistic the input checks read, and its
percentiles are numpy's, bit for bit (models trained with ``np.percentile`` see the same inputs)."""
from __future__ import annotations

import numpy as np
import pytest

from inference.value_stats import SortedValues

QS = (0.0, 0.5, 1.0, 2.0, 25.0, 50.0, 98.0, 99.0, 99.5, 100.0)


def _arrays():
    rng = np.random.default_rng(7)
    for i in range(600):
        n = int(rng.integers(1, 5000))
        kind = i % 5
        if kind == 0:
            yield rng.normal(0, 1000, n).astype(np.float32)
        elif kind == 1:
            yield rng.integers(-5, 5, n).astype(np.float32)          # heavy ties
        elif kind == 2:
            yield (rng.random(n) * 4096).round().astype(np.float32)   # 12-bit stored values
        elif kind == 3:
            yield rng.normal(0, 1, n)                                 # float64
        else:
            yield rng.integers(0, 4096, n).astype(np.int16)


def test_percentiles_equal_numpy_bit_for_bit():
    for a in _arrays():
        want = np.percentile(a, QS)
        got = SortedValues.of(a).percentiles(QS)
        assert list(got) == list(QS)
        values = np.array([got[q] for q in QS])
        assert values.dtype == want.dtype
        assert np.array_equal(values, want), (a.dtype, a.size)


def test_slice_shaped_input_and_single_value():
    img = np.random.default_rng(0).normal(300, 80, (256, 256)).astype(np.float32)
    got = SortedValues.of(img).percentiles((0.5, 99.5))
    assert [got[0.5], got[99.5]] == list(np.percentile(img, (0.5, 99.5)))
    one = SortedValues.of(np.array([[3.0]], np.float32))
    assert one.percentiles((1.0, 99.0)) == {1.0: 3.0, 99.0: 3.0}
    assert one.distinct() == 1 and one.share_at_max() == 1.0


def test_non_finite_values_are_left_out():
    a = np.array([[1.0, np.nan, 3.0], [np.inf, 2.0, -np.inf]], np.float32)
    v = SortedValues.of(a)
    assert v.size == 3 and (v.min, v.max) == (1.0, 3.0)
    assert v.percentiles((50.0,))[50.0] == 2.0
    with pytest.raises(ValueError):
        SortedValues.of(np.array([np.nan], np.float32)).percentiles((50.0,))


def test_grey_levels_and_saturation():
    a = np.zeros((10, 10), np.float32)
    a[:4] = 7.0
    a[4:6] = 3.0
    v = SortedValues.of(a)
    assert v.distinct() == 3
    assert v.share_at_max() == pytest.approx(0.4)
    assert SortedValues.of(np.arange(100, dtype=np.float32)).distinct() == 100


def test_integer_values_cannot_overflow_between_neighbours():
    a = np.array([[-32768, 32767], [0, 5]], np.int16)
    got = SortedValues.of(a).percentiles((1.0, 50.0, 99.0))
    want = np.percentile(a.astype(np.float64), (1.0, 50.0, 99.0))
    assert [got[q] for q in (1.0, 50.0, 99.0)] == list(want)
    assert got[1.0] >= -32768 and got[99.0] <= 32767

"""Compressed series decoded in parallel by worker processes (viewer.io.loader + isolated).

The oracle is pydicom's decode of each compressed file, slice by slice. A worker that dies on
one file leaves that slice blank with a reason; the next files get a fresh worker.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless

from tests.io.conftest import ramp_volume
from tests.io.pydicom_oracle import assert_matches, oracle
from viewer.io import discover, iter_load, load_series, loader, write_series

N = loader.POOL_MIN_FILES + 2


@pytest.fixture()
def rle_series(tmp_path: Path) -> list[Path]:
    """N RLE-compressed CT slices (enough for the worker processes to be used)."""
    paths = write_series(tmp_path / "rle", ramp_volume((N, 24, 20), offset=-1000.0),
                         spacing=(2.0, 0.7, 0.7), modality="CT")
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.compress(RLELossless, encoding_plugin="pydicom")
        ds.save_as(path)
    return [Path(p) for p in paths]


def _expected(paths: list[Path]) -> np.ndarray:
    return np.concatenate([oracle(str(p))[0] for p in paths])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: no parallel decoding")
def test_compressed_series_equals_pydicom_slice_by_slice(rle_series: list[Path]) -> None:
    series = discover(str(rle_series[0].parent)).series[0]
    volume = load_series(series)
    by_file = {Path(f): k for k, f in enumerate(volume.slice_files)}
    expected = _expected(rle_series)
    got = np.stack([volume.voxels[by_file[p]] for p in rle_series])
    assert_matches(got, expected)
    assert volume.warnings == ()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: no parallel decoding")
def test_a_dying_worker_blanks_one_slice_and_the_rest_loads(rle_series: list[Path],
                                                            monkeypatch) -> None:
    series = discover(str(rle_series[0].parent)).series[0]
    victim = series.files[3]
    real = loader.decode_isolated

    def abort_on_victim(path: str, worker):  # type: ignore[no-untyped-def]
        if path == victim:
            worker.call(path, os.abort)  # the worker process dies: DicomLoadError here
        return real(path, worker)
    monkeypatch.setattr(loader, "decode_isolated", abort_on_victim)
    events = list(iter_load(series))
    final = events[-1]
    assert final.complete
    assert final.loaded.sum() == len(series.files) - 1
    assert not final.loaded[series.files.index(victim)]
    assert any(Path(victim).name in w and "crashed" in w for w in final.volume.warnings)

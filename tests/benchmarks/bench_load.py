"""Load benchmark: SliceWise discovery + progressive load against SimpleITK alone.

Series: 200 slices of 512 x 512 CT-like int16 written once by ``viewer.io.write_series`` into a
cached temp folder. Peer: ``sitk.ImageSeriesReader.GetGDCMSeriesFileNames`` + ``Execute`` of the
whole series, measured in the same run. SliceWise: ``discover()`` + ``iter_load()`` to the first
event (slice 0 shown) and to the complete volume (uncompressed slices are read straight into the
preallocated volume, see ``viewer.io.fast_read``). Best of 3 each, interleaved.
Targets: first/sitk <= 0.25, full/sitk <= 0.7.

Compressed: the first 64 slices of that series as JPEG 2000 lossless (pydicom + openjpeg, cached),
loaded by SimpleITK's ImageSeriesReader (peer), by SliceWise decoding in its own process one file
after another (``loader._DECODE_PROCESSES = 1``: the second peer) and by SliceWise's default
(worker processes in parallel, ``viewer.io.isolated.pool``; warm after the first run).

Run: ``python tests/benchmarks/bench_load.py``.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import SimpleITK as sitk  # noqa: E402

from viewer.io import discover, iter_load, write_series  # noqa: E402

N_SLICES, SIZE, REPEATS = 200, 512, 3
CACHE = Path(tempfile.gettempdir()) / f"slicewise_bench_ct_{N_SLICES}x{SIZE}"
N_COMPRESSED = 64
J2K_CACHE = Path(tempfile.gettempdir()) / f"slicewise_bench_ct_j2k_{N_COMPRESSED}x{SIZE}"


def _series_folder() -> Path:
    """The cached synthetic CT series (written on first use)."""
    done = CACHE / ".complete"
    if done.exists():
        return CACHE
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    body = ((yy - SIZE / 2) ** 2 / (0.4 * SIZE) ** 2 + (xx - SIZE / 2) ** 2 / (0.45 * SIZE) ** 2) < 1
    voxels = np.full((N_SLICES, SIZE, SIZE), -1000.0, dtype=np.float32)
    voxels[:, body] = 40.0
    voxels += rng.normal(0, 20, voxels.shape).astype(np.float32)
    write_series(CACHE, voxels, spacing=(1.25, 0.7, 0.7), origin=(-180.0, -180.0, -300.0),
                 modality="CT", series_description="Benchmark CT", window=(40, 400))
    done.touch()
    return CACHE


def _j2k_folder() -> Path:
    """The first N_COMPRESSED slices of the CT series as JPEG 2000 lossless (cached)."""
    import pydicom
    from pydicom.uid import JPEG2000Lossless

    done = J2K_CACHE / ".complete"
    if done.exists():
        return J2K_CACHE
    J2K_CACHE.mkdir(parents=True, exist_ok=True)
    for path in sorted(_series_folder().glob("*.dcm"))[:N_COMPRESSED]:
        ds = pydicom.dcmread(path)
        ds.compress(JPEG2000Lossless)
        ds.save_as(J2K_CACHE / path.name)
    done.touch()
    return J2K_CACHE


def _slicewise_serial(folder: Path) -> float:
    """SliceWise decoding every file in its own process, one after another (the peer)."""
    from viewer.io import loader

    saved = loader._DECODE_PROCESSES
    loader._DECODE_PROCESSES = 1
    try:
        return _slicewise(folder, N_COMPRESSED)[1]
    finally:
        loader._DECODE_PROCESSES = saved


def _sitk_full(folder: Path) -> float:
    t0 = time.perf_counter()
    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(names)
    image = reader.Execute()
    sitk.GetArrayViewFromImage(image)
    return time.perf_counter() - t0


def _slicewise(folder: Path, slices: int = N_SLICES) -> tuple[float, float]:
    t0 = time.perf_counter()
    series = discover(folder).series[0]
    first = None
    for event in iter_load(series):
        if first is None:
            first = time.perf_counter() - t0
        if event.complete:
            assert event.volume.shape == (slices, SIZE, SIZE)
            assert not event.volume.warnings, event.volume.warnings
    return float(first), time.perf_counter() - t0


def _compressed() -> dict:
    folder = _j2k_folder()
    _slicewise(folder, N_COMPRESSED)  # starts the worker processes, warms the file cache
    sitk_t, serial_t, parallel_t = [], [], []
    for _ in range(REPEATS):
        sitk_t.append(_sitk_full(folder))
        serial_t.append(_slicewise_serial(folder))
        parallel_t.append(_slicewise(folder, N_COMPRESSED)[1])
    sitk_best, serial_best, parallel_best = min(sitk_t), min(serial_t), min(parallel_t)
    result = {
        "series": f"{N_COMPRESSED} x {SIZE} x {SIZE} int16 CT, JPEG 2000 lossless",
        "sitk_full_s": sitk_best, "slicewise_in_process_s": serial_best,
        "slicewise_parallel_s": parallel_best,
        "parallel_over_sitk_full": parallel_best / sitk_best,
        "parallel_over_in_process": parallel_best / serial_best,
    }
    print(f"Compressed load: {result['series']} (best of {REPEATS})")
    print(f"{'SimpleITK series read (peer)':<34}{sitk_best:>10.3f}{1.0:>10.2f}")
    print(f"{'SliceWise in process, serial':<34}{serial_best:>10.3f}"
          f"{serial_best / sitk_best:>10.2f}")
    print(f"{'SliceWise worker processes':<34}{parallel_best:>10.3f}"
          f"{result['parallel_over_sitk_full']:>10.2f}"
          f"   ({result['parallel_over_in_process']:.2f} of in-process serial)")
    return result


def main() -> dict:
    """Run the benchmark; returns the figures (seconds and ratios) and prints a table."""
    folder = _series_folder()
    _sitk_full(folder)  # warm the file cache and both sides' lazy imports
    _slicewise(folder)
    sitk_times, first_times, full_times = [], [], []
    for _ in range(REPEATS):
        sitk_times.append(_sitk_full(folder))
        first, full = _slicewise(folder)
        first_times.append(first)
        full_times.append(full)
    sitk_best, first_best, full_best = min(sitk_times), min(first_times), min(full_times)
    result = {
        "series": f"{N_SLICES} x {SIZE} x {SIZE} int16 CT",
        "sitk_full_s": sitk_best,
        "slicewise_first_slice_s": first_best,
        "slicewise_full_s": full_best,
        "first_over_sitk_full": first_best / sitk_best,
        "full_over_sitk_full": full_best / sitk_best,
        "targets": {"first_over_sitk_full": 0.25, "full_over_sitk_full": 0.7},
    }
    print(f"Load benchmark: {result['series']} (best of {REPEATS})")
    print(f"{'measure':<34}{'seconds':>10}{'ratio':>10}{'target':>9}")
    print(f"{'SimpleITK series read (peer)':<34}{sitk_best:>10.3f}{1.0:>10.2f}{'':>9}")
    print(f"{'SliceWise first slice':<34}{first_best:>10.3f}"
          f"{result['first_over_sitk_full']:>10.2f}{'<= 0.25':>9}")
    print(f"{'SliceWise complete volume':<34}{full_best:>10.3f}"
          f"{result['full_over_sitk_full']:>10.2f}{'<= 0.70':>9}")
    result["compressed"] = _compressed()
    return result


if __name__ == "__main__":
    main()

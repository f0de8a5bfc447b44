"""What the frame-rate benchmarks share: a synthetic CT volume and a frames-per-second loop."""
from __future__ import annotations

import time

import numpy as np


def ct_noise_volume(slices: int, size: int, z_origin: float = 0.0):
    """A ``slices`` x ``size`` x ``size`` float32 CT-like volume (seeded noise, 2 x 0.7 x 0.7 mm)."""
    from viewer.io.records import PatientInfo, Volume, WindowPreset

    rng = np.random.default_rng(0)
    vox = rng.normal(40.0, 200.0, (slices, size, size)).astype(np.float32)
    return Volume(vox, (2.0, 0.7, 0.7), (0.0, 0.0, z_origin), np.eye(3), "CT", "bench",
                  description="Benchmark", patient=PatientInfo("Bench^Mark"),
                  window=WindowPreset("Header", 40.0, 400.0))


def frame_rate(step, seconds: float) -> float:
    """Calls of ``step(frame_number)`` per second over ``seconds``, after five warm-up calls."""
    for n in range(5):
        step(n)
    frames, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(frames)
        frames += 1
    return frames / (time.perf_counter() - start)

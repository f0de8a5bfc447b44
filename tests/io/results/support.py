"""Helpers of the DICOM result tests: a small source series, its maps, and the dciodvfy check."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

DCIODVFY_PACKAGE = "dicom3tools"


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) dciodvfy reports for ``path``; skips when dciodvfy is not installed."""
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.skip(f"dciodvfy not installed (Debian package {DCIODVFY_PACKAGE})")
    run = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    lines = (run.stdout + run.stderr).splitlines()
    return ([ln for ln in lines if ln.startswith("Error")],
            [ln for ln in lines if ln.startswith("Warning")])


def assert_valid(path: Path) -> list[str]:
    """Asserts dciodvfy finds no error in ``path``; returns its warnings."""
    errors, warnings = dciodvfy(path)
    assert not errors, f"{path.name}: " + "; ".join(errors)
    return warnings


def source_series(folder: Path, n: int = 5, rows: int = 24, cols: int = 32, seed: int = 0) -> list[Path]:
    """An MR series of ``n`` single-frame slices (rows x cols) written by the project's writer,
    oblique-free axial, 2 mm slices, 0.8 mm pixels."""
    from viewer.io import write_series

    rng = np.random.default_rng(seed)
    vox = rng.normal(300.0, 60.0, (n, rows, cols)).clip(0, None).astype(np.float32)
    return write_series(folder, vox, spacing=(2.0, 0.8, 0.8), origin=(-12.0, -10.0, 30.0),
                        modality="MR", series_description="source", window=(300, 400))


def maps_for(n: int, rows: int, cols: int, seed: int = 1) -> np.ndarray:
    """Heat maps (n, rows, cols) float32 with a raw range like Grad-CAM's (>= 0, not 0..1) and
    some negative values like occlusion's."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    out = []
    for k in range(n):
        blob = np.exp(-((y - rows / 2 - k) ** 2 + (x - cols / 3 - k) ** 2) / 30.0)
        out.append(3.7 * blob + rng.normal(0, 0.05, (rows, cols)))
    return np.asarray(out, np.float32)

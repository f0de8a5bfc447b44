"""Decoded stored values -> the values SliceWise keeps in ``Volume.voxels``.

One rule for every decoder (pydicom in process, GDCM in a worker, the native fast path):

* grey images (MONOCHROME1/2): the modality transform, exactly as pydicom applies it — the
  Modality LUT Sequence when present, else RescaleSlope/RescaleIntercept (per frame for enhanced
  multi-frame files). MONOCHROME1 values are **not** inverted here: the volume keeps the physical
  values and sets ``invert_display`` so that only the display flips the grey scale.
* PALETTE COLOR: the palette is applied (``pydicom.pixels.apply_color_lut``) giving RGB.
* colour images (RGB, YBR_*): RGB, converted by pydicom (``convert_color_space``) when the decoder
  left them in YBR.
* colour values are brought to 0..255 (a 16-bit palette or 16-bit RGB is scaled by
  ``255 / (2**bits - 1)``; 8-bit colour is kept exactly); colour volumes have no per-channel
  window (window 0..255).

Arrays are ``(frames, y, x)`` float32, or ``(frames, y, x, 3)`` float32 for colour.
"""
from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, convert_color_space

GREY = ("MONOCHROME1", "MONOCHROME2")
#: Largest |RescaleSlope| or |RescaleIntercept| taken as a number (float32 ends at 3.4e38).
MAX_RESCALE = 1e30
_YBR_TO_RGB = ("YBR_FULL", "YBR_FULL_422")


def frame_count(ds: Dataset) -> int:
    """NumberOfFrames (1 when absent or empty)."""
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def is_colour(ds: Dataset) -> bool:
    """True when the image is shown as RGB (three samples per pixel or a palette)."""
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    return int(ds.get("SamplesPerPixel") or 1) == 3 or photometric == "PALETTE COLOR"


def frame_rescales(ds: Dataset) -> list[tuple[float, float]]:
    """(slope, intercept) of each frame: per-frame functional group, shared group, then the
    top-level RescaleSlope/RescaleIntercept, else (1, 0)."""
    frames = frame_count(ds)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared = ds.get("SharedFunctionalGroupsSequence")
    top = (ds.get("RescaleSlope"), ds.get("RescaleIntercept"))
    pairs = []
    for k in range(frames):
        slope, intercept = top
        for groups, index in ((per_frame, k), (shared, 0)):
            if groups is not None and len(groups) > index:
                pvt = groups[index].get("PixelValueTransformationSequence")
                if pvt:
                    slope = pvt[0].get("RescaleSlope", slope)
                    intercept = pvt[0].get("RescaleIntercept", intercept)
                    break
        pair = (float(slope) if slope not in (None, "") else 1.0,
                float(intercept) if intercept not in (None, "") else 0.0)
        if not all(math.isfinite(v) and abs(v) <= MAX_RESCALE for v in pair):
            raise ValueError(f"RescaleSlope {pair[0]:g} / RescaleIntercept {pair[1]:g} of frame "
                             f"{k + 1} are not usable numbers")
        pairs.append(pair)
    return pairs


def usable_rescale(slope: float, intercept: float, bits: int) -> bool:
    """True when ``bits``-bit stored values rescaled by ``slope``/``intercept`` stay finite
    float32 numbers (else the general decoder refuses the file with the reason)."""
    return (all(math.isfinite(v) and abs(v) <= MAX_RESCALE for v in (slope, intercept))
            and abs(slope) * 2.0 ** bits + abs(intercept) < 3.0e38)


def _as_frames(arr: np.ndarray, frames: int, colour: bool) -> np.ndarray:
    """pydicom's array (``(y, x[, 3])`` for one frame) as ``(frames, y, x[, 3])``."""
    single_ndim = 3 if colour else 2
    return arr[np.newaxis] if arr.ndim == single_ndim else arr.reshape((frames,) +
                                                                       arr.shape[-single_ndim:])


def grey_values(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Stored grey values ``(frames, y, x)`` -> modality values, float32 ``(frames, y, x)``."""
    arr = _as_frames(arr, frame_count(ds), colour=False)
    if "ModalityLUTSequence" in ds:
        return np.ascontiguousarray(apply_modality_lut(arr, ds), dtype=np.float32)
    out = np.empty(arr.shape, dtype=np.float32)
    rescales = frame_rescales(ds)
    for k in range(arr.shape[0]):
        slope, intercept = rescales[k] if k < len(rescales) else rescales[-1]
        if slope == 1.0 and intercept == 0.0:
            out[k] = arr[k]
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                out[k] = arr[k].astype(np.float64) * slope + intercept
            if not np.isfinite(out[k]).all():
                raise ValueError(f"RescaleSlope {slope:g} / RescaleIntercept {intercept:g} give "
                                 "values beyond what SliceWise stores (32-bit float)")
    return out


def _palette_bits(ds: Dataset) -> int:
    descriptor = ds.get("RedPaletteColorLookupTableDescriptor")
    try:
        return 8 if int(descriptor[2]) == 8 else 16
    except (TypeError, IndexError, ValueError):
        return 16


def colour_values(arr: np.ndarray, ds: Dataset, photometric: str) -> np.ndarray:
    """Decoded colour samples (pydicom's layout, ``photometric`` as the decoder left it) -> RGB
    float32 ``(frames, y, x, 3)`` in 0..255."""
    photometric = photometric.strip().upper()
    frames = frame_count(ds)
    if photometric == "PALETTE COLOR":
        grey = _as_frames(arr, frames, colour=False)
        rgb = apply_color_lut(grey, ds)
        bits = _palette_bits(ds)
    else:
        rgb = _as_frames(arr, frames, colour=True)
        if photometric in _YBR_TO_RGB:
            rgb = convert_color_space(rgb, photometric, "RGB", per_frame=True)
        bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 8)
    out = np.ascontiguousarray(rgb, dtype=np.float32)
    if bits > 8:
        out *= np.float32(255.0 / (2.0 ** bits - 1.0))
    return out


def display_values(arr: np.ndarray, ds: Dataset, photometric: str) -> tuple[np.ndarray, bool]:
    """(values, is_rgb) of a decoded pixel array; see the module docstring for the rule."""
    if is_colour(ds):
        return colour_values(arr, ds, photometric), True
    return grey_values(arr, ds), False

"""The independent oracle for pixel tests: what pydicom alone says a file's values are.

Grey: ``pydicom.pixels.pixel_array`` then ``apply_modality_lut`` (per frame with the enhanced
multi-frame PixelValueTransformationSequence), MONOCHROME1 not inverted. PALETTE COLOR:
``apply_color_lut``. Colour: decoded without colour conversion (``as_rgb=False``) then
``convert_color_space`` to RGB for YBR_FULL / YBR_FULL_422. Colour values above 8 bits are
scaled to 0..255 by 255 / (2**bits - 1), the rule SliceWise documents for colour volumes.
Returns float64 ``(frames, y, x)`` or ``(frames, y, x, 3)``. Never imports ``viewer``.
"""
from __future__ import annotations

import functools

import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut, apply_modality_lut, convert_color_space, get_decoder
from pydicom.pixels import pixel_array as _pixel_array


def _frames(ds: pydicom.Dataset) -> int:
    return int(ds.get("NumberOfFrames") or 1)


def plugins(path: str) -> tuple[str, ...]:
    """pydicom's decoding plugins for ``path`` ('' = pydicom's default choice)."""
    ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
    try:
        decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    except Exception:  # noqa: BLE001 - no decoder: pydicom's default error path
        return ("",)
    return ("",) if decoder.is_native else tuple(decoder.available_plugins)


def oracles(path: str) -> list[tuple[str, np.ndarray, bool]]:
    """(plugin, values, is_rgb) for each pydicom plugin that decodes ``path``. Lossy JPEG
    decoders differ by a few units (their IDCTs differ): any of them is pydicom's decode."""
    out = []
    for plugin in plugins(path):
        try:
            out.append((plugin,) + oracle(path, plugin))
        except Exception:  # noqa: BLE001 - this plugin cannot decode the file
            continue
    return out


def oracle(path: str, plugin: str = "") -> tuple[np.ndarray, bool]:
    """(values, is_rgb) of ``path`` according to pydicom (see the module docstring), decoded
    by ``plugin`` (pydicom's default order when empty)."""
    ds = pydicom.dcmread(path, force=True)
    pixel_array = functools.partial(_pixel_array, decoding_plugin=plugin)
    photometric = str(ds.PhotometricInterpretation).strip()
    frames = _frames(ds)
    if photometric == "PALETTE COLOR":
        grey = pixel_array(ds, as_rgb=False)
        rgb = apply_color_lut(grey, ds).astype(np.float64)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        bits = 8 if bits == 8 else 16
        out = rgb if bits == 8 else rgb * (255.0 / (2.0 ** bits - 1))
        return out.reshape((frames,) + out.shape[-3:]), True
    if int(ds.get("SamplesPerPixel") or 1) == 3:
        arr = pixel_array(ds, as_rgb=False)
        if photometric in ("YBR_FULL", "YBR_FULL_422"):
            arr = convert_color_space(arr, photometric, "RGB", per_frame=frames > 1)
        out = arr.astype(np.float64)
        bits = int(ds.BitsStored)
        if bits > 8:
            out *= 255.0 / (2.0 ** bits - 1)
        return out.reshape((frames,) + out.shape[-3:]), True
    arr = pixel_array(ds).reshape((frames,) + (int(ds.Rows), int(ds.Columns)))
    if "ModalityLUTSequence" in ds or frames == 1 or \
            "PerFrameFunctionalGroupsSequence" not in ds:
        return np.asarray(apply_modality_lut(arr, ds), dtype=np.float64), False
    out = np.empty(arr.shape, dtype=np.float64)
    for k in range(frames):
        item = None
        for seq, index in (("PerFrameFunctionalGroupsSequence", k),
                           ("SharedFunctionalGroupsSequence", 0)):
            groups = ds.get(seq)
            if groups is not None and len(groups) > index and \
                    groups[index].get("PixelValueTransformationSequence"):
                item = groups[index].PixelValueTransformationSequence[0]
                break
        slope = float(item.get("RescaleSlope", 1) if item else ds.get("RescaleSlope", 1))
        intercept = float(item.get("RescaleIntercept", 0) if item else
                          ds.get("RescaleIntercept", 0))
        out[k] = arr[k] * slope + intercept
    return out, False


def assert_matches(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal to float32 precision (relative 1e-6 of the value range)."""
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=1e-6,
                               atol=scale * 1e-6)


def matches(actual: np.ndarray, expected: np.ndarray) -> bool:
    """``assert_matches`` as a boolean."""
    try:
        assert_matches(actual, expected)
    except AssertionError:
        return False
    return True


def assert_matches_any(path: str, actual: np.ndarray, is_rgb: bool) -> str:
    """``actual`` equals the decode of at least one pydicom plugin; returns that plugin."""
    candidates = oracles(path)
    assert candidates, f"pydicom cannot decode {path}"
    for plugin, expected, expected_rgb in candidates:
        if expected_rgb == is_rgb and matches(actual, expected):
            return plugin or "pydicom"
    plugin, expected, expected_rgb = candidates[0]
    assert expected_rgb == is_rgb, f"is_rgb {is_rgb} but pydicom says {expected_rgb}"
    assert_matches(actual, expected)
    return plugin

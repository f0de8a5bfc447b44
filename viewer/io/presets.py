"""Display windows: standard CT presets, a robust automatic window, presets per modality.

Centres and widths are in the volume's units (Hounsfield units for CT).
"""
from __future__ import annotations

import numpy as np

from viewer.io.records import WindowPreset

#: Standard radiology CT windows (centre / width in HU).
CT_PRESETS: tuple[WindowPreset, ...] = (
    WindowPreset("Brain", 40.0, 80.0),
    WindowPreset("Subdural", 75.0, 215.0),
    WindowPreset("Stroke", 32.0, 8.0),
    WindowPreset("Lung", -600.0, 1500.0),
    WindowPreset("Mediastinum", 50.0, 350.0),
    WindowPreset("Abdomen", 40.0, 400.0),
    WindowPreset("Liver", 60.0, 160.0),
    WindowPreset("Bone", 400.0, 1800.0),
)

#: Percentiles of the automatic window.
AUTO_PERCENTILES = (0.5, 99.5)
#: Largest sample the automatic window looks at (a regular stride through the voxels): 1e6
#: values put the 0.5 % tail on 5000 of them, ample for a display window, in about 10 ms.
_MAX_SAMPLES = 1_000_000


def _padding_mask(values: np.ndarray) -> np.ndarray:
    """True where a value is not padding: the global minimum when it fills >= 5 % of voxels
    (CT outside the field of view, e.g. -2048 or -3024), and non-finite values."""
    keep = np.isfinite(values)
    if not keep.any():
        return keep
    low = float(values[keep].min())
    at_low = values == low
    if np.count_nonzero(at_low) >= 0.05 * values.size and np.count_nonzero(~at_low & keep):
        keep &= ~at_low
    return keep


def auto_window(voxels: np.ndarray, name: str = "Auto") -> WindowPreset:
    """A window spanning the 0.5-99.5 percentiles of the voxel values, ignoring padding.

    ``voxels``: any shape (usually ``(z, y, x)``); large arrays are sampled on a regular stride.
    A constant image gets width 1.
    """
    flat = np.asarray(voxels).reshape(-1)
    if flat.size > _MAX_SAMPLES:
        flat = flat[:: int(np.ceil(flat.size / _MAX_SAMPLES))]
    flat = flat.astype(np.float32, copy=False)  # voxels are float32: no precision to gain
    keep = _padding_mask(flat)
    values = flat[keep]
    if values.size == 0:
        return WindowPreset(name, 0.0, 1.0)
    low, high = np.percentile(values, AUTO_PERCENTILES)
    width = float(high - low)
    if not width > 0:
        return WindowPreset(name, float(low), 1.0)
    return WindowPreset(name, float((low + high) / 2.0), width)


def presets_for(
    volume_modality: str,
    header_window: WindowPreset | tuple[float, float] | None,
    auto: WindowPreset | None = None,
) -> tuple[WindowPreset, ...]:
    """Presets a reader can pick for a modality, in menu order: the header window (centre,
    width) when present, the automatic window when given (``auto_window`` of the voxels), then
    the standard presets for CT. MR and other modalities get only Header and Auto."""
    out: list[WindowPreset] = []
    if header_window is not None:
        if isinstance(header_window, WindowPreset):
            out.append(header_window)
        else:
            out.append(WindowPreset("Header", float(header_window[0]), float(header_window[1])))
    if auto is not None:
        out.append(auto)
    if volume_modality.upper() == "CT":
        out.extend(CT_PRESETS)
    return tuple(out)

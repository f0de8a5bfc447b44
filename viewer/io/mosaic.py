"""Siemens mosaics: one stored image holding a grid of slices (EPI, DWI, fMRI).

A file whose ImageType contains ``MOSAIC`` stores N slices of ``tile_rows x tile_cols`` as one
``Rows x Columns`` image: ``ceil(sqrt(N))`` tiles across and down, filled row by row, empty tiles
at the end. The geometry follows dcm2niix (and nibabel's ``MosaicWrapper``):

- N is NumberOfImagesInMosaic from the Siemens CSA image header (nibabel.nicom.csareader), else
  the Siemens private element (0019,100A);
- ImagePositionPatient is the corner of the whole grid; the first tile's corner is shifted by
  ``(Rows - tile_rows) / 2`` pixels along the column direction and ``(Columns - tile_cols) / 2``
  along the row direction;
- tile ``t`` lies ``t * step`` mm along the CSA SliceNormalVector (else the cross product of the
  row and column cosines), ``step`` being SpacingBetweenSlices, else SliceThickness.

Positions are patient LPS mm ``(x, y, z)``; tiles come out as ``(N, tile_rows, tile_cols)``.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MosaicGeometry:
    """Slices packed in one mosaic image: count, tile size and each tile's position.

    ``positions``: ImagePositionPatient (LPS mm) of each tile in storage order (tile 0 first).
    ``note``: why the geometry is approximate (missing CSA normal or spacing), else "".
    """

    tiles: int
    tile_rows: int
    tile_cols: int
    positions: tuple[tuple[float, float, float], ...]
    note: str = ""


def is_mosaic(ds: Any) -> bool:
    """Whether a dataset's ImageType says MOSAIC."""
    image_type = ds.get("ImageType")
    if image_type is None:
        return False
    values = [image_type] if isinstance(image_type, str) else list(image_type)
    return any(str(v).strip().upper() == "MOSAIC" for v in values)


def _csa(ds: Any) -> dict | None:
    """The parsed Siemens CSA image header, or None (absent, damaged, nibabel missing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nibabel.nicom warns that its DICOM readers are young
            from nibabel.nicom import csareader  # imported on first mosaic only
            return csareader.get_csa_header(ds, "image")
    except Exception:  # noqa: BLE001 - an anonymiser may have damaged the private block
        return None


def _csa_values(csa: dict | None, name: str) -> list:
    if not csa:
        return []
    try:
        return list(csa["tags"][name]["items"])
    except (KeyError, TypeError):
        return []


def _tile_count(ds: Any, csa: dict | None) -> int | None:
    values = _csa_values(csa, "NumberOfImagesInMosaic")
    if values:
        return int(values[0])
    element = ds.get((0x0019, 0x100A))  # Siemens "NumberOfImagesInMosaic" (MR header)
    try:
        return int(element.value) if element is not None else None
    except (TypeError, ValueError):
        return None


def mosaic_geometry(ds: Any, orientation: Sequence[float],
                    position: Sequence[float] | None,
                    pixel_spacing: Sequence[float]) -> MosaicGeometry | None:
    """The slices of a mosaic header (pixel data not needed), or None when ``ds`` is not a
    mosaic SliceWise can split (no tile count, or a grid that does not divide the image)."""
    if not is_mosaic(ds):
        return None
    csa = _csa(ds)
    tiles = _tile_count(ds, csa)
    rows, cols = int(ds.Rows), int(ds.Columns)
    if not tiles or tiles < 1:
        return None
    across = math.ceil(math.sqrt(tiles))
    if rows % across or cols % across:
        return None
    tile_rows, tile_cols = rows // across, cols // across
    if len(orientation) != 6 or position is None or len(position) != 3:
        return MosaicGeometry(tiles, tile_rows, tile_cols, (), "")
    row_cos = np.asarray(orientation[:3], float)
    col_cos = np.asarray(orientation[3:6], float)
    dy, dx = float(pixel_spacing[0]), float(pixel_spacing[1])
    origin = (np.asarray(position, float) + col_cos * dy * (rows - tile_rows) / 2.0
              + row_cos * dx * (cols - tile_cols) / 2.0)
    notes = []
    normal = np.asarray(_csa_values(csa, "SliceNormalVector")[:3], float)
    if normal.shape != (3,) or not np.linalg.norm(normal) > 0:
        normal = np.cross(row_cos, col_cos)
        notes.append("the Siemens slice normal is missing (slice order assumed ascending)")
    normal = normal / np.linalg.norm(normal)
    step = _positive(ds.get("SpacingBetweenSlices")) or _positive(ds.get("SliceThickness"))
    if step is None:
        step = 1.0
        notes.append("no slice spacing in the header (1 mm assumed)")
    positions = tuple(tuple(float(v) for v in origin + k * step * normal) for k in range(tiles))
    note = ("Mosaic geometry is approximate: " + "; ".join(notes)) if notes else ""
    return MosaicGeometry(tiles, tile_rows, tile_cols, positions, note)  # type: ignore[arg-type]


#: A slice step beyond this (mm) is a damaged value, not a spacing (as viewer.io.headers).
MAX_STEP_MM = 1e4


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and 0 < number <= MAX_STEP_MM else None


def split_mosaic(image: np.ndarray, tiles: int, tile_shape: tuple[int, int]) -> np.ndarray:
    """Cut a mosaic ``(Rows, Columns[, 3])`` (or ``(1, Rows, Columns[, 3])``) into its slices
    ``(tiles, tile_rows, tile_cols[, 3])``, storage order, as a new C-contiguous array."""
    grid = np.asarray(image)
    if grid.ndim >= 3 and grid.shape[0] == 1 and grid.ndim in (3, 4):
        grid = grid[0]
    tile_rows, tile_cols = tile_shape
    across = math.ceil(math.sqrt(tiles))
    if grid.shape[0] < across * tile_rows or grid.shape[1] < across * tile_cols:
        raise ValueError(f"a {grid.shape[1]}x{grid.shape[0]} image cannot hold {tiles} tiles of "
                         f"{tile_cols}x{tile_rows}")
    out = np.empty((tiles, tile_rows, tile_cols) + grid.shape[2:], dtype=grid.dtype)
    for t in range(tiles):
        r, c = divmod(t, across)
        out[t] = grid[r * tile_rows:(r + 1) * tile_rows, c * tile_cols:(c + 1) * tile_cols]
    return out

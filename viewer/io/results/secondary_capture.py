"""Fallback for PACS that show neither Parametric Maps nor SEG: Secondary Capture images of
the slice with the heat map, a colour bar and the words burned in.

The caller composes each slice with the viewer's one overlay rule (``viewer.core.overlay``:
``blend(window_to_gray(...), overlay_rgba(...))``) and passes the colormap's table and the map
range the colours span; this module draws the colour bar and the text (Pillow, no display),
and writes one SC image per slice: ImageType DERIVED\\SECONDARY, BurnedInAnnotation YES, the
source slice in Source Image Sequence, and what the image shows in Image Comments and
Derivation Description; with demo weights "NOT FOR DIAGNOSIS" is burned in and written in both.
Small slices are enlarged (nearest neighbour, whole factor) so the text stays readable.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from viewer.io.results.common import NOT_FOR_DIAGNOSIS, AlgorithmInfo, DicomResultError, method_name

SC_SERIES_NUMBER = 9004
MIN_SIDE = 384      # slices are enlarged to at least this many rows (whole factor)
BAR_WIDTH = 84      # pixels right of the image: colour strip and its labels
TEXT_LINE = 16      # pixels per text line under the image
_LETTERS = (("L", "R"), ("P", "A"), ("H", "F"))  # + / - along LPS x, y, z


@dataclass(frozen=True)
class BurnedSlice:
    """One slice to capture: ``rgb`` (y, x, 3) uint8 already composed with the overlay rule,
    ``source`` its image, ``value_range`` (low, high) raw map values the colours span (None: no
    positive evidence on this slice), ``caption`` a line such as "slice 12 · p(tumour) 0.93"."""

    rgb: np.ndarray
    source: Dataset
    value_range: tuple[float, float] | None
    caption: str = ""


def _letter(vector: Sequence[float]) -> str:
    v = np.asarray(vector, float)
    axis = int(np.argmax(np.abs(v)))
    return _LETTERS[axis][0 if v[axis] > 0 else 1]


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def burn_in(item: BurnedSlice, table: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """(Y, X, 3) uint8: the slice enlarged to at least :data:`MIN_SIDE` rows, the colour bar of
    ``table`` ((n, 3) uint8, low to high) with its range on the right, and ``lines`` of text
    (plus the caption) under it."""
    from PIL import Image, ImageDraw

    rgb = np.asarray(item.rgb, np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise DicomResultError("", f"slice image must be (y, x, 3) uint8, not {rgb.shape}")
    factor = max(1, -(-MIN_SIDE // rgb.shape[0]))
    image = np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
    h, w = image.shape[:2]
    text = [t for t in (item.caption, *lines) if t]
    canvas = np.zeros((h + TEXT_LINE * len(text) + 8, w + BAR_WIDTH, 3), np.uint8)
    canvas[:h, :w] = image
    top, bottom = 24, h - 24
    ramp = np.asarray(table, np.uint8)[::-1]
    rows = np.linspace(0, len(ramp) - 1, max(bottom - top, 2)).round().astype(int)
    canvas[top:bottom, w + 8:w + 24] = ramp[rows][:, None, :]
    pil = Image.fromarray(canvas)
    draw = ImageDraw.Draw(pil)
    font = _font(12)
    if item.value_range is not None:
        lo, hi = item.value_range
        draw.text((w + 28, top - 6), f"{hi:.3g}", fill=(255, 255, 255), font=font)
        draw.text((w + 28, bottom - 8), f"{lo:.3g}", fill=(255, 255, 255), font=font)
    else:
        draw.text((w + 28, top - 6), "no map", fill=(255, 255, 255), font=font)
    for n, line in enumerate(text):
        colour = (255, 80, 80) if "NOT FOR DIAGNOSIS" in line else (255, 255, 255)
        draw.text((4, h + 4 + n * TEXT_LINE), line, fill=colour, font=font)
    return np.asarray(pil, np.uint8)


def secondary_capture(item: BurnedSlice, table: np.ndarray, algorithm: AlgorithmInfo, method: str,
                      target: str, *, series_uid: str, instance_number: int,
                      series_number: int = SC_SERIES_NUMBER) -> Dataset:
    """One Secondary Capture image of ``item`` (see :func:`burn_in`)."""
    what = f"{method_name(method)} map for class '{target}' burned into the slice"
    lines = [f"{algorithm.name} {algorithm.version} · {method_name(method)} · class {target}",
             "AI overlay - derived image, not the original"]
    if algorithm.demo:
        lines.append(NOT_FOR_DIAGNOSIS.upper())
    pixels = burn_in(item, table, lines)
    src = item.source
    iop = [float(v) for v in src.get("ImageOrientationPatient", []) or []]
    orientation = (_letter(iop[:3]), _letter(iop[3:])) if len(iop) == 6 else ("L", "P")
    sc = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=src, pixel_array=pixels, photometric_interpretation="RGB", bits_allocated=8,
        coordinate_system="PATIENT", series_instance_uid=series_uid, series_number=series_number,
        sop_instance_uid=hd.UID(), instance_number=instance_number, manufacturer="SliceWise",
        patient_orientation=orientation, transfer_syntax_uid=ExplicitVRLittleEndian)
    if len(iop) != 6:
        sc.PatientOrientation = ""  # unknown: Type 2, never invented letters
    sc.Laterality = str(src.get("Laterality", "") or "")  # Type 2C: the source's, or unknown
    sc.BurnedInAnnotation = "YES"
    sc.RecognizableVisualFeatures = "NO"
    statement = algorithm.statement(what)
    sc.ImageComments = statement
    sc.DerivationDescription = statement[:1024]
    ref = Dataset()
    ref.ReferencedSOPClassUID = src.SOPClassUID
    ref.ReferencedSOPInstanceUID = src.SOPInstanceUID
    sc.SourceImageSequence = [ref]
    sc.SeriesDescription = (f"AI {method_name(method)} {target} capture ({algorithm.name}"
                            + (", demo)" if algorithm.demo else ")"))[:64]
    return sc


def write_secondary_captures(folder: str | os.PathLike[str], items: Sequence[BurnedSlice],
                             table: np.ndarray, algorithm: AlgorithmInfo, method: str, target: str,
                             *, stem: str = "SC", series_uid: str | None = None) -> list[Path]:
    """Writes one Secondary Capture per item into ``folder`` (one series) and returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    uid = series_uid or hd.UID()
    paths = []
    for n, item in enumerate(items, start=1):
        sc = secondary_capture(item, table, algorithm, method, target, series_uid=uid,
                               instance_number=n)
        path = folder / f"{stem}{n:04d}.dcm"
        sc.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths

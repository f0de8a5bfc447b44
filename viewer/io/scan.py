"""Fast header scan of plain single-frame images with GDCM's ``Scanner`` (python-gdcm).

Discovery needs a handful of tags from every file (series and study UIDs, numbers, size,
position, orientation) but the descriptive ones (patient, descriptions, window, spacing) only
from the first file of each series part. pydicom spends about 0.5 ms of Python per file on a
full header; GDCM's C++ scanner reads the few tags below in about 0.08 ms. ``scan`` returns the
values of the files it can vouch for (a plain single-frame image with every needed tag well
formed); anything else (multi-frame, Siemens mosaic, non-image, damaged, odd values) is left
to pydicom, so that every skip reason and every multi-frame or mosaic geometry still comes from
the one pydicom path.

When python-gdcm is not installed, ``AVAILABLE`` is False and ``scan`` returns nothing: discovery
then reads every header with pydicom (same results, slower).
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pydicom

from viewer.io.header_walk import lengths_fit
from viewer.io.headers import FileHeader, usable_orientation, usable_position

try:  # optional accelerator: same results without it, only slower
    import gdcm  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    gdcm = None

AVAILABLE = gdcm is not None

#: Tags read from every file, as (group, element). The scanner stops after the largest one.
_IMAGE_TYPE = (0x0008, 0x0008)
_SOP_CLASS = (0x0008, 0x0016)
_SOP_INSTANCE = (0x0008, 0x0018)   # read by instance_uids only
_MODALITY = (0x0008, 0x0060)
_STUDY_UID = (0x0020, 0x000D)
_SERIES_UID = (0x0020, 0x000E)
_SERIES_NUMBER = (0x0020, 0x0011)
_INSTANCE_NUMBER = (0x0020, 0x0013)
_PATIENT_ORIENTATION = (0x0020, 0x0020)
_POSITION = (0x0020, 0x0032)
_ORIENTATION = (0x0020, 0x0037)
_SAMPLES = (0x0028, 0x0002)
_FRAMES = (0x0028, 0x0008)
_ROWS = (0x0028, 0x0010)
_COLUMNS = (0x0028, 0x0011)
_TAGS = (_IMAGE_TYPE, _SOP_CLASS, _MODALITY, _STUDY_UID, _SERIES_UID, _SERIES_NUMBER, _INSTANCE_NUMBER,
         _PATIENT_ORIENTATION, _POSITION, _ORIENTATION, _SAMPLES, _FRAMES, _ROWS, _COLUMNS)
#: Modalities of non-image objects: always read by pydicom (which names the reason).
_NON_IMAGE_MODALITIES = frozenset({"SR", "RTSTRUCT", "PR", "ECG", "HD", "AU", "DOC", "KO",
                                   "RTPLAN", "RTRECORD"})


@dataclass(frozen=True)
class ScannedImage:
    """The per-file values of one plain single-frame image (LPS mm, as in ``FileHeader``)."""

    path: str
    sop_class: str
    modality: str
    study_instance_uid: str
    series_instance_uid: str
    series_number: int | None
    instance_number: int | None
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...]
    samples_per_pixel: int
    rows: int
    columns: int
    patient_orientation: tuple[str, ...] = ()

    @property
    def template_key(self) -> tuple:
        """Files sharing this key share one series part and its descriptive header values:
        discovery's series key (UID, or study/number/folder without one), size, samples and
        the exact orientation."""
        series_key = self.series_instance_uid or (
            f"no-uid:{self.study_instance_uid}:{self.series_number}:"
            f"{os.path.dirname(self.path)}")
        return (series_key, self.rows, self.columns, self.samples_per_pixel, self.orientation)

    def header(self, template: FileHeader) -> FileHeader:
        """This file's ``FileHeader``: its own per-file values, the descriptive ones of
        ``template`` (the pydicom-read first file with the same ``template_key``)."""
        return dataclasses.replace(
            template, path=self.path, sop_class=self.sop_class, modality=self.modality,
            study_instance_uid=self.study_instance_uid,
            series_instance_uid=self.series_instance_uid, series_number=self.series_number,
            instance_number=self.instance_number, position=self.position,
            orientation=self.orientation, samples_per_pixel=self.samples_per_pixel,
            rows=self.rows, columns=self.columns, frames=1, frame_positions=(),
            patient_orientation=self.patient_orientation)


@lru_cache(maxsize=64)
def _is_image_class(sop_class: str) -> bool:
    return "Image Storage" in pydicom.uid.UID(sop_class).name


def _text(value: str | None) -> str:
    return "" if value is None else value.strip("\x00 ")


def _optional_int(value: str | None) -> int | None:
    text = _text(value)
    return int(text) if text else None  # ValueError on odd values: pydicom reads the file


def _numbers(value: str | None) -> tuple[float, ...]:
    text = _text(value)
    return tuple(float(v) for v in text.split("\\")) if text else ()


def _codes(value: str | None) -> tuple[str, ...]:
    text = _text(value)
    return tuple(v.strip() for v in text.split("\\")) if text else ()


def _image(path: str, values: dict[tuple[int, int], str | None]) -> ScannedImage | None:
    """The scanned values of ``path`` when it is a plain single-frame image, else None."""
    sop = _text(values[_SOP_CLASS])
    modality = _text(values[_MODALITY]).upper()
    if (not sop or not _is_image_class(sop) or modality in _NON_IMAGE_MODALITIES
            or values[_FRAMES] is not None or values[_ROWS] is None
            or "MOSAIC" in _text(values[_IMAGE_TYPE]).upper()
            or values[_COLUMNS] is None):
        return None
    try:
        position = _numbers(values[_POSITION])
        orientation = _numbers(values[_ORIENTATION])
        if (position and not usable_position(position)) or (
                orientation and not usable_orientation(orientation)):
            return None  # NaN, huge or parallel: pydicom reads it and notes why
        return ScannedImage(
            path=path, sop_class=sop, modality=_text(values[_MODALITY]) or "OT",
            study_instance_uid=_text(values[_STUDY_UID]),
            series_instance_uid=_text(values[_SERIES_UID]),
            series_number=_optional_int(values[_SERIES_NUMBER]),
            instance_number=_optional_int(values[_INSTANCE_NUMBER]),
            position=position if len(position) == 3 else None,  # type: ignore[arg-type]
            orientation=orientation if len(orientation) == 6 else (),
            samples_per_pixel=_optional_int(values[_SAMPLES]) or 1,
            rows=int(_text(values[_ROWS])), columns=int(_text(values[_COLUMNS])),
            patient_orientation=_codes(values[_PATIENT_ORIENTATION]),
        )
    except (ValueError, TypeError):
        return None


def _scanned_values(paths: Sequence[str], wanted: Sequence[tuple[int, int]],
                    ) -> dict[str, dict[tuple[int, int], str | None]]:
    """One GDCM scanner pass: {path: {tag: raw value or None}} for the files the scanner read
    (empty without python-gdcm). Never raises for a bad file."""
    if gdcm is None or not paths:
        return {}
    scanner = gdcm.Scanner()
    tags = [gdcm.Tag(*t) for t in wanted]
    for tag in tags:
        scanner.AddTag(tag)
    # A damaged length field makes GDCM allocate gigabytes: such files go to pydicom.
    names = [str(p) for p in paths if lengths_fit(str(p))]
    if not names:
        return {}
    try:
        scanner.Scan(names)
    except Exception:  # noqa: BLE001 - the pydicom path reads every file and says why
        return {}
    out: dict[str, dict[tuple[int, int], str | None]] = {}
    for path in names:
        try:
            if scanner.IsKey(path):
                out[path] = {t: scanner.GetValue(path, tag) for t, tag in zip(wanted, tags)}
        except Exception:  # noqa: BLE001 - e.g. undecodable text: pydicom reads this one
            continue
    return out


def scan(paths: Sequence[str]) -> dict[str, ScannedImage]:
    """Scanned values of the plain single-frame images among ``paths`` (one GDCM pass).

    Files missing from the answer (not DICOM, damaged, multi-frame, non-image, odd values, or
    python-gdcm absent) must be read with pydicom. Never raises for a bad file.
    """
    out: dict[str, ScannedImage] = {}
    for path, values in _scanned_values(paths, _TAGS).items():
        image = _image(path, values)
        if image is not None:
            out[path] = image
    return out


def instance_uids(paths: Sequence[str]) -> dict[str, str]:
    """SOPInstanceUID of each file among ``paths`` that GDCM's scanner reads (one pass, about
    0.03 ms a file against 0.45 ms for a pydicom header read); files missing from the answer
    (python-gdcm absent, damaged, no such tag) are for pydicom. Never raises for a bad file."""
    found = _scanned_values(paths, [_SOP_INSTANCE])
    return {path: uid for path, values in found.items() if (uid := _text(values[_SOP_INSTANCE]))}

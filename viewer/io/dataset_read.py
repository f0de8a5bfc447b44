"""Reading one file's header with pydicom, and saying in words what it is when it is not an
image (a DICOMDIR, a report, a parametric map, a damaged or cut-short file...).

``read_dataset`` returns a header-only dataset or raises ``UnreadableFile`` / ``NotAnImage``
with a reason a reader can act on; ``dataset_notes`` lists what was odd about the header.
"""
from __future__ import annotations

import os

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from viewer.io.warnings_capture import library_messages

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


class NotAnImage(Exception):
    """The file is readable DICOM but holds no image; ``args[0]`` is the reason for a reader."""


class UnreadableFile(Exception):
    """The file is not DICOM or is damaged; ``args[0]`` is the reason for a reader."""


def _missing(ds: Dataset, keywords: tuple[str, ...]) -> list[str]:
    out = []
    for kw in keywords:
        if kw not in ds:
            tag = pydicom.datadict.tag_for_keyword(kw)
            out.append(f"{kw} ({tag >> 16:04X},{tag & 0xFFFF:04X})")
    return out


def _file_ends_in_header(ds: Dataset) -> bool:
    """True when the data set's last element is before the image description group (0028)
    and the file ends right after it: the header was cut short."""
    keys = list(ds.keys())
    return bool(keys) and max(keys) < 0x00280000 and bool(getattr(ds, "_slicewise_at_eof", False))


def non_image_reason(ds: Dataset) -> str | None:
    """Why a readable DICOM object is not an image, or None when it is one."""
    sop = str(ds.get("SOPClassUID", "") or getattr(ds.get("file_meta", None),
                                                    "MediaStorageSOPClassUID", ""))
    name = pydicom.uid.UID(sop).name if sop else ""
    modality = str(ds.get("Modality", "")).upper()
    if sop == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        return "DICOMDIR index file: its images are read from the files it lists"
    if "Parametric Map" in name:
        return ("Parametric map (values such as an AI heat map over another series): shown as "
                "an overlay on the series it refers to")
    if "SR Storage" in name or modality == "SR":
        return "Structured report (text findings), not an image"
    if "RT Structure Set" in name or modality == "RTSTRUCT":
        return "RT structure set (contours drawn on another series), not an image"
    if "Presentation State" in name or modality == "PR":
        return "Presentation state (display settings for other images), not an image"
    if "Waveform" in name or modality in ("ECG", "HD", "AU"):
        return "Waveform (ECG, audio or other signal), not an image"
    if "Encapsulated PDF" in name or modality == "DOC":
        return "Encapsulated PDF document, not an image"
    if "Key Object Selection" in name or modality == "KO":
        return "Key-image note (a list of other images), not an image"
    if "RT Plan" in name or "Treatment Record" in name or modality in ("RTPLAN", "RTRECORD"):
        return "Radiotherapy plan or treatment record, not an image"
    missing = _missing(ds, ("Rows", "Columns"))
    if missing:
        pixel_keywords = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
        has_pixels = any(kw in ds for kw in pixel_keywords) or bool(
            getattr(ds, "_slicewise_has_pixels", False))
        if _file_ends_in_header(ds):
            size = getattr(ds, "_slicewise_size", 0)
            return (f"Damaged or incomplete DICOM file: it ends after {size} bytes, before the "
                    f"image description (no {' or '.join(missing)}); it may have been cut "
                    "short while copying")
        if not has_pixels and name and "Image Storage" not in name:
            return f"A DICOM object without image data ({name.replace(' Storage', '')})"
        if not has_pixels and not sop:
            return ("A DICOM object without image data (no SOP Class UID, no Rows, Columns "
                    "or pixel data)")
        return (f"Image header incomplete: missing {' and '.join(missing)}, so the image "
                "size is unknown")
    return None


def _looks_like_dicom_without_preamble(path: str) -> bool:
    """True when the file starts with a plausible little-endian group 0002/0008 element."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    if len(head) < 4:
        return False
    group = int.from_bytes(head[:2], "little")
    return group in (0x0002, 0x0008)


_ENCODINGS = {(True, True): "implicit VR little endian", (False, True): "explicit VR little endian",
              (False, False): "explicit VR big endian", (True, False): "implicit VR big endian"}


def _syntax_notes(ds: Dataset) -> list[str]:
    """Notes on a missing or unusable Transfer Syntax UID (the encoding pydicom guessed)."""
    meta = getattr(ds, "file_meta", None)
    guessed = _ENCODINGS.get(tuple(ds.original_encoding), "an encoding guessed from the data")
    if meta is None or len(meta) == 0:
        return [f"no DICOM file meta (preamble and group 0002); read as {guessed}"]
    ts = str(meta.get("TransferSyntaxUID", "") or "").strip("\x00 ")
    if not ts:
        return [f"no transfer syntax in the file meta; read as {guessed}"]
    uid = pydicom.uid.UID(ts)
    if not uid.is_transfer_syntax:
        what = f"{uid.name} is not a transfer syntax" if uid.name != ts else "unknown"
        return [f"transfer syntax {ts} in the file meta is {what}; read as {guessed}"]
    return []


def read_dataset(path: str) -> Dataset:
    """Header-only pydicom read (pixel data not loaded). ``force`` only for files that look
    like DICOM without the 128-byte preamble. Raises ``UnreadableFile`` with a reason.
    Library warnings and transfer syntax problems are kept in ``ds._slicewise_notes``."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise UnreadableFile(f"Cannot open the file ({exc.strerror or exc})") from exc
    if size == 0:
        raise UnreadableFile("Empty file (0 bytes)")
    notes: list[str] = []
    with library_messages(notes) as caught:
        try:
            ds, at = _read(path, force=False)
        except InvalidDicomError:
            if not _looks_like_dicom_without_preamble(path):
                raise UnreadableFile("Not a DICOM file") from None
            try:
                ds, at = _read(path, force=True)
            except MemoryError as exc:
                raise UnreadableFile(f"Damaged DICOM file: an element claims more bytes than "
                                     f"can be read (the file has {size} bytes)") from exc
            except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged file
                raise UnreadableFile(_damaged(exc, caught)) from exc
        except UnreadableFile:
            raise
        except MemoryError as exc:  # a length field claims gigabytes
            raise UnreadableFile(f"Damaged DICOM file: an element claims more bytes than can "
                                 f"be read (the file has {size} bytes)") from exc
        except Exception as exc:  # noqa: BLE001
            raise UnreadableFile(_damaged(exc, caught)) from exc
        syntax = _syntax_notes(ds)  # reads file meta values: inside the capture
    ds._slicewise_at_eof = at >= size  # type: ignore[attr-defined]
    ds._slicewise_size = size  # type: ignore[attr-defined]
    ds._slicewise_has_pixels = at < size  # type: ignore[attr-defined]
    ds._slicewise_notes = syntax + notes  # type: ignore[attr-defined]
    return ds


def _read(path: str, force: bool) -> tuple[Dataset, int]:
    """(header-only data set, file offset where reading stopped: the pixel data or the end)."""
    with open(path, "rb") as fh:
        # Values over 1 MB are read when used: a damaged length field must not allocate GBs.
        ds = pydicom.dcmread(fh, stop_before_pixels=True, force=force, defer_size="1 MB")
        return ds, fh.tell()


def _damaged(exc: BaseException, notes: list[str]) -> str:
    text = " ".join(str(exc).split())[:160] or type(exc).__name__
    extra = f"; {notes[0]}" if notes else ""
    return f"Damaged DICOM file: the header could not be read ({text}){extra}"


def dataset_notes(ds: Dataset) -> list[str]:
    """The notes ``read_dataset`` attached to ``ds`` (empty for other data sets)."""
    return list(getattr(ds, "_slicewise_notes", ()))

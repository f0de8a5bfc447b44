"""DICOM header as rows for the tag browser (header-only read, sequences flattened)."""
from __future__ import annotations

from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset

from viewer.io.dataset_read import UnreadableFile, read_dataset
from viewer.io.errors import DicomLoadError
from viewer.io.warnings_capture import library_messages

#: Longest value text shown in a row; longer values end with an ellipsis and their length.
MAX_VALUE_CHARS = 120
#: Multi-valued elements show at most this many values.
MAX_VALUES = 16

#: Keywords that identify a person (PS3.15 basic profile, the usual subset).
IDENTIFYING_KEYWORDS = frozenset({
    "PatientName", "PatientID", "PatientBirthDate", "PatientBirthTime", "PatientSex",
    "PatientAge", "PatientAddress", "PatientTelephoneNumbers", "PatientMotherBirthName",
    "OtherPatientIDs", "OtherPatientNames", "OtherPatientIDsSequence", "PatientBirthName",
    "IssuerOfPatientID", "MedicalRecordLocator", "EthnicGroup", "PatientComments",
    "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName",
    "NameOfPhysiciansReadingStudy", "PhysiciansOfRecord", "RequestingPhysician",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "StationName",
    "AccessionNumber", "StudyID", "MilitaryRank", "BranchOfService", "Occupation",
    "AdditionalPatientHistory", "PatientInsurancePlanCodeSequence", "CountryOfResidence",
    "RegionOfResidence", "PatientWeight", "PatientSize", "DeviceSerialNumber",
    "RequestAttributesSequence", "ResponsiblePerson", "ResponsibleOrganization",
})


@dataclass(frozen=True)
class TagRow:
    """One header element: ``tag`` as ``"(0010,0010)"``, ``keyword`` (or the private creator /
    ``"Unknown"``), ``vr``, ``value`` as text (truncated), ``depth`` of sequence nesting (0 at the
    top), ``is_identifying`` for patient name, ID, birth date and other personal data."""

    tag: str
    keyword: str
    vr: str
    value: str
    depth: int
    is_identifying: bool


def _value_text(elem: pydicom.DataElement) -> str:
    if elem.VR == "SQ":
        n = len(elem.value)
        return f"{n} item{'s' if n != 1 else ''}"
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if elem.VM > 1 and isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        items = [str(v) for v in list(value)[:MAX_VALUES]]
        text = "\\".join(items) + ("\\..." if elem.VM > MAX_VALUES else "")
    else:
        text = "" if value is None else str(value)
        if elem.VR == "UI" and text:
            name = pydicom.uid.UID(text).name
            if name and name != text:
                text = f"{text} ({name})"
    text = text.replace("\r", " ").replace("\n", " ")
    if len(text) > MAX_VALUE_CHARS:
        text = f"{text[:MAX_VALUE_CHARS - 1]}… ({len(text)} characters)"
    return text


def _unreadable_row(ds: Dataset, tag: int, exc: Exception, depth: int,
                    identifying: bool) -> TagRow:
    """A row for an element pydicom cannot convert: its tag, declared VR and length, and why."""
    try:
        raw = ds.get_item(tag)
    except Exception:  # noqa: BLE001 - even the raw element is unusable
        raw = None
    vr = str(getattr(raw, "VR", "") or "")
    length = getattr(raw, "length", None)
    keyword = pydicom.datadict.keyword_for_tag(tag) or "Unknown"
    why = " ".join(str(exc).split())[:80] or type(exc).__name__
    size = f"{length} bytes, " if isinstance(length, int) else ""
    return TagRow(f"({tag >> 16:04X},{tag & 0xFFFF:04X})", keyword, vr,
                  f"<unreadable value: {size}{why}>", depth, identifying)


def _rows(ds: Dataset, depth: int, identifying_parent: bool, out: list[TagRow]) -> None:
    for tag in list(ds.keys()):
        try:
            elem = ds[tag]
        except Exception as exc:  # noqa: BLE001 - malformed element: show it, keep going
            keyword = pydicom.datadict.keyword_for_tag(tag)
            out.append(_unreadable_row(ds, tag, exc, depth,
                                       identifying_parent or keyword in IDENTIFYING_KEYWORDS))
            continue
        keyword = elem.keyword or (elem.name if elem.is_private else "Unknown")
        identifying = identifying_parent or elem.keyword in IDENTIFYING_KEYWORDS
        try:
            value = _value_text(elem)
        except Exception as exc:  # noqa: BLE001 - e.g. undecodable text, odd multi-values
            value = f"<unreadable value: {' '.join(str(exc).split())[:80]}>"
        out.append(TagRow(
            tag=f"({elem.tag.group:04X},{elem.tag.element:04X})",
            keyword=keyword,
            vr=str(elem.VR),
            value=value,
            depth=depth,
            is_identifying=identifying,
        ))
        if elem.VR == "SQ" and isinstance(elem.value, (list, pydicom.Sequence)):
            for index, item in enumerate(elem.value):
                out.append(TagRow("(FFFE,E000)", f"Item {index + 1}", "", "", depth + 1,
                                  identifying))
                _rows(item, depth + 2, identifying, out)


def read_tags(path: str, frame: int | None = None) -> list[TagRow]:
    """The header of ``path`` as rows: file meta first, then the data set in tag order.

    Header-only read (pixel data is not loaded). For an enhanced multi-frame file, ``frame``
    (0-based) limits the per-frame functional groups to that frame's item.
    Raises ``DicomLoadError`` when the file cannot be read as DICOM.
    """
    try:
        ds = read_dataset(str(path))
    except UnreadableFile as exc:
        raise DicomLoadError(str(path), str(exc.args[0])) from exc
    rows: list[TagRow] = []
    # Conversion warnings (odd values) are logged by library_messages; the rows show values.
    with library_messages():
        if getattr(ds, "file_meta", None) is not None:
            _rows(ds.file_meta, 0, False, rows)
        if frame is not None and "PerFrameFunctionalGroupsSequence" in ds:
            try:
                groups = ds.PerFrameFunctionalGroupsSequence
            except Exception as exc:  # noqa: BLE001 - malformed sequence
                raise DicomLoadError(str(path), "the per-frame functional groups cannot be "
                                                f"read ({type(exc).__name__})") from exc
            if not 0 <= frame < len(groups):
                raise DicomLoadError(str(path), f"frame {frame + 1} does not exist "
                                                f"(the file has {len(groups)} frames)")
            ds = ds.copy()
            ds.PerFrameFunctionalGroupsSequence = pydicom.Sequence([groups[frame]])
        _rows(ds, 0, False, rows)
    return rows

"""DICOM header as rows for the tag browser (header-only read, sequences flattened)."""
from __future__ import annotations

from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset

from viewer.io.errors import DicomLoadError
from viewer.io.headers import UnreadableFile, read_dataset

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


def _rows(ds: Dataset, depth: int, identifying_parent: bool, out: list[TagRow]) -> None:
    for elem in ds:
        keyword = elem.keyword or (elem.name if elem.is_private else "Unknown")
        identifying = identifying_parent or elem.keyword in IDENTIFYING_KEYWORDS
        out.append(TagRow(
            tag=f"({elem.tag.group:04X},{elem.tag.element:04X})",
            keyword=keyword,
            vr=str(elem.VR),
            value=_value_text(elem),
            depth=depth,
            is_identifying=identifying,
        ))
        if elem.VR == "SQ":
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
    if getattr(ds, "file_meta", None) is not None:
        _rows(ds.file_meta, 0, False, rows)
    if frame is not None and "PerFrameFunctionalGroupsSequence" in ds:
        groups = ds.PerFrameFunctionalGroupsSequence
        if not 0 <= frame < len(groups):
            raise DicomLoadError(str(path), f"frame {frame + 1} does not exist "
                                            f"(the file has {len(groups)} frames)")
        ds = ds.copy()
        ds.PerFrameFunctionalGroupsSequence = pydicom.Sequence([groups[frame]])
    _rows(ds, 0, False, rows)
    return rows

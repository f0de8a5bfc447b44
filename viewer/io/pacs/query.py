"""Study and series queries (the filters of the search form and of ``slicewise pacs find``) and
the records a search returns, shared by the DICOMweb and DIMSE clients.

Matching follows what Weasis and OHIF do: a patient name without wildcard matches as a prefix
(``DOE`` finds ``Doe^Jane``; names are case-insensitive on most servers), a description matches
anywhere (``*text*``), IDs, accession numbers and UIDs match exactly, dates are DICOM ranges.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.dataset import Dataset

from viewer.io.records import PatientInfo

_DATE = r"(\d{4}-?\d{2}-?\d{2})"
_RANGE = re.compile(rf"^{_DATE}?(-{_DATE}?)?$")
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def parse_date_range(text: str) -> str:
    """A DICOM date range (``YYYYMMDD-YYYYMMDD``, open ends allowed) from ``FROM-TO`` written
    as ``20240101-20241231``, ``2024-01-01-2024-12-31``, ``20240101-`` or a single date."""
    text = text.strip()
    if not text:
        return ""
    m = _RANGE.match(text)
    if not m or (m.group(1) is None and m.group(3) is None):
        raise ValueError(f"expected a date or range FROM-TO (YYYYMMDD or YYYY-MM-DD), "
                         f"not {text!r}")
    lo, dash, hi = (m.group(1) or "").replace("-", ""), m.group(2), (m.group(3) or "").replace("-", "")
    return f"{lo}-{hi}" if dash else lo


def is_uid(text: str) -> bool:
    """Whether ``text`` is a DICOM UID (digits and dots, at most 64 characters)."""
    return bool(text) and len(text) <= 64 and bool(_UID.match(text))


@dataclass(frozen=True)
class StudyQuery:
    """Search filters; empty ones are not sent. ``date``: a DICOM range (see
    :func:`parse_date_range`); ``modality`` e.g. ``MR``."""

    patient_name: str = ""
    patient_id: str = ""
    date: str = ""
    modality: str = ""
    accession: str = ""
    description: str = ""
    study_uid: str = ""
    series_uid: str = ""

    def study_filters(self) -> dict[str, str]:
        """Study-level matching keys by DICOM keyword."""
        keys: dict[str, str] = {}
        if self.patient_name:
            name = self.patient_name.strip()
            keys["PatientName"] = name if any(c in name for c in "*?") else name + "*"
        if self.patient_id:
            keys["PatientID"] = self.patient_id.strip()
        if self.date:
            keys["StudyDate"] = parse_date_range(self.date)
        if self.modality:
            keys["ModalitiesInStudy"] = self.modality.strip().upper()
        if self.accession:
            keys["AccessionNumber"] = self.accession.strip()
        if self.description:
            text = self.description.strip()
            keys["StudyDescription"] = text if any(c in text for c in "*?") else f"*{text}*"
        if self.study_uid:
            keys["StudyInstanceUID"] = self.study_uid.strip()
        return keys

    def series_filters(self) -> dict[str, str]:
        """Series-level matching keys (modality and series UID)."""
        keys: dict[str, str] = {}
        if self.modality:
            keys["Modality"] = self.modality.strip().upper()
        if self.series_uid:
            keys["SeriesInstanceUID"] = self.series_uid.strip()
        return keys


STUDY_RETURN_KEYS = ("StudyInstanceUID", "PatientName", "PatientID", "PatientBirthDate",
                     "PatientSex", "StudyDate", "StudyTime", "StudyDescription",
                     "AccessionNumber", "ModalitiesInStudy", "NumberOfStudyRelatedSeries",
                     "NumberOfStudyRelatedInstances")
SERIES_RETURN_KEYS = ("StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber",
                      "SeriesDescription", "NumberOfSeriesRelatedInstances", "BodyPartExamined")


@dataclass(frozen=True)
class StudyRecord:
    """One study found on a server. ``patient`` is hidden by the anonymised display."""

    study_uid: str
    patient: PatientInfo
    date: str
    time: str
    description: str
    accession: str
    modalities: tuple[str, ...]
    n_series: int | None
    n_instances: int | None

    def as_dict(self, anonymise: bool = False) -> dict:
        p = self.patient
        hide = (lambda v: "" if anonymise else v)
        return {"study_uid": self.study_uid, "patient_name": hide(p.name),
                "patient_id": hide(p.patient_id), "birth_date": hide(p.birth_date),
                "sex": p.sex, "date": self.date, "time": self.time,
                "description": self.description, "accession": hide(self.accession),
                "modalities": list(self.modalities), "series": self.n_series,
                "instances": self.n_instances}


@dataclass(frozen=True)
class SeriesRecord:
    """One series of a study on a server; ``n_instances`` None when the server did not say."""

    study_uid: str
    series_uid: str
    modality: str
    number: int | None
    description: str
    n_instances: int | None

    def as_dict(self) -> dict:
        return {"study_uid": self.study_uid, "series_uid": self.series_uid,
                "modality": self.modality, "number": self.number,
                "description": self.description, "instances": self.n_instances}


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword, None)
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def study_record(ds: Dataset) -> StudyRecord:
    """A :class:`StudyRecord` from a C-FIND answer or a QIDO-RS result (as a Dataset)."""
    mods = ds.get("ModalitiesInStudy", "") or ""
    modalities = tuple(str(m) for m in (mods if not isinstance(mods, str) else mods.split("\\"))
                       if str(m))
    patient = PatientInfo(name=_text(ds, "PatientName"), patient_id=_text(ds, "PatientID"),
                          birth_date=_text(ds, "PatientBirthDate"), sex=_text(ds, "PatientSex"))
    return StudyRecord(_text(ds, "StudyInstanceUID"), patient, _text(ds, "StudyDate"),
                       _text(ds, "StudyTime"), _text(ds, "StudyDescription"),
                       _text(ds, "AccessionNumber"), modalities,
                       _int(ds, "NumberOfStudyRelatedSeries"),
                       _int(ds, "NumberOfStudyRelatedInstances"))


def series_record(ds: Dataset, study_uid: str = "") -> SeriesRecord:
    """A :class:`SeriesRecord` from a C-FIND answer or a QIDO-RS result (as a Dataset)."""
    return SeriesRecord(_text(ds, "StudyInstanceUID") or study_uid,
                        _text(ds, "SeriesInstanceUID"), _text(ds, "Modality"),
                        _int(ds, "SeriesNumber"), _text(ds, "SeriesDescription"),
                        _int(ds, "NumberOfSeriesRelatedInstances"))


def sort_studies(studies: list[StudyRecord]) -> list[StudyRecord]:
    """Newest first (date, time), as PACS browsers list them."""
    return sorted(studies, key=lambda s: (s.date, s.time, s.study_uid), reverse=True)


def sort_series(series: list[SeriesRecord]) -> list[SeriesRecord]:
    """By series number (unnumbered last), then description."""
    return sorted(series, key=lambda s: (s.number is None, s.number or 0, s.description))

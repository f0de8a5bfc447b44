"""What every AI result object shares: the algorithm's identity, private codes, source datasets.

Qt-free, torch-free and ``inference``-free: callers turn their model records into
:class:`AlgorithmInfo` and pass the source series' datasets (one per slice, in the slice order
of the maps: ``(z, y, x)``) or their files.

Codes: concepts DICOM has no standard code for (class activation, a model's classes, SliceWise's
findings) use the private coding scheme :data:`SCHEME` ("99SLW"; "99" marks a local scheme in
DICOM PS3.16 8.2), declared in each object's Coding Scheme Identification Sequence.
"""
from __future__ import annotations

__all__ = ["AlgorithmInfo", "DicomResultError", "SCHEME", "read_sources"]

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset

from viewer.io.results.errors import MISSING_HIGHDICOM, DicomResultError

try:
    import highdicom as hd
except ImportError as exc:  # the optional [pacs] extra is not installed
    raise DicomResultError("", MISSING_HIGHDICOM) from exc

SCHEME = "99SLW"
SCHEME_NAME = "SliceWise local codes"
MANUFACTURER = "SliceWise"
NOT_FOR_DIAGNOSIS = "NOT FOR DIAGNOSIS: demo weights trained on synthetic phantoms"

#: The real-world quantity of a heat map: how strongly a region raised the class score.
CLASS_ACTIVATION = hd.sr.CodedConcept("CAM", SCHEME, "Class activation")
#: Unitless (UCUM "1").
NO_UNITS = hd.sr.CodedConcept("1", "UCUM", "no units")
METHOD_NAMES = {"gradcam": "Grad-CAM", "hirescam": "HiResCAM", "occlusion": "Occlusion"}

# Type 2 attributes of the patient and study modules that highdicom copies from the source
# images; files from some tools (and SliceWise's own synthetic series) leave them out.
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
          "ReferringPhysicianName", "StudyID", "AccessionNumber")


@dataclass(frozen=True)
class AlgorithmInfo:
    """The classifier that made a result: ``name`` and ``version`` (its manifest),
    ``sha256`` (hex digest of its weights file), ``demo`` (demo weights: not for diagnosis)."""

    name: str
    version: str
    sha256: str = ""
    demo: bool = False

    @property
    def label(self) -> str:
        """"tumour 1.0 (demo weights)"."""
        return f"{self.name} {self.version}" + (" (demo weights)" if self.demo else "")

    def parameters(self, **extra: str) -> dict[str, str]:
        """Algorithm parameters for Algorithm Identification items (values as text)."""
        out = {"weights sha256": self.sha256 or "unknown",
               "demo weights": "yes, not for diagnosis" if self.demo else "no"}
        out.update({k: v for k, v in extra.items() if v})
        return out

    def software_versions(self) -> list[str]:
        """SoftwareVersions values (LO, at most 64 characters each): SliceWise and the model.
        (The weights' sha256, 64 hex digits, goes into Device Serial Number: as a value of a
        multi-valued LO it could be padded to 65 characters.)"""
        from viewer import __version__

        return [f"SliceWise {__version__}", f"{self.name} {self.version}"[:63]]

    def statement(self, what: str) -> str:
        """One sentence for Image Comments / Derivation Description."""
        text = (f"{what} by the {self.name} classifier version {self.version} (SliceWise; "
                f"weights sha256 {self.sha256 or 'unknown'}).")
        return text + (" " + NOT_FOR_DIAGNOSIS + "." if self.demo else "")


def local_code(value: str, meaning: str) -> hd.sr.CodedConcept:
    """A concept of :data:`SCHEME`; ``value`` is made a valid code value (SH: 16 characters)."""
    clean = re.sub(r"[^A-Za-z0-9_.-]", "-", value).upper()[:16] or "X"
    return hd.sr.CodedConcept(clean, SCHEME, meaning[:64])


def class_code(name: str) -> hd.sr.CodedConcept:
    """The concept of a model's class ("tumour" -> 99SLW CLS-TUMOUR "tumour")."""
    return local_code(f"CLS-{name}", name)


def declare_scheme(ds: Dataset) -> None:
    """Adds :data:`SCHEME` to the object's Coding Scheme Identification Sequence."""
    item = Dataset()
    item.CodingSchemeDesignator = SCHEME
    item.CodingSchemeName = SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = MANUFACTURER
    seq = list(ds.get("CodingSchemeIdentificationSequence", []))
    if not any(getattr(i, "CodingSchemeDesignator", "") == SCHEME for i in seq):
        seq.append(item)
    ds.CodingSchemeIdentificationSequence = seq


def complete_source(ds: Dataset) -> Dataset:
    """``ds`` with the Type 2 patient/study attributes highdicom copies filled in (empty) when
    missing; changes only this in-memory dataset, never a file."""
    for keyword in _TYPE2:
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds


def read_sources(files: Sequence[str | os.PathLike[str]], pixels: bool = False) -> list[Dataset]:
    """Datasets of the source series' files, in the given (slice) order; repeated paths (the
    slices of one multi-frame file) are read once. ``pixels`` False reads headers only."""
    out: list[Dataset] = []
    seen: set[str] = set()
    for f in files:
        key = os.path.realpath(f)
        if key in seen:
            continue
        seen.add(key)
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=not pixels)
        except Exception as exc:  # noqa: BLE001 - one message for every way a read fails
            raise DicomResultError(str(f), f"cannot read the source image ({exc})") from exc
        out.append(complete_source(ds))
    return out


def check_frames(sources: Sequence[Dataset], n_slices: int) -> None:
    """Raises when ``sources`` are not one single-frame image per slice, or one multi-frame
    image whose frames are the slices."""
    if not sources:
        raise DicomResultError("", "no source images given")
    if len(sources) == 1 and int(sources[0].get("NumberOfFrames", 1) or 1) == n_slices:
        return
    if len(sources) == n_slices and all(int(s.get("NumberOfFrames", 1) or 1) == 1 for s in sources):
        return
    raise DicomResultError(str(getattr(sources[0], "filename", "")),
                           f"{len(sources)} source images for {n_slices} map slices: give one "
                           "single-frame image per slice, or one multi-frame image")


def method_name(method: str) -> str:
    """"gradcam" -> "Grad-CAM" (unknown names as given)."""
    return METHOD_NAMES.get(method, method)

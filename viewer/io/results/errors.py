"""The error of the DICOM result objects (no highdicom needed to import it)."""
from __future__ import annotations

from viewer.io.errors import DicomLoadError


class DicomResultError(DicomLoadError):
    """A result object could not be written or read back; ``reason`` says why in words."""


MISSING_HIGHDICOM = ("writing DICOM results needs the highdicom package; install SliceWise with "
                     "its PACS extra: pip install 'slicewise[pacs]'")

"""The local retrieve cache: ``<root>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``.

Every file is written under a temporary name and renamed once complete, so a file with the
final name is always a whole instance: what is present after an interrupted retrieve is usable
and a second retrieve fetches only the SOP instance UIDs that are missing. UIDs from a server are
checked (digits and dots) before they become folder or file names.
"""
from __future__ import annotations

import os
import threading
from io import BytesIO
from pathlib import Path

from pydicom.dataset import FileMetaDataset
from pydicom.filewriter import write_file_meta_info

from viewer.io.pacs.errors import PacsError
from viewer.io.pacs.query import is_uid

SUFFIX = ".dcm"
PARTIAL = ".part"


def default_cache_dir() -> Path:
    """``$SLICEWISE_PACS_CACHE`` or ``<user cache dir>/SliceWise/pacs``."""
    env = os.environ.get("SLICEWISE_PACS_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("SliceWise", appauthor=False)) / "pacs"


def _checked(uid: str, what: str) -> str:
    uid = uid.strip().rstrip("\0")
    if not is_uid(uid):
        raise PacsError(f"The server sent an invalid {what} ({uid[:70]!r}); it was not saved.")
    return uid


class RetrieveCache:
    """Folders of retrieved instances under ``root`` (default :func:`default_cache_dir`)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self._made: set[Path] = set()

    def study_dir(self, study_uid: str) -> Path:
        return self.root / _checked(study_uid, "study UID")

    def series_dir(self, study_uid: str, series_uid: str) -> Path:
        return self.study_dir(study_uid) / _checked(series_uid, "series UID")

    def present(self, study_uid: str, series_uid: str) -> set[str]:
        """SOP instance UIDs of the complete files of a series already in the cache."""
        folder = self.series_dir(study_uid, series_uid)
        if not folder.is_dir():
            return set()
        return {p.name[:-len(SUFFIX)] for p in os.scandir(folder)
                if p.name.endswith(SUFFIX) and p.is_file()}

    def path(self, study_uid: str, series_uid: str, sop_uid: str) -> Path:
        return self.series_dir(study_uid, series_uid) / (_checked(sop_uid, "SOP instance UID")
                                                         + SUFFIX)

    def write_file(self, study_uid: str, series_uid: str, sop_uid: str, data: bytes) -> Path:
        """Store one whole Part-10 file (bytes as the server sent them); returns its path."""
        folder = self.series_dir(study_uid, series_uid)
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        name = _checked(sop_uid, "SOP instance UID") + SUFFIX
        final = os.path.join(folder, name)
        tmp = f"{final}.{os.getpid()}.{threading.get_ident()}{PARTIAL}"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, final)
        return folder / name

    def write_dataset_bytes(self, study_uid: str, series_uid: str, sop_uid: str,
                            file_meta: FileMetaDataset, dataset: bytes) -> Path:
        """Store an instance received by C-STORE: file meta + the encoded data set as it came
        over the network (no decoding, no re-encoding)."""
        head = BytesIO()
        head.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(head, file_meta, enforce_standard=True)
        return self.write_file(study_uid, series_uid, sop_uid, head.getvalue() + dataset)

    def clean_partials(self, study_uid: str, series_uid: str) -> None:
        """Remove temporary files an interrupted retrieve left behind."""
        folder = self.series_dir(study_uid, series_uid)
        if folder.is_dir():
            for p in folder.glob(f"*{PARTIAL}"):
                p.unlink(missing_ok=True)

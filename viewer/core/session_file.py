"""Per-study session files: what a reader measured on a series, restored when it is reopened.

Files live in the per-user data folder (``$SLICEWISE_DATA_DIR`` or the platform's, see
:func:`viewer.core.sample_study.data_dir`), never inside the DICOM folder (often read-only, shared or
on a PACS export):  ``<data dir>/sessions/<StudyInstanceUID>/<SeriesInstanceUID>.json``.
A series without a study UID goes under ``sessions/no-study/``. No Qt here.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from viewer.core.measurements import Measurement

SESSION_VERSION = 1


class SessionFileError(Exception):
    """A session file exists but cannot be read; the message names the file."""


@dataclass(frozen=True)
class Session:
    """What is saved per series: measurements, layout name, crosshair (LPS mm), window."""

    study_uid: str
    series_uid: str
    measurements: tuple[Measurement, ...] = ()
    layout: str = ""
    crosshair_mm: tuple[float, float, float] | None = None
    window: tuple[float, float] | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        return {"version": SESSION_VERSION, "study_instance_uid": self.study_uid,
                "series_uid": self.series_uid, "layout": self.layout,
                "crosshair_mm": list(self.crosshair_mm) if self.crosshair_mm else None,
                "window": list(self.window) if self.window else None,
                "measurements": [m.to_json() for m in self.measurements], **self.extra}


def _safe(uid: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]", "_", uid)[:128] or "unknown"


def sessions_dir() -> Path:
    """``<per-user data dir>/sessions``."""
    from viewer.core.sample_study import data_dir

    return data_dir() / "sessions"


def session_path(study_uid: str, series_uid: str, root: Path | None = None) -> Path:
    """Where the session of a series is kept (the file may not exist)."""
    base = Path(root) if root is not None else sessions_dir()
    return base / (_safe(study_uid) if study_uid else "no-study") / f"{_safe(series_uid)}.json"


def save_session(session: Session, root: Path | None = None) -> Path:
    """Write ``session`` atomically and return the file; an empty session removes the file."""
    path = session_path(session.study_uid, session.series_uid, root)
    if not session.measurements and not session.layout and session.crosshair_mm is None:
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(session.to_json(), indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_session(study_uid: str, series_uid: str, root: Path | None = None) -> Session | None:
    """The saved session of a series, None when there is none.

    Raises :class:`SessionFileError` when the file is damaged (it is left in place).
    """
    path = session_path(study_uid, series_uid, root)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        measurements = tuple(Measurement.from_json(m) for m in data.get("measurements", []))
        cross = data.get("crosshair_mm")
        window = data.get("window")
        return Session(str(data.get("study_instance_uid", study_uid)),
                       str(data.get("series_uid", series_uid)), measurements,
                       str(data.get("layout") or ""),
                       tuple(float(c) for c in cross) if cross else None,  # type: ignore[arg-type]
                       tuple(float(c) for c in window) if window else None)  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SessionFileError(f"The saved measurements in {path} could not be read "
                               f"({exc}); the series opens without them.") from exc

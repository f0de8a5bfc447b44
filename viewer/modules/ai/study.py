"""Study-level helpers for the classifiers that need no Qt and no torch.

* ``header_contrast``: the MR contrast a SeriesDescription names (T1 / T1 post-contrast / T2 /
  T2-FLAIR), for flagging disagreement with the contrast model.
* ``knee_planes``: which series of a study are its sagittal, coronal and axial knee series.
* ``sample_truth``: the ground-truth lesion mask of a series of SliceWise's own synthetic sample
  study, kept beside its DICOM files when it was written (DICOM carries no mask).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from viewer.core.sample_study import TRUTH_FILE, sample_study_dir
from viewer.core.sample_study import sample_truth as read_truth
from viewer.io.records import SeriesInfo, Volume

KNEE_PLANES = ("sagittal", "coronal", "axial")

_FLAIR = re.compile(r"flair|\bdark[ -]?fluid|\btirm\b", re.I)
_T2 = re.compile(r"\bt2(?!\*)|t2w|\bt2[-_ ]?(tse|fse|weighted)", re.I)
_T1 = re.compile(r"\bt1|t1w|mprage|\bspgr\b|\bvibe\b", re.I)
_POST = re.compile(r"\+\s*c\b|\bpost\b|contrast|\bgad|\bgd\b|\bce\b|t1c\b|enhanc", re.I)
_PRE = re.compile(r"\bpre\b|non[- ]?contrast|without contrast|native", re.I)


def header_contrast(description: str) -> str:
    """The contrast named by a series description, "" when it names none.

    "AX T2 FLAIR" -> "T2-FLAIR"; "T1 post-contrast" / "T1+C" / "MPRAGE GAD" -> "T1 post-contrast";
    "T1 SE" -> "T1"; "T2 TSE" -> "T2".
    """
    text = description or ""
    if _FLAIR.search(text):
        return "T2-FLAIR"
    t1 = bool(_T1.search(text))
    t2 = bool(_T2.search(text))
    if t1 and not t2:
        return "T1 post-contrast" if _POST.search(text) and not _PRE.search(text) else "T1"
    if t2 and not t1:
        return "T2"
    return ""


def contrast_disagrees(header: str, model_label: str) -> bool:
    """True when the header names a contrast and the model called another one."""
    return bool(header) and header != model_label


def is_knee_study(series: Sequence[SeriesInfo]) -> bool:
    """A study whose MR series or study description mention the knee."""
    return any(s.modality.upper() == "MR" and "knee" in f"{s.description} {s.study_description}".lower()
               for s in series)


def knee_planes(series: Sequence[SeriesInfo]) -> dict[str, SeriesInfo]:
    """{plane: series} for the MR series of a study by orientation (ImageOrientationPatient);
    the first series (lowest series number) wins when a plane has several."""
    out: dict[str, SeriesInfo] = {}
    ordered = sorted(series, key=lambda s: (s.series_number is None, s.series_number or 0))
    for s in ordered:
        if s.modality.upper() == "MR" and s.orientation in KNEE_PLANES and s.orientation not in out:
            out[s.orientation] = s
    return out


def sample_truth(volume: Volume) -> np.ndarray | None:
    """Bool lesion mask (z, y, x) when ``volume`` is a series of SliceWise's sample study, else None.

    The sample study keeps its phantoms' masks beside the DICOM files
    (:data:`viewer.core.sample_study.TRUTH_FILE`, by SeriesInstanceUID); they are looked up in the
    study folder the series was loaded from, then in the data folder's sample study. A mask whose
    shape differs from the volume's is not used.
    """
    roots = [Path(volume.slice_files[0]).parent.parent] if volume.slice_files else []
    roots.append(sample_study_dir())
    for root in roots:
        if (root / TRUTH_FILE).is_file():
            mask = read_truth(volume.series_uid, root)
            if mask is not None:
                return mask if mask.shape == volume.shape else None
    return None

"""Study-level helpers for the classifiers that need no Qt and no torch.

* ``header_contrast``: the MR contrast a SeriesDescription names (T1 / T1 post-contrast / T2 /
  T2-FLAIR), for flagging disagreement with the contrast model.
* ``knee_planes``: which series of a study are its sagittal, coronal and axial knee series.
* ``sample_truth``: the ground-truth tumour mask of SliceWise's own synthetic sample study,
  regenerated from the phantom and checked against the loaded pixels (DICOM carries no mask).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from viewer.io.records import SeriesInfo, Volume

KNEE_PLANES = ("sagittal", "coronal", "axial")
MATCH = 0.9999

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
    """Bool tumour mask (z, y, x) when ``volume`` is the sample study's brain MR series, else None.

    The sample study is written from ``inference.phantoms.brain_mr_volume`` (numpy only); the mask
    is regenerated with the same parameters and used only if the regenerated image matches the
    loaded pixels (correlation > 0.9999 on the lesion's largest slice and the middle one; a
    neighbouring slice scores about 0.998), so a changed sample study simply gets no mask.
    """
    if volume.modality.upper() != "MR" or "(sample)" not in volume.description:
        return None
    from inference.phantoms import brain_mr_volume

    n, h, w = volume.shape
    try:
        image, mask = brain_mr_volume(seed=7, n_slices=n, size=h, tumour=True)
    except ValueError:
        return None
    if image.shape != volume.voxels.shape:
        return None
    for k in (int(np.argmax(mask.sum(axis=(1, 2)))), n // 2):
        a, b = image[k].ravel(), volume.voxels[k].ravel().astype(np.float32)
        if a.std() == 0 or b.std() == 0 or float(np.corrcoef(a, b)[0, 1]) < MATCH:
            return None
    return mask

"""The built-in sample study: synthetic brain MR and CT series written as real DICOM.

The images come from the project's own phantoms (``inference.phantoms``, numpy only), so the demo
classifiers have something to find. They are written once into the user's data directory
(``$SLICEWISE_DATA_DIR`` or the platform's per-user data folder) and reused afterwards.

DICOM carries no lesion mask, so the phantoms' ground-truth masks are kept beside the series in
``TRUTH_FILE`` (a compressed ``.npz``, one bool (z, y, x) array per SeriesInstanceUID); the AI
module reads them with :func:`sample_truth` for the pointing game.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from viewer.io.records import PatientInfo

SAMPLE_VERSION = "4"             # 2: ground-truth masks beside the series; 3: vessel-sized distractors;
#                                  4: the MR series records its (synthetic) acquisition parameters
#: The brain MR series is drawn with the grey levels of a T1-weighted spin echo after gadolinium
#: (inference.phantoms.brain, "T1 post-contrast"); its header says so as a scanner would, so the
#: contrast model's call is checked against it (viewer.modules.ai.weighting).
BRAIN_ACQUISITION = {"ScanningSequence": "SE", "SequenceVariant": "NONE", "RepetitionTime": "550",
                     "EchoTime": "12", "MagneticFieldStrength": "1.5",
                     "ContrastBolusAgent": "gadolinium (synthetic)", "BodyPartExamined": "BRAIN"}
_MARKER = ".slicewise-sample-complete"
TRUTH_FILE = ".ground-truth-masks.npz"   # hidden: discovery skips it silently
_UID_ROOT = "1.2.826.0.1.3680043.8.498.1000000000000000000001"
STUDY_UID = _UID_ROOT
BRAIN_SERIES_UID = _UID_ROOT + ".1"
CT_SERIES_UID = _UID_ROOT + ".2"


def data_dir() -> Path:
    """Per-user data directory of SliceWise."""
    override = os.environ.get("SLICEWISE_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("SliceWise", "SliceWise"))


def sample_study_dir() -> Path:
    return data_dir() / "sample-study"


def ensure_sample_study(force: bool = False) -> Path:
    """Write the sample study on first use and return its folder (a second or two the first time)."""
    root = sample_study_dir()
    marker = root / _MARKER
    if not force and marker.is_file() and marker.read_text().strip() == SAMPLE_VERSION:
        return root
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _write(tmp)
    (tmp / _MARKER).write_text(SAMPLE_VERSION)
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    return root


def _write(folder: Path) -> None:
    from inference.phantoms import brain_mr_volume, ct_volume
    from viewer.io.writer import write_series

    patient = PatientInfo(name="SAMPLE^SYNTHETIC", patient_id="SW-SAMPLE-0001",
                          birth_date="19700101", sex="O")
    study_uid = STUDY_UID
    brain, brain_mask = brain_mr_volume(seed=7, n_slices=24, size=256, tumour=True)
    write_series(folder / "brain_mr", brain, spacing=(5.0, 0.9, 0.9),
                 origin=(-115.0, -115.0, -60.0), direction=np.eye(3), modality="MR",
                 series_description="Synthetic brain MR T1 post-contrast (sample)",
                 study_description="SliceWise sample study (synthetic phantoms)",
                 patient=patient, study_uid=study_uid, series_uid=BRAIN_SERIES_UID,
                 series_number=1, attributes=BRAIN_ACQUISITION)
    ct, ct_mask = ct_volume(seed=11, n_slices=24, size=256, lesion=True)
    write_series(folder / "ct_abdomen", ct, spacing=(5.0, 1.4, 1.4),
                 origin=(-179.0, -179.0, -120.0), direction=np.eye(3), modality="CT",
                 series_description="Synthetic CT abdomen (sample)",
                 study_description="SliceWise sample study (synthetic phantoms)",
                 patient=patient, window=(40.0, 400.0), study_uid=study_uid,
                 series_uid=CT_SERIES_UID, series_number=2)
    np.savez_compressed(folder / TRUTH_FILE, **{BRAIN_SERIES_UID: brain_mask, CT_SERIES_UID: ct_mask})


def sample_truth(series_uid: str, root: Path | None = None) -> np.ndarray | None:
    """The ground-truth lesion mask (bool (z, y, x)) that the sample study's series
    ``series_uid`` (its SeriesInstanceUID) was written with; None for any other series or when
    the sample study in ``root`` (default: :func:`sample_study_dir`) has no masks file."""
    path = (sample_study_dir() if root is None else Path(root)) / TRUTH_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as masks:
        if series_uid not in masks.files:
            return None
        return np.asarray(masks[series_uid], dtype=bool)

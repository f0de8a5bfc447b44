"""A small synthetic archive for the batch tests and benchmark (written by viewer.io.write_series).

Layout: ``root/patientNN/<series>/IM*.dcm``; brain MR series whose descriptions name their
contrast (one names the wrong one: a header the model should disagree with), optionally one CT
series (outside the contrast model's domain), one file whose pixel data is cut short (its slice
is unreadable) and one text file (not DICOM).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.phantoms.brain import brain_slice
from viewer.io import write_series

CONTRASTS = ("T1", "T2", "T2-FLAIR", "T1 post-contrast")
DESCRIPTIONS = {"T1": "AX T1 SE", "T2": "AX T2 TSE", "T2-FLAIR": "AX T2 FLAIR",
                "T1 post-contrast": "AX T1 +C"}


MISLABELLED = 1  #: series index whose description names T1 although it is T2


def brain_stack(seed: int, n_slices: int, size: int, contrast: str) -> np.ndarray:
    """(z, y, x) stack of the phantom slices the demo contrast model was trained on."""
    return np.stack([brain_slice(seed * 1000 + k, size=size, contrast=contrast).image
                     for k in range(n_slices)]).astype(np.float32)


def write_archive(root: Path, n_series: int = 4, n_slices: int = 12, size: int = 128,
                  broken: bool = True, ct: bool = True, per_patient: int = 2) -> dict:
    """Write the archive; returns {"series": {description: n_slices}, "broken_file": path,
    "non_image": path, "mislabelled": description, "total_slices": n}. Series ``MISLABELLED``
    is a T2 series described as "AX T1 SE"."""
    root = Path(root)
    written: dict[str, int] = {}
    folders = []
    for i in range(n_series):
        contrast = CONTRASTS[i % len(CONTRASTS)]
        vol = brain_stack(i, n_slices, size, contrast)
        desc = f"{DESCRIPTIONS[contrast if i != MISLABELLED else 'T1']} {i:03d}"
        folder = root / f"patient{i // per_patient:02d}" / f"s{i:03d}"
        write_series(folder, vol, spacing=(5.0, 0.9, 0.9), modality="MR", series_description=desc,
                     series_number=i + 1)
        written[desc] = n_slices
        folders.append(folder)
    out = {"series": written, "broken_file": None, "non_image": None,
           "mislabelled": f"{DESCRIPTIONS['T1']} {MISLABELLED:03d}" if n_series > MISLABELLED else None}
    if ct:
        rng = np.random.default_rng(7)
        vol = rng.normal(40, 20, (n_slices, size, size)).astype(np.float32)
        folder = root / "patient_ct" / "ct"
        write_series(folder, vol, modality="CT", series_description="CT ABDOMEN")
        written["CT ABDOMEN"] = n_slices
    if broken:
        victim = sorted(folders[0].glob("*.dcm"))[n_slices // 2]
        data = victim.read_bytes()
        victim.write_bytes(data[: len(data) - size * size])  # pixel data cut short
        out["broken_file"] = str(victim)
        note = root / "patient00" / "notes.txt"
        note.write_text("not a DICOM file\n")
        out["non_image"] = str(note)
    out["total_slices"] = sum(written.values())
    return out

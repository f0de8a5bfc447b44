"""A small synthetic archive for the batch tests and benchmark (written by viewer.io.write_series).

Layout: ``root/patientNN/<series>/IM*.dcm``; brain MR series whose descriptions name their
contrast (one names the wrong one: a header the model should disagree with), optionally one CT
series (outside the contrast model's domain), one file whose pixel data is cut short (its slice
is unreadable) and one text file (not DICOM).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.phantoms.brain import brain_mr_volume
from viewer.io import write_series

CONTRASTS = ("T1", "T2", "T2-FLAIR", "T1 post-contrast")
DESCRIPTIONS = {"T1": "AX T1 SE", "T2": "AX T2 TSE", "T2-FLAIR": "AX T2 FLAIR",
                "T1 post-contrast": "AX T1 +C"}


def write_archive(root: Path, n_series: int = 4, n_slices: int = 12, size: int = 96,
                  broken: bool = True, ct: bool = True, per_patient: int = 2) -> dict:
    """Write the archive; returns {"series": {description: n_slices}, "broken_file": path,
    "non_image": path, "total_slices": n}."""
    root = Path(root)
    written: dict[str, int] = {}
    folders = []
    for i in range(n_series):
        contrast = CONTRASTS[i % len(CONTRASTS)]
        vol, _ = brain_mr_volume(seed=i, n_slices=n_slices, size=size, tumour=bool(i % 2),
                                 contrast=contrast)
        desc = f"{DESCRIPTIONS[contrast]} {i:03d}"
        folder = root / f"patient{i // per_patient:02d}" / f"s{i:03d}"
        write_series(folder, vol, spacing=(5.0, 0.9, 0.9), modality="MR", series_description=desc,
                     series_number=i + 1)
        written[desc] = n_slices
        folders.append(folder)
    out = {"series": written, "broken_file": None, "non_image": None}
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

"""Seeded synthetic images with known ground truth (numpy only: importing this never loads torch).

Brain MR slices and volumes with or without a ring-enhancing tumour in four contrasts,
abdominal CT slices and volumes in HU with or without a hypodense liver lesion, and knee MR
exams in three planes with abnormality / ACL tear / meniscal tear labels and their locations.
Every function is deterministic for a given seed. Training uses seeds below
``HELD_OUT_SEED_START``; evaluation uses seeds from it upwards, so the two never overlap.
"""
from __future__ import annotations

from inference.phantoms.brain import CONTRASTS, BrainSlice, brain_mr_volume, brain_slice
from inference.phantoms.ct import CTSlice, ct_slice, ct_volume
from inference.phantoms.knee import KNEE_LABELS, PLANES, knee_exam

#: Training and validation draw seeds in [0, HELD_OUT_SEED_START); evaluation in [HELD_OUT_SEED_START, ...).
HELD_OUT_SEED_START = 1_000_000

__all__ = ["CONTRASTS", "KNEE_LABELS", "PLANES", "HELD_OUT_SEED_START", "BrainSlice", "CTSlice",
           "brain_slice", "brain_mr_volume", "ct_slice", "ct_volume", "knee_exam"]

"""The built-in teaching set: eight anonymous synthetic cases (brain MR tumour / no tumour,
abdominal CT liver lesion / no lesion) made from the project's phantoms, written as real DICOM
into the per-user data folder with their truth labels, key slices and lesion masks known.

No Qt, no torch: the phantoms are numpy only. Written once (about a second) and reused.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.io.records import PatientInfo
from viewer.modules.teaching.caselist import Case, CaseList, load_case_list, save_case_list

DEMO_VERSION = "3"   # 2: brain phantoms with vessel-sized distractors (the tumour model's truth)
                     # 3: CT notes name the bright vessels and the bowel gas correctly
DEMO_TITLE = "SliceWise teaching set (synthetic phantoms)"
N_SLICES = 7
SIZE = 128
MIN_LESION_PX = 60
_MARKER = ".slicewise-teaching-complete"
_LIST = "teaching-cases.json"
BRAIN_Q = "Is there a ring-enhancing tumour on this slice?"
BRAIN_OPTIONS = ("no tumour", "tumour")
CT_Q = "Is there a hypodense liver lesion on this slice?"
CT_OPTIONS = ("no lesion", "lesion")


@dataclass(frozen=True)
class _Plan:
    kind: str          # "brain" | "ct"
    positive: bool
    seed: int


# Interleaved so that neither the body part nor the answer is predictable from the order.
PLANS = (_Plan("brain", True, 0), _Plan("ct", False, 11), _Plan("ct", True, 2),
         _Plan("brain", False, 5), _Plan("brain", True, 4), _Plan("ct", True, 1),
         _Plan("brain", False, 9), _Plan("ct", False, 14))


def demo_dir() -> Path:
    """Folder of the teaching set inside SliceWise's per-user data directory."""
    from viewer.core.sample_study import data_dir

    return data_dir() / "teaching-set"


def ensure_demo_set(force: bool = False, root: Path | None = None) -> Path:
    """Write the teaching set on first use (into ``root``, default :func:`demo_dir`); returns the
    path of its case list (JSON)."""
    root = Path(root) if root is not None else demo_dir()
    marker = root / _MARKER
    if not force and marker.is_file() and marker.read_text().strip() == DEMO_VERSION:
        return root / _LIST
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cases = [_write_case(tmp, n + 1, plan) for n, plan in enumerate(PLANS)]
    save_case_list(CaseList(DEMO_TITLE, tuple(cases), meta={"synthetic": True}), tmp / _LIST)
    (tmp / _MARKER).write_text(DEMO_VERSION)
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    return root / _LIST


def load_demo_set(root: Path | None = None) -> CaseList:
    """The teaching set's case list (written first when needed)."""
    return load_case_list(ensure_demo_set(root=root))


def _volume(plan: _Plan) -> tuple[np.ndarray, np.ndarray, int]:
    """(voxels, mask, seed used): the first seed from ``plan.seed`` whose lesion is visible."""
    from inference.phantoms import brain_mr_volume, ct_volume

    make = brain_mr_volume if plan.kind == "brain" else ct_volume
    flag = "tumour" if plan.kind == "brain" else "lesion"
    for seed in range(plan.seed, plan.seed + 200):
        vol, mask = make(seed=seed, n_slices=N_SLICES, size=SIZE, **{flag: plan.positive})
        if not plan.positive or mask.sum(axis=(1, 2)).max() >= MIN_LESION_PX:
            return vol, mask, seed
    raise RuntimeError(f"no {plan.kind} phantom with a visible lesion near seed {plan.seed}")


def _side(mask2d: np.ndarray) -> str:
    """'right' / 'left' of the patient for a lesion mask on an axial slice (radiological view)."""
    x = np.nonzero(mask2d)[1].mean()
    return "right" if x < mask2d.shape[1] / 2 else "left"


def _write_case(folder: Path, n: int, plan: _Plan) -> Case:
    from viewer.io.writer import write_series

    vol, mask, seed = _volume(plan)
    area = mask.sum(axis=(1, 2))
    key = int(np.argmax(area)) if plan.positive else N_SLICES // 2
    case_id = f"case{n:02d}"
    study = folder / case_id
    brain = plan.kind == "brain"
    patient = PatientInfo(name=f"TEACHING^CASE{n:02d}", patient_id=f"TEACH-{n:02d}", sex="O")
    pixel = 1.8 if brain else 2.8
    write_series(study, vol, spacing=(5.0, pixel, pixel),
                 origin=(-pixel * SIZE / 2, -pixel * SIZE / 2, -15.0), direction=np.eye(3),
                 modality="MR" if brain else "CT",
                 series_description="Axial T1 post-contrast" if brain else "Axial CT abdomen, portal venous",
                 study_description="SliceWise teaching set (synthetic)", patient=patient,
                 window=None if brain else (60.0, 360.0), series_number=1)
    np.save(folder / f"{case_id}-mask.npy", mask)
    if brain:
        notes = (f"Ring-enhancing mass in the {_side(mask[key])} cerebral hemisphere with a "
                 "necrotic centre and surrounding oedema. Enhancing vessels and the ventricles "
                 "are normal structures that can mimic it." if plan.positive else
                 "No tumour: the bright curvilinear structures are vessels; the ventricles vary "
                 "in size between people. Compare both hemispheres.")
    else:
        notes = (f"Hypodense lesion in the {_side(mask[key])}-sided part of the liver, lower "
                 "attenuation than the enhancing parenchyma; portal vessels branch around it."
                 if plan.positive else
                 "No lesion: the liver enhances evenly; the bright branching lines in it are "
                 "portal and hepatic vessels, and the black round spots beside it are gas in "
                 "the bowel, not liver lesions.")
    lo, hi = max(1, key + 1 - 2), min(N_SLICES, key + 1 + 2)
    return Case(case_id=case_id, study=str(study), question=BRAIN_Q if brain else CT_Q,
                options=BRAIN_OPTIONS if brain else CT_OPTIONS,
                truth=(BRAIN_OPTIONS if brain else CT_OPTIONS)[int(plan.positive)],
                slice=key + 1, slice_range=(lo, hi), notes=notes + " (a synthetic image made for teaching)",
                model="tumour" if brain else "ct-lesion",
                mask=str(folder / f"{case_id}-mask.npy"))

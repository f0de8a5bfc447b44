"""Exports without widgets: findings report (JSON + CSV), multi-slice montage and PNG series,
and the heat map as a NIfTI volume aligned with the series (SimpleITK).

Per-slice probabilities come from whoever ran the classifier: pass them as
:class:`SliceProbability` records (the viewer collects them through
``Workspace.probabilities_provider``, a callable the composition root sets with
``Workspace.set_ai_results``; the export jobs are in :mod:`viewer.modules.workspace.exports`).
Patient identity enters a report only with ``include_patient``.
Arrays are row-major ``(z, y, x)``; geometry is DICOM LPS mm.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.core.measurements import Measurement
from viewer.core.overlay import OverlayStyle, compose
from viewer.io.records import Volume

REPORT_VERSION = 1
CSV_FIELDS = ("record", "id", "kind", "plane", "label", "value", "unit", "mean", "sd", "min",
              "max", "area_mm2", "n_pixels", "slice", "model", "class", "probability",
              "applicable", "reasons", "method", "deletion_auc", "random_deletion_auc",
              "vs_random", "better_than_random", "points_mm")


@dataclass(frozen=True)
class SliceProbability:
    """A classifier's probability for one class on one slice (``slice``: 0-based index).

    ``applicable``: False when the slice lay outside the model's domain (then the probability
    is no valid call); ``reasons``: why, in words."""

    slice: int
    model: str
    class_name: str
    probability: float
    applicable: bool = True
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class MapScore:
    """How faithful one final heat map is (``slice``: 0-based; ``method``: "gradcam",
    "hirescam" or "occlusion"; ``target``: the class explained).

    ``deletion_auc``: area under the target-probability curve as the most salient pixels are
    blurred away (0..1, lower = more faithful); ``random_deletion_auc``: the mean of the same
    score for 5 random smooth maps; ``vs_random``: (1 - map) / (1 - random), "x times better than
    random"; ``better_than_random``; ``random_note`` in words. ``applicable`` / ``reasons`` as in
    :class:`SliceProbability`. None = not computed."""

    slice: int
    model: str
    method: str
    target: str
    deletion_auc: float | None = None
    random_deletion_auc: float | None = None
    vs_random: float | None = None
    better_than_random: bool | None = None
    random_note: str = ""
    applicable: bool = True
    reasons: tuple[str, ...] = ()


def build_report(volume: Volume, measurements: Sequence[Measurement],
                 probabilities: Sequence[SliceProbability | MapScore] = (), *, study_uid: str = "",
                 include_patient: bool = False) -> dict:
    """The findings of a series as a JSON-ready dict (series, measurements, probabilities with
    their applicability, map scores). ``probabilities`` may hold :class:`MapScore` records
    beside the :class:`SliceProbability` ones (both come from the AI module's provider)."""
    scores = [p for p in probabilities if isinstance(p, MapScore)]
    probabilities = [p for p in probabilities if isinstance(p, SliceProbability)]
    series = {"series_uid": volume.series_uid, "study_instance_uid": study_uid,
              "description": volume.description, "study_description": volume.study_description,
              "modality": volume.modality, "shape_zyx": list(volume.shape),
              "spacing_zyx_mm": list(volume.spacing), "orientation": volume.orientation}
    out = {"version": REPORT_VERSION, "created": _dt.datetime.now().isoformat(timespec="seconds"),
           "software": "SliceWise", "series": series,
           "measurements": [m.to_json() for m in measurements],
           "slice_probabilities": [{"slice": p.slice, "model": p.model, "class": p.class_name,
                                    "probability": p.probability, "applicable": p.applicable,
                                    "reasons": list(p.reasons)} for p in probabilities],
           "map_scores": [{"slice": m.slice, "model": m.model, "method": m.method,
                           "target": m.target, "deletion_auc": m.deletion_auc,
                           "random_deletion_auc": m.random_deletion_auc,
                           "vs_random": m.vs_random, "better_than_random": m.better_than_random,
                           "random_note": m.random_note, "applicable": m.applicable,
                           "reasons": list(m.reasons)} for m in scores]}
    if include_patient:
        pt = volume.patient
        out["patient"] = {"name": pt.name, "id": pt.patient_id, "birth_date": pt.birth_date,
                          "sex": pt.sex}
    return out


def _num(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"


def _flag(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def write_report(report: dict, json_path: Path, csv_path: Path | None = None) -> list[Path]:
    """Write the report as JSON and (optionally) a flat CSV, one row per finding."""
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(clean_nans(report), indent=2, allow_nan=False),
                         encoding="utf-8")
    written = [json_path]
    if csv_path is not None:
        csv_path = Path(csv_path)
        with csv_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            w.writeheader()
            for m in report["measurements"]:
                s = m.get("stats", {})
                w.writerow({"record": "measurement", "id": m["id"], "kind": m["kind"],
                            "plane": m["plane"], "label": m["label"], "value": _num(m["value"]),
                            "unit": m["value_unit"], "mean": _num(s.get("mean")),
                            "sd": _num(s.get("sd")), "min": _num(s.get("min")),
                            "max": _num(s.get("max")), "area_mm2": _num(s.get("area_mm2")),
                            "n_pixels": s.get("n_pixels", ""),
                            "points_mm": json.dumps(m["points_mm"])})
            for p in report["slice_probabilities"]:
                w.writerow({"record": "probability", "slice": p["slice"] + 1, "model": p["model"],
                            "class": p["class"], "probability": _num(p["probability"]),
                            "applicable": _flag(p.get("applicable", True)),
                            "reasons": "; ".join(p.get("reasons", []))})
            for m in report.get("map_scores", []):
                w.writerow({"record": "map_score", "slice": m["slice"] + 1, "model": m["model"],
                            "class": m["target"], "method": m["method"],
                            "deletion_auc": _num(m["deletion_auc"]),
                            "random_deletion_auc": _num(m["random_deletion_auc"]),
                            "vs_random": _num(m["vs_random"]),
                            "better_than_random": _flag(m["better_than_random"]),
                            "applicable": _flag(m.get("applicable", True)),
                            "reasons": "; ".join(m.get("reasons", []))})
        written.append(csv_path)
    return written


def clean_nans(report: dict) -> dict:
    """Replace NaN floats by None (JSON has no NaN), recursively."""
    if isinstance(report, dict):
        return {k: clean_nans(v) for k, v in report.items()}
    if isinstance(report, list):
        return [clean_nans(v) for v in report]
    if isinstance(report, float) and math.isnan(report):
        return None
    return report


def montage(images: Sequence[np.ndarray], columns: int = 0, gap: int = 2) -> np.ndarray:
    """Tile ``(y, x, 3)`` uint8 images (same size) into one image, row by row; black gaps."""
    if not images:
        raise ValueError("a montage needs at least one image")
    h, w = images[0].shape[:2]
    n = len(images)
    cols = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    out = np.zeros((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), np.uint8)
    for idx, img in enumerate(images):
        if img.shape[:2] != (h, w):
            raise ValueError("montage images must share one size")
        r, c = divmod(idx, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = img[..., :3]
    return out


def slice_images(volume: Volume, slices: Sequence[int], window: tuple[float, float],
                 heat: np.ndarray | None = None, style: OverlayStyle | None = None
                 ) -> list[np.ndarray]:
    """(y, x, 3) uint8 renderings of native ``slices`` through ``window``, with the slice's map
    from ``heat`` ((z, y, x), optional; the viewer's map volume, each slice normalised to 0..1
    with NaN where unknown) laid over by the one overlay rule with ``style``."""

    out = []
    for k in slices:
        if not 0 <= k < volume.n_slices:
            raise ValueError(f"slice {k + 1} is outside the series (1-{volume.n_slices})")
        img = volume.voxels[k]
        if volume.is_rgb:
            out.append(np.clip(img, 0, 255).astype(np.uint8))
            continue
        out.append(compose(img, window, None if heat is None else heat[k], style,
                           invert=volume.invert_display, normalised=True))
    return out


def write_png_series(images: Sequence[np.ndarray], folder: Path, stem: str = "slice",
                     numbers: Sequence[int] | None = None) -> list[Path]:
    """Write each image as ``<stem>_<NNN>.png`` (1-based slice numbers) into ``folder``."""
    from viewer.core.overlay import save_png

    numbers = list(numbers) if numbers is not None else list(range(1, len(images) + 1))
    return [save_png(img, Path(folder) / f"{stem}_{n:03d}.png") for img, n in zip(images, numbers)]


def write_heatmap_nifti(heat: np.ndarray, volume: Volume, path: Path) -> Path:
    """Write a heat-map volume (float32 ``(z, y, x)``, the series' voxel grid) as NIfTI with the
    series' spacing, origin and direction, so other tools overlay it on the series."""
    import SimpleITK as sitk

    heat = np.asarray(heat, np.float32)
    if heat.shape != volume.shape:
        raise ValueError(f"heat map shape {heat.shape} differs from the series {volume.shape}")
    img = sitk.GetImageFromArray(np.ascontiguousarray(heat))
    img.SetSpacing((float(volume.spacing[2]), float(volume.spacing[1]), float(volume.spacing[0])))
    img.SetOrigin(tuple(float(c) for c in volume.origin))
    img.SetDirection(tuple(float(c) for c in np.asarray(volume.direction, float).reshape(-1)))
    path = Path(path)
    if not path.name.endswith((".nii", ".nii.gz")):
        path = path.with_name(path.name + ".nii.gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(img, str(path))
    return path

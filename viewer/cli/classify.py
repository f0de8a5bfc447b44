"""``slicewise classify``: run a classifier on a series (or a knee exam) headless.

Prints per-slice probabilities (knee: per plane and fused); with ``--explain`` writes each map
as float32 ``.npy`` in slice pixel geometry (y, x) — knee: (S, y, x) per plane — plus a PNG
overlay of the map on the windowed slice, and scores the map (deletion AUC against 5 random
smooth maps: "x times better than random"). ``--dicom-out DIR`` writes the results as DICOM
objects (:mod:`viewer.modules.ai.dicom_export`): a TID 1500 Structured Report, and with
``--explain`` a Parametric Map, a FRACTIONAL Segmentation and burned-in Secondary Captures.

Every slice (and the series, the knee exam) says whether it is ``applicable``: inside the model's
domain (modality, plane, body part, pixel values) and like its training data (out-of-distribution
distance under the model's threshold); ``reasons`` say why not. A series is applicable when all
its slices are; its reasons are the slices' reasons de-duplicated. Probabilities are calibrated
(temperature scaling; ``uncalibrated_probabilities`` and ``temperature`` beside them).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from viewer.cli.common import find_series, load, slice_range
from viewer.cli.errors import CommandError
from viewer.core.overlay import compose, save_png
from viewer.io.records import Volume
from viewer.modules.ai.weighting import judge_all, weighting_of


def _load_classifier(name: str) -> Any:
    from inference import ModelLoadError, describe_device, load_model

    try:
        clf = load_model(name)
    except ModelLoadError as exc:
        raise CommandError(str(exc)) from exc
    except KeyError as exc:
        raise CommandError(str(exc).strip("'\"")) from exc
    return clf, describe_device(clf.device)


def run_classify(args: argparse.Namespace) -> int:
    from inference import InputError

    clf, device = _load_classifier(args.model)
    out = Path(args.out) if args.out else None
    dicom_out = Path(args.dicom_out) if getattr(args, "dicom_out", None) else None
    if args.explain and out is None and dicom_out is None:
        raise CommandError("--explain writes maps: give a folder with --out DIR or --dicom-out DIR")
    if dicom_out is not None and clf.spec.level == "exam":
        raise CommandError(f"--dicom-out is not available for the {clf.spec.name} exam model yet; "
                           "use --out for its maps")
    try:
        if clf.spec.level == "exam":
            doc = _classify_exam(clf, args, out)
        else:
            doc = _classify_series(clf, args, out)
    except InputError as exc:
        raise CommandError(str(exc)) from exc
    doc = {"model": clf.spec.name, "demo": clf.spec.demo, "device": device, **doc}
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        print()
    else:
        _print(doc)
    return 0


def _applicability(pred: Any) -> dict[str, Any]:
    """The JSON fields of a prediction's applicability check and calibration."""
    a = pred.applicability
    return {"applicable": pred.applicable, "reasons": list(a.reasons) if a else [],
            "notes": list(a.notes) if a else [],
            "ood_distance": a.ood_distance if a else None, "ood_threshold": a.ood_threshold if a else None,
            "temperature": pred.temperature,
            "uncalibrated_probabilities": pred.uncalibrated or pred.probabilities}


def _series_applicability(preds: list[Any]) -> dict[str, Any]:
    """A series is applicable when every slice is; reasons de-duplicated, the per-slice
    out-of-distribution reasons summarised as one ("k of n slices unlike the training data")."""
    reasons: list[str] = []
    ood = [p.applicability for p in preds
           if p.applicability and any("unlike the training data" in r for r in p.applicability.reasons)]
    for p in preds:
        for r in (p.applicability.reasons if p.applicability else ()):
            if "unlike the training data" not in r and r not in reasons:
                reasons.append(r)
    if ood:
        worst = max(a.ood_distance or float("inf") for a in ood)
        reasons.append(f"{len(ood)} of {len(preds)} slices unlike the training data (distance up to "
                       f"{worst:.3g}, threshold {ood[0].ood_threshold:.3g})")
    notes = list(dict.fromkeys(n for p in preds for n in (p.applicability.notes if p.applicability else ())))
    return {"applicable": all(p.applicable for p in preds), "reasons": reasons, "notes": notes,
            "slices_applicable": sum(p.applicable for p in preds), "slices": len(preds)}


def _scores_json(scores: Any) -> dict[str, Any] | None:
    """A map's MapScores as JSON (pointing flattened), None when not computed."""
    if scores is None:
        return None
    point = scores.pointing
    return {"deletion_auc": scores.deletion_auc, "insertion_auc": scores.insertion_auc,
            "random_deletion_aucs": list(scores.random_deletion_aucs), "vs_random": scores.vs_random,
            "better_than_random": scores.better_than_random, "random_note": scores.random_note,
            "pointing": None if point is None else {"hit": point.hit, "inside": point.inside,
                                                    "tolerance_px": point.tolerance_px},
            "energy_in_mask": scores.energy_in_mask, "note": scores.note}


def _classify_series(clf: Any, args: argparse.Namespace, out: Path | None) -> dict:
    _, chosen = find_series(args.paths, args.series)
    volume = _pick_volume(clf, chosen)
    spacing = (volume.spacing[1], volume.spacing[2])
    rows = []
    results = []
    indices = slice_range(args.slices, volume.n_slices)
    images = [volume.voxels[k] for k in indices]
    preds = clf.predict_batch(images, spacing=spacing, modality=volume.modality,
                              orientation=volume.orientation)
    preds = judge_all(preds, volume.acquisition, clf.spec.task)
    for k, pred in zip(indices, preds):
        row: dict[str, Any] = {"slice": k + 1, "probabilities": pred.probabilities,
                               "predicted": pred.predicted, "warnings": list(pred.warnings),
                               **_applicability(pred)}
        exp = None
        if args.explain:
            exp = clf.explain(volume.voxels[k], args.explain,
                              args.target or clf.spec.map_target, spacing=spacing,
                              modality=volume.modality, orientation=volume.orientation,
                              faithfulness=True)
            if out is not None:
                row.update(_write_map(out, f"slice{k + 1:04d}_{args.explain}", exp.map,
                                      volume.voxels[k], volume, reference=exp.reference))
            row["target"] = exp.target
            row["map_reference"] = exp.reference
            row["scores"] = _scores_json(exp.scores)
        rows.append(row)
        results.append((k, pred, exp))
    dicom: dict[str, Any] = {}
    if getattr(args, "dicom_out", None):
        dicom["dicom"] = _write_dicom(Path(args.dicom_out), clf, volume, results)
    return {**dicom, "series": {"uid": volume.series_uid, "description": volume.description,
                       "modality": volume.modality, "orientation": volume.orientation,
                       "acquisition": weighting_of(volume.acquisition).words or None,
                       **_series_applicability(preds)},
            "warnings": list(volume.warnings), "slices": rows}


def _write_dicom(folder: Path, clf: Any, volume: Volume, results: list) -> list[str]:
    """The DICOM result objects (SR; with maps also PM, SEG and SC) of a classified series."""
    from viewer.io.results.errors import DicomResultError
    from viewer.modules.ai.dicom_export import SliceResult, algorithm_from_spec, write_dicom_results

    try:
        paths = write_dicom_results(folder, volume, [SliceResult(k, p, e) for k, p, e in results],
                                    algorithm_from_spec(clf.spec))
    except DicomResultError as exc:
        raise CommandError(f"could not write DICOM results: {exc.reason} ({exc.path})") from exc
    return [str(p) for p in paths]


def _pick_volume(clf: Any, chosen: list) -> Volume:
    """The first series of the model's modality (or the only one named by --series)."""
    want = (clf.spec.modality or "").upper()
    if len(chosen) > 1 and want:
        matching = [s for s in chosen if s.modality.upper() == want]
        chosen = matching or chosen
    return load(chosen[0])


def _classify_exam(clf: Any, args: argparse.Namespace, out: Path | None) -> dict:
    _, chosen = find_series(args.paths, args.series)
    exam: dict[str, np.ndarray] = {}
    volumes: dict[str, Volume] = {}
    for info in chosen:
        plane = info.orientation
        if plane in clf.spec.planes and plane not in exam:
            volumes[plane] = load(info)
            exam[plane] = volumes[plane].voxels
    if not exam:
        found = ", ".join(f"{s.orientation} ({s.description or s.uid})" for s in chosen)
        raise CommandError(f"the {clf.spec.name} model needs sagittal, coronal or axial series; "
                           f"found {found}")
    modality = next(iter(volumes.values())).modality
    pred = clf.predict(exam, modality=modality)
    doc: dict[str, Any] = {"planes_used": list(pred.planes_used), "probabilities": pred.probabilities,
                           "per_plane": pred.per_plane, "contributions": pred.contributions,
                           "predicted": pred.predicted, "warnings": list(pred.warnings),
                           "series": {p: v.series_uid for p, v in volumes.items()},
                           **_applicability(pred)}
    if args.explain:
        exp = clf.explain(exam, args.explain, args.target, modality=modality)
        doc["target"] = exp.target
        doc["maps"] = {}
        for plane, stack in exp.map.items():
            vol = volumes[plane]
            npy = out / f"{plane}_{args.explain}.npy"
            out.mkdir(parents=True, exist_ok=True)
            np.save(npy, np.asarray(stack, np.float32))
            mid = int(np.argmax(exp.importance[plane])) if exp.importance else len(stack) // 2
            png = _write_map(out, f"{plane}_{args.explain}_slice{mid + 1:04d}", stack[mid],
                             vol.voxels[mid], vol, save_npy=False)
            doc["maps"][plane] = {"map": str(npy), **png,
                                  "most_important_slice": mid + 1}
    return doc


def _write_map(out: Path, stem: str, heat: np.ndarray, image: np.ndarray, volume: Volume,
               save_npy: bool = True, reference: float | None = None) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    if save_npy:
        npy = out / f"{stem}.npy"
        np.save(npy, np.asarray(heat, np.float32))
        written["map"] = str(npy)
    rgb = compose(image, (volume.window.center, volume.window.width), np.asarray(heat),
                  invert=volume.invert_display, reference=reference)
    written["overlay"] = str(save_png(rgb, out / f"{stem}.png"))
    return written


def _print(doc: dict) -> None:
    badge = "  [demo weights - not for clinical use]" if doc["demo"] else ""
    print(f"model {doc['model']} on {doc['device']}{badge}")
    for w in doc.get("warnings", []):
        print(f"warning: {w}")
    top = doc.get("series", {}) if "slices" in doc else doc
    if isinstance(top, dict) and top.get("applicable") is False:
        print("OUTSIDE THIS MODEL'S DOMAIN: " + "; ".join(top.get("reasons", [])))
    if "slices" in doc:
        for row in doc["slices"]:
            probs = "  ".join(f"{c} {p:.3f}" for c, p in row["probabilities"].items())
            extra = f"  map {row['map']}" if "map" in row else ""
            flag = ("" if row.get("applicable", True)
                    else "  [not applicable: " + "; ".join(row["reasons"]) + "]")
            scores = row.get("scores") or {}
            rnd = f"  map vs random: {scores['random_note']}" if scores.get("random_note") else ""
            call = (row["predicted"] if row.get("applicable", True)
                    else f"no valid call (model output {row['predicted']})")
            print(f"slice {row['slice']:4d}  {probs}  -> {call}{flag}{extra}{rnd}")
        if doc.get("dicom"):
            print(f"DICOM results: {len(doc['dicom'])} files, report {doc['dicom'][0]}")
        return
    print(f"planes used: {', '.join(doc['planes_used'])}")
    for plane, probs in doc["per_plane"].items():
        print(f"  {plane:9} " + "  ".join(f"{c} {p:.3f}" for c, p in probs.items()))
    print("  fused     " + "  ".join(f"{c} {p:.3f}" for c, p in doc["probabilities"].items()))
    for plane, info in doc.get("maps", {}).items():
        print(f"  map {plane}: {info['map']}")

"""The inference stage of a batch: one loaded model turns read series into result records.

``SeriesInference(model, options)`` loads the classifier once (GPU when present, see
``inference.devices``) and maps a :class:`~viewer.modules.batch.work.SeriesWork` (or
``SeriesFailure``) to one *record*: a JSON-ready dict with the series row and one row per slice
(columns: :data:`viewer.modules.batch.outputs.COLUMNS` plus ``p_<class>`` per class). With
``explain`` it makes a heat map per readable slice and writes them, per series, as NIfTI
(``nifti``) and/or as the DICOM result objects (``dicom``); every file is written under a temporary
name and renamed when complete. Both engines use this class (Ray: one per actor).
"""
from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from viewer.modules.ai.records import summarise_reasons  # one wording with the sweep
from viewer.modules.ai.weighting import contradiction, judge_all, weighting_of
from viewer.modules.batch.work import SeriesFailure, SeriesMeta, SeriesWork, reason_of


@dataclass(frozen=True)
class InferOptions:
    """What the inference stage makes: ``explain`` method or None, result files under ``out``."""

    out: str
    explain: str | None = None
    dicom: bool = False
    nifti: bool = False
    batch_size: int = 16
    device: str | None = None

    @property
    def needs_pixels(self) -> bool:
        return bool(self.explain or self.dicom or self.nifti)


def safe_name(text: str) -> str:
    """A file-name-safe form of a UID or model name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def base_row(spec: Any, meta: SeriesMeta, level: str) -> dict[str, Any]:
    """The columns every row of a series has (model, UIDs, description, header contrast)."""
    header = ""
    if spec.task == "contrast":
        from viewer.modules.ai.study import header_contrast

        header = header_contrast(meta.description)
    return {"level": level, "model": spec.name, "model_sha256": spec.sha256,
            "study_uid": meta.study_instance_uid, "series_uid": meta.series_instance_uid,
            "series_key": meta.uid, "description": meta.description, "modality": meta.modality,
            "orientation": meta.orientation, "header_contrast": header,
            "acquisition": weighting_of(meta.acquisition).words or None}


def failure_record(spec: Any, failure: SeriesFailure) -> dict[str, Any]:
    """The record of a series that could not be classified (no model needed: the Ray driver
    writes these for series whose reader died)."""
    row = {**base_row(spec, failure.meta, "series"), "status": "failed", "error": failure.reason,
           "n_slices": failure.meta.n_files}
    return {"model": spec.name, "sha256": spec.sha256, "uid": failure.meta.uid,
            "status": "failed", "error": failure.reason, "attempt": failure.attempt,
            "finished": _now(), "rows": [row]}


class SeriesInference:
    """One loaded model (``model``: registered name) applied series by series."""

    def __init__(self, model: str, options: InferOptions) -> None:
        from inference import describe_device, load_model

        self.options = options
        self.clf = load_model(model, device=options.device)
        self.spec = self.clf.spec
        self.classes = tuple(self.spec.classes)
        self.device = describe_device(self.clf.device)
        self.is_contrast = self.spec.task == "contrast"

    # -------------------------------------------------------------------- records
    def _base(self, meta: SeriesMeta, level: str) -> dict[str, Any]:
        return base_row(self.spec, meta, level)

    def failure_record(self, failure: SeriesFailure) -> dict[str, Any]:
        return failure_record(self.spec, failure)

    def __call__(self, work: SeriesWork | SeriesFailure) -> dict[str, Any]:
        """The record of one series; an exception inside the model becomes a failed record."""
        if isinstance(work, SeriesFailure):
            return self.failure_record(work)
        try:
            return self._record(work)
        except Exception as exc:  # noqa: BLE001 - recorded; the batch goes on
            return self.failure_record(SeriesFailure(
                work.meta, f"the model failed on this series: {type(exc).__name__}: {exc}", work.attempt))

    def _record(self, work: SeriesWork) -> dict[str, Any]:
        t0 = time.perf_counter()
        preds = self.clf.predict_prepared(work.tensors, work.warnings, work.domains,
                                          self.options.batch_size)
        preds = judge_all(preds, work.meta.acquisition, self.spec.task)
        infer_s = time.perf_counter() - t0
        maps, explain_s, files, missing = (self._explain(work, preds) if preds
                                           else (None, 0.0, {}, []))
        base = self._base(work.meta, "slice")
        n = len(work.status)
        ok = work.ok_indices
        by_k = dict(zip(ok, preds))
        rows: list[dict[str, Any]] = []
        for k in range(n):
            row = {**base, "slice": k + 1, "sop_uid": work.sop_uids[k], "file": work.files[k],
                   "status": work.status[k], "error": work.detail[k] or None,
                   "read_s": work.read_s / n, "preprocess_s": work.preprocess_s / n}
            p = by_k.get(k)
            if p is not None:
                a = p.applicability
                row.update({f"p_{c}": p.probabilities[c] for c in self.classes})
                row.update(predicted=p.predicted, applicable=p.applicable,
                           reasons="; ".join(a.reasons) if a else "",
                           warnings="; ".join(p.warnings), infer_s=infer_s / max(1, len(ok)),
                           explain_s=explain_s / max(1, len(ok)) if maps is not None else None)
                if maps is not None:
                    row["map_max"] = float(np.max(maps[k]))
                if self.is_contrast:
                    row["disagrees"] = bool(p.applicable and row["header_contrast"]
                                            and row["header_contrast"] != p.predicted)
            rows.append(row)
        series = {**self._base(work.meta, "series"), "n_slices": n, "slices_ok": len(ok),
                  "read_s": work.read_s, "preprocess_s": work.preprocess_s, "infer_s": infer_s,
                  "explain_s": explain_s if maps is not None else None,
                  "warnings": "; ".join(work.series_warnings),
                  "outputs_missing": "; ".join(missing) or None, **files}
        if preds:
            mean = np.mean([[p.probabilities[c] for c in self.classes] for p in preds], axis=0)
            label = self.classes[int(np.argmax(mean))]
            applicable = all(p.applicable for p in preds)
            reasons = summarise_reasons([tuple(p.applicability.reasons) if p.applicability else ()
                                         for p in preds], len(preds))
            series.update({f"p_{c}": float(v) for c, v in zip(self.classes, mean)})
            series.update(status="ok", predicted=label, applicable=applicable,
                          reasons="; ".join(reasons), slices_applicable=sum(p.applicable for p in preds))
            vote = contradiction(weighting_of(work.meta.acquisition), label) if self.is_contrast else ""
            if applicable and vote:                           # the series vote is checked too
                applicable = False
                series.update(applicable=False, reasons="; ".join((*reasons, vote)))
            if self.is_contrast:
                series["disagrees"] = bool(applicable and series["header_contrast"]
                                           and series["header_contrast"] != label)
        else:
            why = next((d for d in work.detail if d), "no slice could be classified")
            series.update(status="failed", error=f"no slice could be classified: {why}")
        return {"model": self.spec.name, "sha256": self.spec.sha256, "uid": work.meta.uid,
                "status": series["status"], "error": series.get("error"), "attempt": work.attempt,
                "outputs_missing": missing, "finished": _now(), "rows": [series, *rows]}

    # ------------------------------------------------------------------- maps
    def _explain(self, work: SeriesWork, preds: list[Any]
                 ) -> tuple[np.ndarray | None, float, dict, list[str]]:
        """Heat maps and result files of a classified series: (maps or None, seconds, file
        columns, what could not be made and why). A map or file that cannot be made leaves the
        series' calls standing: it is named, with its reason, in ``outputs_missing``."""
        opts = self.options
        if not opts.explain and not opts.dicom:
            return None, 0.0, {}, []
        volume = work.volume
        if volume is None:
            raise RuntimeError("the series was read without its pixels")
        t0 = time.perf_counter()
        maps = None
        explanations: dict[int, Any] = {}
        missing: list[str] = []
        if opts.explain:
            try:
                maps = np.zeros(volume.shape, np.float32)
                for k in work.ok_indices:
                    # a detector's maps all explain its finding (one class through the volume)
                    exp = self.clf.explain(volume.voxels[k], opts.explain, self.spec.map_target,
                                           spacing=work.spacing, modality=volume.modality,
                                           orientation=volume.orientation)
                    maps[k] = exp.map
                    explanations[k] = exp
            except Exception as exc:  # noqa: BLE001 - the calls stand; the maps are named missing
                maps, explanations = None, {}
                missing.append(f"{opts.explain} maps not made: {reason_of(exc)}")
        files: dict[str, Any] = {}
        stem = safe_name(work.meta.uid)
        root = Path(opts.out)
        if opts.nifti and maps is not None:
            from viewer.core.exports import write_heatmap_nifti

            final = root / "maps" / safe_name(self.spec.name) / f"{stem}_{opts.explain}.nii.gz"
            tmp = final.with_name(f".{final.name[:-7]}.tmp.nii.gz")
            try:
                os.replace(write_heatmap_nifti(maps, volume, tmp), final)
                files["map_file"] = str(final)
            except Exception as exc:  # noqa: BLE001 - named missing, with its reason
                tmp.unlink(missing_ok=True)
                missing.append(f"NIfTI map not written: {reason_of(exc)}")
        if opts.dicom:
            from viewer.modules.ai.dicom_export import SliceResult, algorithm_from_spec, write_dicom_results

            final_dir = root / "dicom" / safe_name(self.spec.name) / stem
            tmp_dir = final_dir.with_name(f".{stem}.partial")
            shutil.rmtree(tmp_dir, ignore_errors=True)
            results = [SliceResult(k, p, explanations.get(k)) for k, p in zip(work.ok_indices, preds)]
            try:
                write_dicom_results(tmp_dir, volume, results, algorithm_from_spec(self.spec))
                shutil.rmtree(final_dir, ignore_errors=True)
                os.replace(tmp_dir, final_dir)
                files["dicom_dir"] = str(final_dir)
            except Exception as exc:  # noqa: BLE001 - e.g. highdicom refusing the source headers
                shutil.rmtree(tmp_dir, ignore_errors=True)
                missing.append(f"DICOM results not written: {reason_of(exc)}")
        return maps, time.perf_counter() - t0, files, missing


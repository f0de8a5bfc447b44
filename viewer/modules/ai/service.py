"""Classifier work for the viewer, run in JobRunner worker threads (never on the GUI thread).

Each ``*_job`` function returns a job ``fn(ctx)`` for :class:`viewer.state.jobs.JobRunner`; torch and
``inference`` are imported inside the jobs, so the window appears before torch has loaded. Jobs
yield progress records and return plain frozen records of :mod:`viewer.modules.ai.state` tagged with
series, slice, model, method, target and request id. ``compute_maps`` runs the same code
synchronously (headless screenshots).

One loaded model serves every thread through :class:`ModelPool`; each use holds the model's
lock, because Grad-CAM hooks on a shared module must not see another thread's forward pass.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from viewer.io.records import SeriesInfo, Volume
from viewer.modules.ai.state import (
    PREDICTED,
    ContrastLabel,
    KneeResult,
    MapResult,
    ModelCard,
    ResultTag,
    SweepResult,
)
from viewer.modules.ai.weighting import contradiction, judge_all, judge_explanation, weighting_of

SWEEP_CHUNK = 8


# -- models ----------------------------------------------------------------------------------
def list_model_cards() -> list[ModelCard]:
    """Cards of every registered model (reads the JSON manifests; no torch)."""
    from inference.domain import domain_block
    from inference.registry import get_spec, list_models

    cards = []
    for name in list_models():
        s = get_spec(name)
        try:
            domain = domain_block(s)
        except (AttributeError, KeyError, TypeError, ValueError):
            domain = {}  # a plug-in's odd manifest: picked without domain, still checked per call
        cards.append(ModelCard(
            name=s.name, task=s.task, classes=tuple(s.classes), backbone=s.backbone,
            modality=s.modality, level=s.level, version=s.version,
            input_size=int(s.input.get("size", 0) or 0), metrics=dict(s.metrics),
            intended_use=s.intended_use, training_data=s.training_data, demo=s.demo,
            demo_statement=s.demo_statement, domain=domain, map_target=s.map_target or ""))
    return cards


class ModelPool:
    """Loaded classifiers shared by the worker threads, one per (model name, device choice).

    ``device``: "auto", "cpu", "cuda" or "mps". ``use(name)`` is a context manager giving the
    classifier with its lock held.
    """

    def __init__(self, device: str = "auto") -> None:
        self._guard = threading.Lock()
        self._models: dict[tuple[str, str], tuple[Any, threading.RLock]] = {}
        self.device = device

    def set_device(self, device: str) -> None:
        """Use ``device`` from now on (models are reloaded on it when next used)."""
        with self._guard:
            self.device = device
            self._models.clear()

    def _device_arg(self) -> str | None:
        return None if self.device in ("", "auto") else self.device

    def get(self, name: str) -> tuple[Any, threading.RLock]:
        """(Classifier, its lock); loads it on first use (ModelLoadError, ValueError on failure)."""
        key = (name, self.device)
        with self._guard:
            entry = self._models.get(key)
        if entry is not None:
            return entry
        from inference import load_model

        if name.lower().endswith(".json"):  # a manifest file (e.g. named by a case list)
            clf = load_model(name, device=self._device_arg(), manifest_path=name)
        else:
            clf = load_model(name, device=self._device_arg())
        with self._guard:
            entry = self._models.setdefault(key, (clf, threading.RLock()))
        return entry

    @contextmanager
    def use(self, name: str) -> Iterator[Any]:
        clf, lock = self.get(name)
        with lock:
            yield clf

    def clear(self) -> None:
        with self._guard:
            self._models.clear()


def describe_device_job(device: str) -> Callable[[Any], str]:
    """Job: the device description ("CPU, 1 thread", "CUDA: <name>") for a device choice."""
    def job(ctx: Any) -> str:
        from inference import describe_device

        return describe_device(None if device in ("", "auto") else device)
    return job


def model_cards_job() -> Callable[[Any], tuple[list[ModelCard], list[Any]]]:
    """A job listing (cards of the usable models, ``inference.registry.BrokenModel`` records of
    the manifests and plug-ins that cannot be used): one broken model never hides the others."""
    def job(ctx: Any) -> tuple[list[ModelCard], list[Any]]:
        from inference.registry import broken_models

        return list_model_cards(), broken_models()
    return job


def _slice_spacing(volume: Volume) -> tuple[float, float]:
    return (float(volume.spacing[1]), float(volume.spacing[2]))


# -- one slice: prediction and maps -----------------------------------------------------------
def iter_slice_maps(pool: ModelPool, volume: Volume, k: int, model: str, methods: Sequence[str],
                    target: str = PREDICTED, *, request_id: int = 0,
                    cancelled: Callable[[], bool] | None = None,
                    truth: Callable[[], np.ndarray | None] | None = None,
                    faithfulness: bool = True) -> Iterator[MapResult]:
    """Maps of slice ``k`` by each method in ``methods`` ("gradcam" / "hirescam" fast first,
    then occlusion coarse to fine); yields a MapResult per map (coarse occlusion passes with ``final=False``).

    ``truth()`` gives the ground-truth mask (z, y, x) when known (pointing game), else None.
    Each final map is yielded as soon as it is made (pointing game where the mask has a lesion
    on slice ``k``, ``scored=False``); with ``faithfulness`` its deletion score against 5 random
    smooth maps is then computed and the same map yielded again with those scores
    (``scored=True``), so the reader sees the map before its score. Coarse occlusion passes
    carry no scores. Each map's ``explanation.prediction.applicability`` says whether the slice
    is in the model's domain (the volume's orientation is passed for the plane check).
    """
    is_cancelled = cancelled or (lambda: False)
    image = np.asarray(volume.voxels[k], dtype=np.float32)
    spacing = _slice_spacing(volume)
    mask_volume = truth() if truth is not None else None
    mask = mask_volume[k] if mask_volume is not None and mask_volume.shape == volume.shape else None
    weighting = weighting_of(volume.acquisition)
    for method in sorted(methods, key=lambda m: m == "occlusion"):  # fast CAMs first
        tag = ResultTag(volume.series_uid, int(k), model, method, target, request_id)
        t0 = time.perf_counter()
        clf, lock = pool.get(model)
        with lock:
            gen = clf.iter_explain(image, method, target or None, cancelled=is_cancelled,
                                   spacing=spacing, modality=volume.modality, mask=mask,
                                   faithfulness=False, orientation=volume.orientation)
        while True:
            if is_cancelled():
                gen.close()
                return
            with lock:
                exp = next(gen, None)
            if exp is None:
                break
            exp = judge_explanation(exp, weighting, clf.spec)
            if not exp.final or not faithfulness:
                yield MapResult(tag, exp, seconds=time.perf_counter() - t0)
                continue
            yield MapResult(tag, exp, seconds=time.perf_counter() - t0, scored=False)
            if is_cancelled():
                return
            with lock:
                scored = _with_deletion_score(clf, image, exp, spacing, mask)
            yield MapResult(tag, scored, seconds=time.perf_counter() - t0)


def _with_deletion_score(clf: Any, image: np.ndarray, exp: Any, spacing: tuple[float, float],
                         mask: np.ndarray | None) -> Any:
    """``exp`` with its deletion score and random-map baseline added to its scores."""
    from inference.explain.faithfulness import score_map

    scores = score_map(clf, image, exp.map, exp.target, mask=mask, spacing=spacing, deletion=True)
    return replace(exp, scores=scores)


def explain_job(pool: ModelPool, volume: Volume, k: int, model: str, methods: Sequence[str],
                target: str = PREDICTED, truth: Callable[[], np.ndarray | None] | None = None):
    """Job: yields each MapResult of slice ``k`` as it is made; returns the final ones."""
    def job(ctx: Any) -> Iterator[MapResult]:
        finals: list[MapResult] = []
        for result in iter_slice_maps(pool, volume, k, model, methods, target,
                                      request_id=ctx.request_id, cancelled=ctx.cancelled,
                                      truth=truth):
            if result.final and result.scored:
                finals.append(result)
            yield result
        return tuple(finals)
    return job


def default_target(model: str) -> str:
    """The target a model's maps explain unless the reader picks another: a detector's finding
    (``ModelSpec.map_target``), else ``PREDICTED``."""
    from inference.registry import get_spec

    return get_spec(model).map_target or PREDICTED


def compute_maps(volume: Volume, k: int, model: str, methods: Sequence[str],
                 target: str = PREDICTED, device: str = "auto",
                 faithfulness: bool = False) -> list[MapResult]:
    """The final maps of slice ``k`` synchronously (for headless rendering), one per method."""
    pool = ModelPool(device)
    return [r for r in iter_slice_maps(pool, volume, k, model, methods, target,
                                       faithfulness=faithfulness) if r.final and r.scored]


# -- series sweep ------------------------------------------------------------------------------
def sweep_job(pool: ModelPool, volume: Volume, model: str, chunk: int = SWEEP_CHUNK):
    """Job: per-slice probabilities of every slice, ``chunk`` slices per model call; yields a
    growing SweepResult after each chunk (NaN where not done yet) and returns the complete one,
    with each slice's applicability (mask and reasons)."""
    def job(ctx: Any) -> Iterator[SweepResult]:
        clf, lock = pool.get(model)
        if clf.spec.level != "slice":
            raise ValueError(f"The {model} model reads whole exams; a per-slice sweep needs a "
                             "slice model (e.g. tumour).")
        classes = tuple(clf.spec.classes)
        n = volume.n_slices
        probs = np.full((n, len(classes)), np.nan, np.float32)
        applicable = np.ones(n, dtype=bool)
        reasons: list[tuple[str, ...]] = [() for _ in range(n)]
        spacing = _slice_spacing(volume)
        for start in range(0, n, chunk):
            ctx.check()
            images = [np.asarray(volume.voxels[i], np.float32) for i in range(start, min(n, start + chunk))]
            with lock:
                preds = clf.predict_batch(images, spacing=spacing, modality=volume.modality,
                                          batch_size=chunk, orientation=volume.orientation)
            preds = judge_all(preds, volume.acquisition, getattr(clf.spec, "task", ""))
            for i, p in enumerate(preds):
                probs[start + i] = [p.probabilities[c] for c in classes]
                applicable[start + i] = p.applicable
                reasons[start + i] = tuple(p.applicability.reasons) if p.applicability else ()
            done = min(n, start + chunk)
            result = SweepResult(volume.series_uid, model, classes, probs.copy(), done, n,
                                 ctx.request_id, applicable.copy(), tuple(reasons))
            if done < n:
                yield result
        return result
    return job


# -- contrast labels ---------------------------------------------------------------------------
def _central_files(info: SeriesInfo, count: int) -> SeriesInfo:
    files = info.files
    if len(files) <= count:
        return info
    mid = len(files) // 2
    start = max(0, mid - count // 2)
    return replace(info, files=tuple(files[start:start + count]))


def contrast_job(pool: ModelPool, series: Sequence[SeriesInfo], model: str = "contrast",
                 slices: int = 3):
    """Job: for each MR series, the contrast model's label on ``slices`` central slices
    (probabilities averaged); yields a ContrastLabel per series as it is done. A series whose
    slices lie outside the model's domain (any one of them) gets no label, only its reasons."""
    def job(ctx: Any) -> Iterator[ContrastLabel]:
        from viewer.io import load_series
        from viewer.modules.ai.state import summarise_reasons
        from viewer.modules.ai.study import contrast_disagrees, header_contrast

        for info in series:
            ctx.check()
            if info.modality.upper() != "MR" or info.frames_per_file > 1 and len(info.files) == 1:
                continue
            part = _central_files(info, slices)
            try:
                volume = load_series(part, cancelled=ctx.cancelled)
            except Exception as exc:  # one unreadable series must not stop the others
                import logging
                logging.getLogger(__name__).warning("contrast label skipped for %s: %s",
                                                    info.description, exc)
                continue
            images = [np.asarray(v, np.float32) for v in volume.voxels]
            with pool.use(model) as clf:
                preds = clf.predict_batch(images, spacing=_slice_spacing(volume), modality="MR",
                                          orientation=volume.orientation)
                classes = tuple(clf.spec.classes)
                demo = bool(clf.spec.demo)
                task = clf.spec.task
            preds = judge_all(preds, info.acquisition, task)
            mean = np.mean([[p.probabilities[c] for c in classes] for p in preds], axis=0)
            label = classes[int(np.argmax(mean))]
            header = header_contrast(info.description)
            ok = all(p.applicable for p in preds)
            reasons = summarise_reasons([p.applicability.reasons for p in preds
                                         if p.applicability and not p.applicable], len(preds))
            vote = contradiction(weighting_of(info.acquisition), label) if task == "contrast" else ""
            if ok and vote:                                   # the series vote is checked too
                ok, reasons = False, (vote,)
            yield ContrastLabel(info.uid, label, float(mean.max()), header,
                                ok and contrast_disagrees(header, label), len(images), ok, reasons,
                                demo=demo)
    return job


# -- knee exams --------------------------------------------------------------------------------
def knee_job(pool: ModelPool, plane_series: dict[str, SeriesInfo], model: str = "knee",
             target: str = PREDICTED):
    """Job: load each plane's series, run the knee model per plane and fused, and Grad-CAM per
    slice of each plane for ``target`` (default: the called label, else "abnormal")."""
    def job(ctx: Any) -> Iterator[tuple[int, int]]:
        from viewer.io import load_series

        with pool.use(model) as clf:
            planes = tuple(clf.spec.planes)
        exam: dict[str, np.ndarray] = {}
        uids: dict[str, str] = {}
        spacing = None
        present = [p for p in planes if p in plane_series]
        for n, plane in enumerate(present):
            ctx.check()
            vol = load_series(plane_series[plane], cancelled=ctx.cancelled)
            exam[plane] = np.asarray(vol.voxels, np.float32)
            uids[plane] = vol.series_uid
            spacing = spacing or _slice_spacing(vol)
            yield (n + 1, len(present) + 1)
        if not exam:
            raise ValueError("This study has no sagittal, coronal or axial MR series for the knee model.")
        missing = tuple(p for p in planes if p not in exam)
        with pool.use(model) as clf:
            labels = list(clf.spec.classes)
            pred = clf.predict(exam, modality="MR")
            chosen = target or (pred.predicted if pred.predicted in labels else labels[0])
            exp = None
            for exp in clf.iter_explain(exam, "gradcam", chosen, cancelled=ctx.cancelled,
                                        modality="MR"):
                pass
        ctx.check()
        if exp is None:
            raise RuntimeError("the knee explanation stopped before producing a map")
        maps = {uids[p]: np.ascontiguousarray(m, np.float32) for p, m in exp.map.items()}
        importance = {uids[p]: np.asarray(v, np.float32) for p, v in (exp.importance or {}).items()}
        return KneeResult(model, uids, missing, pred, exp.target, maps, importance,
                          ctx.request_id)
    return job

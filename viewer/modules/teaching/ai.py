"""The AI result of a teaching case: the case's model on its key slice, with Grad-CAM (and
occlusion when asked) and, where the case has a ground-truth mask, the pointing game.

App-level code: ``inference`` (and torch) are imported lazily inside the functions, which run in
JobRunner worker threads or in the headless replay. Results are plain frozen data (numpy maps in
slice pixel geometry (y, x), float32, raw range) that the GUI thread can show without torch.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from viewer.io.records import Volume
from viewer.modules.teaching.caselist import Case

log = logging.getLogger(__name__)
POINTING_TOLERANCE_224 = 15.0   # px at a 224 px model input, scaled to the slice
METHOD_NAMES = {"gradcam": "Grad-CAM", "occlusion": "Occlusion"}

_models: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
_guard = threading.Lock()


@dataclass(frozen=True)
class Pointing:
    """Pointing game of one map: maximum within ``tolerance_px`` of the mask, and exactly inside."""

    hit: bool
    exact: bool
    tolerance_px: float


@dataclass(frozen=True)
class CaseAI:
    """The model's answer for a case's key slice (0-based ``slice_index``); ``error`` is set (and
    the rest empty) when no result could be made. ``maps``: {method: float32 (y, x)}."""

    case_id: str
    slice_index: int
    model: str = ""
    predicted: str = ""
    probability: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    target: str = ""
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    pointing: dict[str, Pointing] = field(default_factory=dict)
    demo: bool = False
    demo_statement: str = ""
    warnings: tuple[str, ...] = ()
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


def _classifier(model: str, device: str | None) -> tuple[Any, threading.Lock]:
    """A loaded classifier and its lock, cached per (model, device); model = name or manifest."""
    key = (model, device or "auto")
    with _guard:
        entry = _models.get(key)
    if entry is not None:
        return entry
    from inference import load_model

    if model.lower().endswith(".json"):
        clf = load_model(model, device=device, manifest_path=model)
    else:
        clf = load_model(model, device=device)
    with _guard:
        return _models.setdefault(key, (clf, threading.Lock()))


def clear_model_cache() -> None:
    """Forget loaded classifiers (e.g. after the device changed)."""
    with _guard:
        _models.clear()


def key_slice(case: Case, n_slices: int) -> int:
    """0-based key slice of ``case`` in a series of ``n_slices`` (middle when not given)."""
    k = case.slice - 1 if case.slice else n_slices // 2
    if not 0 <= k < n_slices:
        raise ValueError(f"case {case.case_id}: slice {case.slice} is outside the series "
                         f"(1-{n_slices})")
    return k


def load_mask(case: Case, volume: Volume, k: int) -> np.ndarray | None:
    """The case's ground-truth mask on slice ``k`` (bool (y, x)), None when it has none."""
    if not case.mask:
        return None
    mask = np.load(case.mask, allow_pickle=False)
    if mask.shape != volume.voxels.shape[:3]:
        raise ValueError(f"case {case.case_id}: mask shape {mask.shape} does not match the "
                         f"series {volume.voxels.shape[:3]}")
    return np.asarray(mask[k], dtype=bool)


def run_case_ai(case: Case, volume: Volume, k: int, methods: Sequence[str] = ("gradcam",),
                device: str | None = None, cancelled: Callable[[], bool] | None = None) -> CaseAI:
    """The case's model on slice ``k`` of ``volume``: prediction and one map per method."""
    t0 = time.perf_counter()
    if not case.model:
        return CaseAI(case.case_id, k, error="This case has no model: no AI result to show.")
    try:
        clf, lock = _classifier(case.model, device)
        if clf.spec.level != "slice":
            return CaseAI(case.case_id, k, model=clf.spec.name,
                          error=f"The {clf.spec.name} model reads whole exams; teaching cases "
                                "need a slice model.")
        image = np.asarray(volume.voxels[k], dtype=np.float32)
        spacing = (float(volume.spacing[1]), float(volume.spacing[2]))
        maps: dict[str, np.ndarray] = {}
        pred = None
        target = case.target or None
        for method in methods:
            with lock:
                exp = None
                for exp in clf.iter_explain(image, method, target, cancelled=cancelled,
                                            spacing=spacing, modality=volume.modality):
                    pass
            if exp is None or not exp.final:
                return CaseAI(case.case_id, k, error="cancelled")
            maps[method] = np.ascontiguousarray(exp.map, dtype=np.float32)
            pred, target = exp.prediction, exp.target
    except Exception as exc:  # shown on reveal and written to the session CSV
        from inference import InputError, ModelLoadError

        expected = isinstance(exc, (ModelLoadError, InputError, ValueError))
        log.warning("AI for case %s failed: %s", case.case_id, exc, exc_info=not expected)
        return CaseAI(case.case_id, k, model=case.model,
                      error=str(exc) if expected else f"{type(exc).__name__}: {exc}")
    assert pred is not None
    pointing: dict[str, Pointing] = {}
    mask = load_mask(case, volume, k)
    if mask is not None and mask.any():
        from inference.explain.faithfulness import pointing_game

        for method, heat in maps.items():
            tol = POINTING_TOLERANCE_224 * max(heat.shape) / 224.0
            pointing[method] = Pointing(pointing_game(heat, mask, tol),
                                        pointing_game(heat, mask, 0.0), tol)
    spec = clf.spec
    return CaseAI(case.case_id, k, model=spec.name, predicted=pred.predicted,
                  probability=float(pred.probabilities[pred.predicted]),
                  probabilities=dict(pred.probabilities), target=str(target), maps=maps,
                  pointing=pointing, demo=bool(spec.demo), demo_statement=spec.demo_statement,
                  warnings=tuple(pred.warnings), seconds=time.perf_counter() - t0)


def load_case_volume(case: Case, cancelled: Callable[[], bool] | None = None) -> Volume:
    """Discover the case's study and load its series (UID, SeriesInstanceUID or a description
    word; the first series when not given). Raises ValueError naming the case when absent."""
    from viewer.io import discover, load_series

    result = discover(case.study, cancelled=cancelled)
    if not result.series:
        raise ValueError(f"case {case.case_id}: no DICOM series found in {case.study}")
    chosen = result.series[0]
    if case.series:
        want = case.series.lower()
        matches = [s for s in result.series if want in (s.uid.lower(), s.series_instance_uid.lower())]
        matches = matches or [s for s in result.series if want in s.description.lower()]
        if not matches:
            raise ValueError(f"case {case.case_id}: series {case.series!r} is not in {case.study}")
        chosen = matches[0]
    return load_series(chosen, cancelled=cancelled)

"""The AI result of a teaching case: the case's model on its key slice, with Grad-CAM (and
occlusion when asked) and, where the case has a ground-truth mask, the pointing game.

A key slice outside the model's domain (plane, modality, body part, unlike the training data)
gives no AI answer: :attr:`CaseAI.call` is "" and :attr:`CaseAI.note` says why; teaching never
shows or records such an output as if it were a valid call.

App-level code: ``inference`` (and torch) are imported lazily inside the functions, which run in
JobRunner worker threads or in the headless replay. Results are the torch-free records of
:mod:`inference.results` (maps in slice pixel geometry (y, x), float32, raw range, with their
scores) that the GUI thread can show without torch.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from viewer.io.records import Volume
from viewer.modules.ai.weighting import judge_explanation, weighting_of
from viewer.modules.teaching.caselist import Case

if TYPE_CHECKING:  # the records are plain data; importing them here would load inference early
    from inference.results import Explanation, Pointing, Prediction

log = logging.getLogger(__name__)
METHOD_NAMES = {"gradcam": "Grad-CAM", "hirescam": "HiResCAM", "occlusion": "Occlusion"}


class ClassifierPool(Protocol):
    """Loaded classifiers by model name or manifest path: (classifier, its lock)."""

    def get(self, name: str) -> tuple[Any, Any]: ...


@dataclass(frozen=True)
class CaseAI:
    """The model's answer for a case's key slice (0-based ``slice_index``): the classifier's
    ``prediction`` and one final ``explanations[method]`` per map method (map float32 (y, x) in
    slice pixels, raw range, with its scores: the pointing game where the case has a mask), as
    :mod:`inference.results` records. ``error`` is set (and the rest empty) when no result could
    be made."""

    case_id: str
    slice_index: int
    model: str = ""
    prediction: Prediction | None = None
    explanations: dict[str, Explanation] = field(default_factory=dict)
    demo: bool = False
    demo_statement: str = ""
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def predicted(self) -> str:
        return self.prediction.predicted if self.prediction else ""

    @property
    def probabilities(self) -> dict[str, float]:
        return dict(self.prediction.probabilities) if self.prediction else {}

    @property
    def probability(self) -> float | None:
        """Probability of the predicted class (None without a prediction)."""
        p = self.prediction
        return float(p.probabilities[p.predicted]) if p and p.predicted in p.probabilities else None

    @property
    def applicable(self) -> bool:
        """False when the key slice lies outside the model's domain: no valid call."""
        return self.prediction is None or self.prediction.applicable

    @property
    def domain_notice(self) -> str:
        """"Outside this model's domain: <reasons>", "" when applicable."""
        p = self.prediction
        return p.applicability.summary if p is not None and p.applicability and not p.applicable else ""

    @property
    def call(self) -> str:
        """The AI's answer as a reader may see it: the predicted class, "" when out of domain."""
        return self.predicted if self.applicable else ""

    @property
    def call_probability(self) -> float | None:
        """:attr:`probability` of a valid call, None when out of domain."""
        return self.probability if self.applicable else None

    @property
    def note(self) -> str:
        """Why there is no AI answer (the error or the out-of-domain notice), "" when there is."""
        return self.error or self.domain_notice

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.prediction.warnings if self.prediction else ()

    @property
    def target(self) -> str:
        return next(iter(self.explanations.values())).target if self.explanations else ""

    @property
    def maps(self) -> dict[str, np.ndarray]:
        """{method: float32 (y, x) heat map}."""
        return {m: e.map for m, e in self.explanations.items()}

    @property
    def pointing(self) -> dict[str, Pointing]:
        """{method: pointing game} for the maps scored against a mask with a lesion."""
        return {m: e.scores.pointing for m, e in self.explanations.items()
                if e.scores is not None and e.scores.pointing is not None}


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


def run_case_ai(case: Case, volume: Volume, k: int, methods: Sequence[str], pool: ClassifierPool,
                cancelled: Callable[[], bool] | None = None) -> CaseAI:
    """The case's model on slice ``k`` of ``volume``: prediction and one map per method.

    ``pool`` is the AI module's model pool (``viewer.modules.ai.service.ModelPool``): the
    quiz, presenter mode and the free-running AI panel share one copy of each model."""
    t0 = time.perf_counter()
    if not case.model:
        return CaseAI(case.case_id, k, error="This case has no model: no AI result to show.")
    try:
        clf, lock = pool.get(case.model)
        if clf.spec.level != "slice":
            return CaseAI(case.case_id, k, model=clf.spec.name,
                          error=f"The {clf.spec.name} model reads whole exams; teaching cases "
                                "need a slice model.")
        image = np.asarray(volume.voxels[k], dtype=np.float32)
        spacing = (float(volume.spacing[1]), float(volume.spacing[2]))
        mask = load_mask(case, volume, k)
        explanations: dict[str, Explanation] = {}
        target = case.target or clf.spec.map_target   # a detector's finding, as in the viewer
        for method in methods:
            with lock:
                exp = None
                for exp in clf.iter_explain(image, method, target, cancelled=cancelled,
                                            spacing=spacing, modality=volume.modality, mask=mask,
                                            orientation=volume.orientation):
                    pass
            if exp is None or not exp.final:
                return CaseAI(case.case_id, k, error="cancelled")
            exp = judge_explanation(exp, weighting_of(volume.acquisition), clf.spec)
            explanations[method] = exp
            target = exp.target
    except Exception as exc:  # shown on reveal and written to the session CSV
        from inference.errors import InputError, ModelLoadError

        expected = isinstance(exc, (ModelLoadError, InputError, ValueError))
        log.warning("AI for case %s failed: %s", case.case_id, exc, exc_info=not expected)
        return CaseAI(case.case_id, k, model=case.model,
                      error=str(exc) if expected else f"{type(exc).__name__}: {exc}")
    if not explanations:
        return CaseAI(case.case_id, k, model=clf.spec.name, error="no map method was asked for")
    spec = clf.spec
    pred = next(iter(explanations.values())).prediction
    return CaseAI(case.case_id, k, model=spec.name, prediction=pred, explanations=explanations,
                  demo=bool(spec.demo), demo_statement=spec.demo_statement,
                  seconds=time.perf_counter() - t0)


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

"""Classification metrics in numpy: binary, one-vs-rest multi-class and multi-label, ROC / AUC.

Scores are probabilities; binary decisions use ``threshold`` (0.5). ``roc_auc`` is the
Mann-Whitney statistic (ties count one half), equal to the trapezoidal area under the ROC curve.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SUMMARY_KEYS = ("accuracy", "sensitivity", "specificity", "precision", "f1", "balanced_accuracy",
                "mcc", "roc_auc")


def _div(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def roc_auc(y_true: Sequence[int], score: Sequence[float]) -> float | None:
    """Area under the ROC curve; None when only one class is present."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    allv = np.concatenate([pos, neg])[order]
    ranks = np.empty(len(allv))
    i = 0
    while i < len(allv):                      # average ranks over ties
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2.0 + 1.0
        i = j + 1
    r = np.empty(len(allv))
    r[order] = ranks
    return float((r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


def roc_curve(y_true: Sequence[int], score: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate) over all thresholds, from (0, 0) to (1, 1)."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(y)[distinct]
    fp = np.cumsum(~y)[distinct]
    tpr = np.r_[0.0, tp / max(1, y.sum())]
    fpr = np.r_[0.0, fp / max(1, (~y).sum())]
    return fpr, tpr


def binary_metrics(y_true: Sequence[int], score: Sequence[float], threshold: float = 0.5) -> dict:
    """Accuracy, sensitivity, specificity, precision, F1, balanced accuracy, MCC, ROC AUC,
    confusion matrix [[TN, FP], [FN, TP]] for a positive-class probability ``score``."""
    y = np.asarray(y_true).astype(bool)
    pred = np.asarray(score, dtype=np.float64) >= threshold
    tp = int((y & pred).sum())
    tn = int((~y & ~pred).sum())
    fp = int((~y & pred).sum())
    fn = int((y & ~pred).sum())
    sens, spec, prec = _div(tp, tp + fn), _div(tn, tn + fp), _div(tp, tp + fp)
    denom = np.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {"accuracy": _div(tp + tn, len(y)), "sensitivity": sens, "specificity": spec,
            "precision": prec, "f1": _div(2 * prec * sens, prec + sens),
            "balanced_accuracy": (sens + spec) / 2.0,
            "mcc": float((tp * tn - fp * fn) / denom) if denom else 0.0,
            "roc_auc": roc_auc(y, score), "confusion_matrix": [[tn, fp], [fn, tp]], "n": len(y)}


def _macro(per: dict[str, dict]) -> dict:
    out = {}
    for key in SUMMARY_KEYS:
        vals = [m[key] for m in per.values() if m[key] is not None]
        out[key] = float(np.mean(vals)) if vals else None
    return out


def multiclass_metrics(y_true: Sequence[int], probs: np.ndarray, classes: Sequence[str]) -> dict:
    """Overall accuracy and K x K confusion matrix (rows true, columns predicted), per-class
    one-vs-rest figures under "per_class", macro averages of the rest at top level."""
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(probs, dtype=np.float64)
    pred = p.argmax(1)
    k = len(classes)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y, pred), 1)
    per = {}
    for i, c in enumerate(classes):
        m = binary_metrics(y == i, (pred == i).astype(float))
        m["roc_auc"] = roc_auc(y == i, p[:, i])
        per[c] = m
    out = _macro(per)
    out["accuracy"] = float((pred == y).mean())
    out["confusion_matrix"] = cm.tolist()
    out["per_class"] = per
    out["n"] = len(y)
    return out


def multilabel_metrics(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str],
                       threshold: float = 0.5) -> dict:
    """Binary figures per label under "per_class", macro averages at top level; the top-level
    confusion matrix is the per-label [[TN, FP], [FN, TP]] summed."""
    y = np.asarray(y_true)
    p = np.asarray(probs, dtype=np.float64)
    per = {lab: binary_metrics(y[:, i], p[:, i], threshold) for i, lab in enumerate(labels)}
    out = _macro(per)
    out["confusion_matrix"] = np.sum([m["confusion_matrix"] for m in per.values()], axis=0).tolist()
    out["per_class"] = per
    out["n"] = len(y)
    return out


def reliability_bins(confidence: Sequence[float], correct: Sequence[bool], bins: int = 15,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width confidence bin over [0, 1]: (mean confidence, accuracy, count); NaN in
    empty bins. The first bin includes 0, each other bin is (lo, hi]."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    count = np.bincount(idx, minlength=bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, conf, minlength=bins) / count
        acc = np.bincount(idx, ok, minlength=bins) / count
    return mean_conf, acc, count


def expected_calibration_error(probs: np.ndarray, y_true: Sequence[int], bins: int = 15) -> float:
    """Top-label expected calibration error (Guo et al. 2017): sum over ``bins`` equal-width
    confidence bins of (share of samples) * |accuracy - mean confidence|; probs (N, K)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true, dtype=int)
    conf, acc, count = reliability_bins(p.max(1), p.argmax(1) == y, bins)
    used = count > 0
    return float(np.sum(count[used] / count.sum() * np.abs(acc[used] - conf[used])))


def ece_binary_labels(y_true: np.ndarray, probs: np.ndarray, bins: int = 15) -> float:
    """Mean over labels of the expected calibration error of each label's sigmoid (as a
    two-class problem); y_true and probs (N, L)."""
    y = np.asarray(y_true) > 0.5
    p = np.asarray(probs, dtype=np.float64)
    return float(np.mean([expected_calibration_error(np.stack([1 - p[:, i], p[:, i]], 1), y[:, i], bins)
                          for i in range(p.shape[1])]))

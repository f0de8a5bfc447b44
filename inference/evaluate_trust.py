"""Trust figures for ``inference.evaluate``: out-of-domain detection and calibration.

* ``ood_report``: ROC AUC of the out-of-distribution distance (and of the whole applicability
  check, domain reasons counting as infinitely far) for held-out in-domain phantoms against
  groups the model must refuse: another body part, another modality, other planes (sagittal /
  coronal reformats of phantom volumes; for the knee exam, its stacks given under the wrong
  plane names) and corrupted images (pure noise, wrong windowing, a colour rendering's
  luminance). No header information is given for the AUCs (the check must see it in the pixels);
  ``refused_with_header`` is the share refused when the caller also passes what a DICOM header
  says (modality, plane). ``false_refusals`` is the share of in-domain images refused.
* ``calibration_report``: expected calibration error (15 bins) before / after temperature
  scaling on held-out phantoms and a reliability diagram.

Images are float32 (H, W) slices (knee: {plane: (S, H, W)} exams) in physical units.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from inference import phantoms
from inference.metrics import (
    ece_binary_labels,
    expected_calibration_error,
    reliability_bins,
    roc_auc,
)
from inference.phantoms.shapes import sub_rng

Item = tuple[Any, dict[str, Any]]          # (image, predict() keyword arguments)
SEED = 2_000_000                            # OOD groups draw from seeds never used for training


def _jet_luminance(img: np.ndarray) -> np.ndarray:
    """A colour (jet) rendering of ``img`` reduced to its luminance 0..255, as a screenshot would."""
    import matplotlib

    lo, hi = np.percentile(img, [1, 99])
    unit = np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1)
    rgb = matplotlib.colormaps["jet"](unit)[..., :3]
    return (255 * (rgb @ np.array([0.299, 0.587, 0.114]))).astype(np.float32)


def _corruptions(img: np.ndarray, ct: bool, rng: np.random.Generator) -> dict[str, np.ndarray]:
    noise = (rng.normal(0, 300, img.shape) if ct else np.abs(rng.normal(0, 300, img.shape)))
    wrong = img + 1024.0 if ct else (float(img.max()) - img)     # CT: no rescale; MR: inverted
    return {"noise": noise.astype(np.float32), "windowing": wrong.astype(np.float32),
            "colour": _jet_luminance(img)}


def _reformats(vol: np.ndarray, z_extent: float) -> dict[str, tuple[np.ndarray, tuple[float, float]]]:
    """Sagittal and coronal central planes of an axial (z, y, x) phantom volume with their
    (row, column) spacing, z stretched to its physical extent relative to y / x."""
    n, h, w = vol.shape
    dz = z_extent / n / (2.0 / h)
    return {"sagittal": (np.ascontiguousarray(vol[:, :, w // 2]), (dz, 1.0)),
            "coronal": (np.ascontiguousarray(vol[:, h // 2, :]), (dz, 1.0))}


def slice_groups(task: str, n: int, size: int) -> dict[str, list[Item]]:
    """Out-of-domain groups for a slice model of ``task`` (n items each)."""
    ct = task == "ct-lesion"
    groups: dict[str, list[Item]] = {}
    if ct:
        groups["other modality (brain MR)"] = [(phantoms.brain_slice(SEED + i, size).image,
                                                {"modality": "MR"})
                                               for i in range(n)]
        groups["other body part (knee MR)"] = [
            (phantoms.knee_exam(SEED + i, size=size, planes=("axial",))[0]["axial"][size // 3],
             {"modality": "MR"}) for i in range(n)]
    else:
        groups["other body part (knee)"] = [
            (phantoms.knee_exam(SEED + i, size=size, planes=("axial",))[0]["axial"][size // 3],
             {"body_part": "KNEE"}) for i in range(n)]
        groups["other modality (CT)"] = [(phantoms.ct_slice(SEED + i, size).image, {"modality": "CT"})
                                         for i in range(n)]
    for plane in ("sagittal", "coronal"):
        groups[f"other plane ({plane})"] = []
    for i in range(n):
        if ct:
            vol, _ = phantoms.ct_volume(SEED + i, n_slices=40, size=size)
            extent = 1.2
        else:
            contrast = (phantoms.CONTRASTS[i % len(phantoms.CONTRASTS)] if task == "contrast"
                        else "T1 post-contrast")
            vol, _ = phantoms.brain_mr_volume(SEED + i, n_slices=40, size=size, contrast=contrast)
            extent = 1.5
        for plane, (img, spacing) in _reformats(vol, extent).items():
            groups[f"other plane ({plane})"].append((img, {"spacing": spacing, "orientation": plane}))
    return groups


def knee_groups(n: int, size: int) -> dict[str, list[Item]]:
    """Out-of-domain groups for the knee exam model: {plane: (S, H, W)} exams."""
    def planes_of(vol: np.ndarray) -> dict[str, np.ndarray]:
        return {"axial": vol, "coronal": np.ascontiguousarray(vol.transpose(1, 0, 2)),
                "sagittal": np.ascontiguousarray(vol.transpose(2, 0, 1))}

    brain = [(planes_of(phantoms.brain_mr_volume(SEED + i, n_slices=size, size=size)[0]),
              {"body_part": "BRAIN"}) for i in range(n)]
    ct = [(planes_of(phantoms.ct_volume(SEED + i, n_slices=size, size=size)[0]), {"modality": "CT"})
          for i in range(n)]
    swapped = []
    for i in range(n):
        exam, _ = phantoms.knee_exam(SEED + i, size=size)
        swapped.append(({"sagittal": exam["coronal"], "coronal": exam["axial"], "axial": exam["sagittal"]},
                        {}))
    return {"other body part (brain MR)": brain, "other modality (CT)": ct,
            "other planes (stacks under the wrong plane names)": swapped}


def _scores(predict: Callable[..., Any], items: list[Item],
            header: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(OOD distance / threshold, check score (inf when a domain reason), refused) per item."""
    dist, check, refused = [], [], []
    for image, kw in items:
        kw = dict(kw) if header else {k: v for k, v in kw.items() if k == "spacing"}
        a = predict(image, **kw).applicability
        d = np.inf if a.ood_distance is None or a.ood_threshold is None else a.ood_distance / a.ood_threshold
        dist.append(d)
        domain = [r for r in a.reasons if "unlike the training data" not in r]
        check.append(np.inf if domain else d)
        refused.append(not a.applicable)
    return np.asarray(dist), np.asarray(check), np.asarray(refused)


def _auc(neg: np.ndarray, pos: np.ndarray) -> float | None:
    big = 1e12
    return roc_auc(np.r_[np.zeros(len(neg)), np.ones(len(pos))],
                   np.nan_to_num(np.r_[neg, pos], posinf=big))


def ood_report(clf: Any, in_domain: list[Any], n: int) -> dict[str, Any]:
    """Out-of-domain detection figures (see the module docstring) of ``clf``."""
    if clf.ood is None:
        return {"note": "no out-of-distribution statistics for this model (domain checks only)"}
    knee = clf.spec.level == "exam"
    size = int(clf.spec.input["size"])
    if knee:
        groups = knee_groups(n, size)
    else:
        groups = slice_groups(clf.spec.task, n, size)
    rng = sub_rng(SEED, 7)
    corrupt: dict[str, list[Item]] = {}
    for image in in_domain[:n]:
        if knee:
            per = {p: _corruptions(np.asarray(v), False, rng) for p, v in image.items()}
            for kind in ("noise", "windowing", "colour"):
                corrupt.setdefault(f"corrupted ({kind})", []).append(({p: per[p][kind] for p in per}, {}))
        else:
            for kind, img in _corruptions(np.asarray(image), clf.spec.modality == "CT", rng).items():
                corrupt.setdefault(f"corrupted ({kind})", []).append((img, {}))
    groups.update(corrupt)
    neg_d, neg_c, neg_r = _scores(clf.predict, [(im, {}) for im in in_domain], header=False)
    out: dict[str, Any] = {"in_domain": {"n": len(in_domain), "false_refusals": float(neg_r.mean()),
                                         "median_distance_ratio": float(np.median(neg_d))},
                           "groups": {}}
    for name, items in groups.items():
        d, c, r = _scores(clf.predict, items, header=False)
        _, _, rh = _scores(clf.predict, items, header=True)
        out["groups"][name] = {"n": len(items), "auc_distance": _auc(neg_d, d), "auc_check": _auc(neg_c, c),
                               "refused": float(r.mean()), "refused_with_header": float(rh.mean())}
    out["note"] = ("auc_distance: out-of-distribution distance alone; auc_check: the whole check "
                   "without header information (domain reasons from the pixels count as infinitely far); "
                   "refused: share not applicable at the stored threshold")
    return out


def calibration_report(clf: Any, samples: list[Any], png: str | None = None) -> dict[str, Any]:
    """ECE (15 bins) before / after temperature scaling on held-out samples; optional diagram."""
    classes = list(clf.spec.classes)
    preds = (clf.predict_batch([s.image for s in samples]) if clf.spec.level == "slice"
             else [clf.predict(s.image) for s in samples])
    after = np.array([[p.probabilities[c] for c in classes] for p in preds])
    before = np.array([[(p.uncalibrated or p.probabilities)[c] for c in classes] for p in preds])
    if clf.spec.level == "exam":
        y = np.stack([s.target for s in samples])
        ece = (ece_binary_labels(y, before), ece_binary_labels(y, after))
        conf = {k: (v.ravel(), (y.ravel() > 0.5)) for k, v in (("before", before), ("after", after))}
    else:
        y = np.array([int(s.target) for s in samples])
        ece = (expected_calibration_error(before, y), expected_calibration_error(after, y))
        conf = {k: (v.max(1), v.argmax(1) == y) for k, v in (("before", before), ("after", after))}
    if png:
        _save_reliability(png, conf, clf.spec.name, clf.temperature, ece)
    return {"temperature": clf.temperature, "ece_before": ece[0], "ece_after": ece[1], "bins": 15,
            "n": len(samples), "data": "held-out phantoms"}


def _save_reliability(path: str, conf: dict[str, tuple[np.ndarray, np.ndarray]], name: str,
                      temperature: float, ece: tuple[float, float]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for (label, (c, ok)), e in zip(conf.items(), ece):
        mc, acc, count = reliability_bins(c, ok, 15)
        used = count > 0
        ax.plot(mc[used], acc[used], "o-", label=f"{label} (ECE {e:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title=f"{name}: reliability, T = {temperature:.2f}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


__all__ = ["calibration_report", "knee_groups", "ood_report", "slice_groups"]

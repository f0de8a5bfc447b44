"""Evaluate a classifier on held-out phantoms: ``python -m inference.evaluate --task T [options]``.

Held-out seeds start at ``HELD_OUT_SEED_START`` (1 000 000; training never uses them); ``--seed``
picks a block of them. Reports classification metrics, map scores (Grad-CAM and occlusion:
pointing game with the tolerance stated, the stricter inside-the-mask rate, and split by the
model's own call into lesions found and missed, energy in the mask, deletion / insertion AUC),
for detectors the sensitivity per lesion size (:func:`sensitivity_by_size`) and per lesion
appearance (:func:`sensitivity_by_look`) and with the slices blurred and edge-enhanced
(``inference.robustness``), and the model-randomisation sanity check (rank correlation of
trained vs randomised Grad-CAM maps; near 0 is good), expected calibration error before / after
temperature scaling (``--reliability PNG`` draws the diagram) and out-of-domain detection ROC AUC
(``--ood N`` items per group; see ``inference.evaluate_trust``). ``--json`` prints one JSON object.
For detectors, ``--maps`` with ``--write-manifest`` also fits the maps' colour reference
(:func:`map_reference`) and stores it with the model (``explain.reference``).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from inference import recipes
from inference.evaluate_trust import calibration_report, ood_report
from inference.explain.faithfulness import POINTING_TOLERANCE_RULE, pointing, score_map
from inference.explain.gradcam import gradcam
from inference.explain.occlusion import occlusion
from inference.explain.sanity import randomised_copy, rank_correlation
from inference.map_trust import TRUST_AIM
from inference.metrics import binary_metrics, multiclass_metrics, multilabel_metrics, roc_curve
from inference.predict import Classifier, load_model
from inference.preprocess import stack_to_tensor, to_slice, to_tensor
from inference.registry import ALIASES, spec_from_json, write_manifest
from inference.robustness import robustness_lines, robustness_report


def _load(args: argparse.Namespace) -> Classifier:
    if args.weights:
        manifest = Path(args.weights).with_suffix(".json")
        return load_model(args.task, device="cpu", manifest_path=str(manifest))
    return load_model(args.task, device="cpu")


def held_out_seeds(seed: int, n: int) -> range:
    start = recipes.HELD_OUT_SEED_START + seed * 100_000
    return range(start, start + n)


def _classification(clf: Classifier, samples: list[recipes.Sample]
                    ) -> tuple[dict, np.ndarray, np.ndarray, list[Any]]:
    """(metrics, targets, class probabilities, the predictions themselves)."""
    spec = clf.spec
    if spec.task == "knee":
        preds = [clf.predict(s.image) for s in samples]
        probs = np.array([[p.probabilities[c] for c in spec.classes] for p in preds])
        y = np.stack([s.target for s in samples])
        return multilabel_metrics(y, probs, spec.classes), y, probs, preds
    preds = clf.predict_batch([s.image for s in samples])
    probs = np.array([[p.probabilities[c] for c in spec.classes] for p in preds])
    y = np.array([int(s.target) for s in samples])
    metrics = binary_metrics(y, probs[:, 1]) if len(spec.classes) == 2 else multiclass_metrics(
        y, probs, spec.classes)
    metrics["reader_view"] = reader_view(preds, probs, y)
    return metrics, y, probs, preds


#: A call at or above this probability reads as confident.
CONFIDENT = 0.8


def reader_view(preds: list[Any], probs: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """What a reader is shown: the share of calls given as applicable (no out-of-domain notice),
    of wrong calls given as applicable, and of confident (p >= 0.8) wrong calls given without a
    notice: the outcome SliceWise must avoid. Domain checks without header information (the
    out-of-distribution distance and the pixel checks), so on another generator these figures
    show whether the model says it is outside its domain or answers anyway."""
    applicable = np.array([bool(p.applicable) for p in preds])
    wrong = probs.argmax(1) != y
    confident = probs.max(1) >= CONFIDENT
    return {"applicable": float(applicable.mean()), "wrong_applicable": float((wrong & applicable).mean()),
            "confident_wrong_unflagged": float((wrong & applicable & confident).mean()),
            "confident": CONFIDENT, "n": int(len(y))}


def _model_maps(clf: Classifier, x: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
    """Grad-CAM (upsampled) and occlusion maps on the (size, size) model grid."""
    size = x.shape[-1]
    cam = gradcam(clf.module, x, clf.spec.target_layer, k)
    cam = F.interpolate(cam[None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
    passes, sigma = clf.occlusion_settings()       # the final pass of the viewer's progressive map
    patch, stride = passes[-1]
    occ = occlusion(clf.forward_scores(), x, k, patch=patch, stride=stride,
                    blur_sigma=sigma if sigma is not None else max(p for p, _ in passes) / 2.0)
    return {"gradcam": cam, "occlusion": occ}


#: Lesion-size bands of :func:`sensitivity_by_size`: the lesion's equivalent diameter as a share of
#: the slice's larger side (on a 350 mm field of view, 3 % is about 10 mm and 5 % about 18 mm).
SIZE_BANDS = (0.0, 0.03, 0.05, 0.08, 1.0)


def sensitivity_by_size(samples: list[recipes.Sample], called: np.ndarray) -> list[dict[str, Any]]:
    """A detector's sensitivity per lesion-size band (:data:`SIZE_BANDS`): the subgroup a reader
    study reports first, because a model that sees large lesions and misses small ones has an
    average sensitivity that describes neither."""
    found: list[tuple[float, bool]] = []
    for s, c in zip(samples, np.asarray(called, bool)):
        mask = None if s.mask is None else np.asarray(s.mask)
        if int(s.target) == 1 and mask is not None and mask.any():
            found.append((2.0 * float(np.sqrt(mask.sum() / np.pi)) / max(mask.shape), bool(c)))
    rows = []
    for lo, hi in zip(SIZE_BANDS[:-1], SIZE_BANDS[1:]):
        hits = [c for d, c in found if lo <= d < hi]
        rows.append({"diameter_share": [lo, hi], "n": len(hits),
                     "sensitivity": float(np.mean(hits)) if hits else None})
    return rows


#: A homogeneous lesion whose core is within this log-ratio of grey matter's signal (about +-15 %)
#: is "grey-matter isointense" in :func:`sensitivity_by_look`: a real appearance (many metastases,
#: lymphoma) that the eye finds by shape and mass effect, not by its brightness.
ISOINTENSE_LOG = 0.15


def lesion_subgroup(look: dict[str, Any]) -> str:
    """The subgroup of :func:`sensitivity_by_look` that a lesion's ``Sample.look`` falls in."""
    kind = str(look.get("kind", "unknown"))
    ratio = look.get("core_vs_grey_matter")
    if kind == "homogeneous" and ratio is not None and ratio > 0:
        iso = abs(float(np.log(ratio))) < ISOINTENSE_LOG
        kind += " (grey-matter isointense)" if iso else " (not isointense)"
    return kind


def sensitivity_by_look(samples: list[recipes.Sample], called: np.ndarray) -> list[dict[str, Any]]:
    """A detector's sensitivity per lesion appearance (the generator's own kinds, homogeneous
    brain lesions split by :func:`lesion_subgroup`); empty when the generator does not say."""
    groups: dict[str, list[bool]] = {}
    for s, c in zip(samples, np.asarray(called, bool)):
        if int(s.target) == 1 and isinstance(s.look, dict):
            groups.setdefault(lesion_subgroup(s.look), []).append(bool(c))
    return [{"look": name, "n": len(hits), "sensitivity": float(np.mean(hits))}
            for name, hits in sorted(groups.items())]


def map_scores(clf: Classifier, samples: list[recipes.Sample], n_maps: int,
               called: np.ndarray | None = None) -> dict[str, Any]:
    """Map scores on up to ``n_maps`` positive samples with a lesion mask, each map scored by
    :func:`inference.explain.faithfulness.score_map` in the sample's slice geometry.

    ``called`` (bool per sample: the model called the finding) splits the pointing game into
    the lesions the model found and those it missed: a map of a missed lesion has nothing to
    point at, so a low overall figure on another generator can be a detection gap, not a map that
    looks elsewhere (measured with Grad-CAM on the independent generator: tumour 0.91 / 0.25, CT
    lesion 0.88 / 0.12)."""
    k = 1
    rows: dict[str, dict[str, list[float]]] = {m: {"pointing_game": [], "pointing_game_inside": [],
                                                   "energy_in_mask": [], "deletion_auc": [],
                                                   "insertion_auc": []} for m in ("gradcam", "occlusion")}
    chosen = [i for i, s in enumerate(samples)
              if s.mask is not None and int(s.target) == 1 and np.asarray(s.mask).any()][:n_maps]
    used = [samples[i] for i in chosen]
    for s in used:
        x, geom = to_tensor(s.image, clf.spec.input)
        for method, m in _model_maps(clf, x[None], k).items():
            sc = score_map(clf, s.image, to_slice(m, geom), k, mask=s.mask, insertion=True)
            assert sc.pointing is not None and sc.energy_in_mask is not None
            r = rows[method]
            r["pointing_game"].append(float(sc.pointing.hit))
            r["pointing_game_inside"].append(float(sc.pointing.inside))
            r["energy_in_mask"].append(sc.energy_in_mask)
            r["deletion_auc"].append(float(sc.deletion_auc))
            r["insertion_auc"].append(float(sc.insertion_auc))
    out: dict[str, Any] = {m: {key: (float(np.mean(v)) if v else None) for key, v in r.items()}
                           for m, r in rows.items()}
    if called is not None and used:
        hit_called = np.asarray(called, bool)[chosen]
        for method, r in rows.items():
            hits = np.asarray(r["pointing_game"])
            out[method]["pointing_game_called"] = float(hits[hit_called].mean()) if hit_called.any() else None
            out[method]["pointing_game_missed"] = (float(hits[~hit_called].mean())
                                                   if (~hit_called).any() else None)
        out["n_called"] = int(hit_called.sum())
    out["n"] = len(used)
    out["tolerance"] = f"{POINTING_TOLERANCE_RULE}; pointing_game_inside: maximum exactly inside the mask"
    return out


#: A detector's map reference is this quantile of its maps' maxima on held-out slices with a
#: finding: three in four such slices reach full colour, a slice without one stays faint.
REFERENCE_QUANTILE = 0.25


def map_reference(clf: Classifier, samples: list[recipes.Sample], n_maps: int) -> dict[str, Any]:
    """{finding: {method: value}}: the map value drawn at full colour for the finding's maps by
    each method (``ModelSpec.map_reference``), the :data:`REFERENCE_QUANTILE` of the maxima of
    the maps the viewer shows (``Classifier.explain``) on up to ``n_maps`` held-out slices with a
    finding. {} for models without a finding class (``ModelSpec.map_target``)."""
    finding = clf.spec.map_target or recipes.EXPLAIN.get(clf.spec.task, {}).get("target")
    if finding not in clf.spec.classes:
        return {}
    k = list(clf.spec.classes).index(finding)
    used = [s for s in samples if np.ndim(s.target) == 0 and int(s.target) == k][:n_maps]
    if not used:
        return {}
    tops: dict[str, list[float]] = {m: [] for m in ("gradcam", "hirescam", "occlusion")}
    for s in used:
        for method, values in tops.items():
            values.append(float(np.nanmax(clf.explain(s.image, method, finding).map)))
    return {finding: {m: float(np.quantile(v, REFERENCE_QUANTILE)) for m, v in tops.items()},
            "quantile": REFERENCE_QUANTILE, "n": len(used)}


def knee_map_scores(clf: Classifier, samples: list[recipes.Sample], n_maps: int) -> dict[str, Any]:
    """Pointing game per method, label and plane on up to ``n_maps`` positive exams per label:
    on the slice where the finding is largest, the map's maximum within the tolerance of the
    finding (:func:`inference.explain.faithfulness.pointing`) counts as a hit."""
    labels = list(clf.spec.classes)
    hits: dict[str, dict[str, dict[str, list[float]]]] = {
        m: {lab: {} for lab in labels} for m in ("gradcam", "occlusion")}
    for k, label in enumerate(labels):
        used = [s for s in samples if float(s.target[k]) > 0.5 and s.mask
                and any(np.asarray(v).any() for v in s.mask.get(label, {}).values())][:n_maps]
        for s in used:
            for method in hits:
                maps = clf.explain(s.image, method, target=label).map
                for plane, stack in maps.items():
                    truth = np.asarray(s.mask[label].get(plane, np.zeros(0)))
                    if truth.shape != np.shape(stack) or not truth.any():
                        continue
                    z = int(np.argmax(truth.reshape(truth.shape[0], -1).sum(1)))
                    hit = pointing(np.asarray(stack[z]), truth[z]).hit
                    hits[method][label].setdefault(plane, []).append(float(hit))
    return {m: {lab: {p: {"pointing_game": float(np.mean(v)), "n": len(v)} for p, v in planes.items()}
                for lab, planes in table.items()} for m, table in hits.items()}


def sanity(clf: Classifier, samples: list[recipes.Sample], n: int, seed: int = 0) -> dict[str, Any]:
    """Mean Spearman rank correlation of Grad-CAM maps, trained vs fully randomised model."""
    rnd = randomised_copy(clf.module, seed=seed).eval()
    cors, examples = [], []
    if clf.spec.task == "knee":                  # per-slice maps of each plane's network
        for s in samples[:n]:
            k = int(np.argmax(s.target)) if s.target.any() else 0
            for plane in clf.spec.planes:
                x, _, _ = stack_to_tensor(s.image[plane], clf.spec.input, int(clf.spec.input["n_slices"]))
                net, rnet = clf.module.planes[plane], rnd.planes[plane]
                a = gradcam(net, x, net.target_layer, k)
                b = gradcam(rnet, x, rnet.target_layer, k)
                cors.append(rank_correlation(a, b))
        return {"gradcam_rank_correlation": float(np.mean(cors)) if cors else None, "n": len(cors),
                "aim": "< 0.3"}
    for s in samples[:n]:
        x, _ = to_tensor(s.image, clf.spec.input)
        xb = x[None]
        k = int(s.target) if len(clf.spec.classes) > 2 else 1
        a = gradcam(clf.module, xb, clf.spec.target_layer, k)[0]
        b = gradcam(rnd, xb, clf.spec.target_layer, k)[0]
        cors.append(rank_correlation(a, b))
        if len(examples) < 3:
            examples.append((x[0].numpy(), a.numpy(), b.numpy()))
    return {"gradcam_rank_correlation": float(np.mean(cors)) if cors else None, "n": len(cors),
            "aim": "< 0.3", "_examples": examples}


def _save_roc(path: str, y: np.ndarray, probs: np.ndarray, classes: tuple[str, ...], title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    if probs.shape[1] == 2 and y.ndim == 1:
        curves = [(classes[1], y == 1, probs[:, 1])]
    elif y.ndim == 1:
        curves = [(c, y == i, probs[:, i]) for i, c in enumerate(classes)]
    else:
        curves = [(c, y[:, i] > 0.5, probs[:, i]) for i, c in enumerate(classes)]
    for name, yt, sc in curves:
        fpr, tpr = roc_curve(yt, sc)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="1 - specificity", ylabel="sensitivity", title=title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _save_sanity(path: str, examples: list) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(examples), 3, figsize=(7.5, 2.6 * len(examples)), squeeze=False)
    for row, (img, a, b) in zip(axes, examples):
        for ax, im, title in zip(row, (img, a, b), ("input", "Grad-CAM, trained", "Grad-CAM, randomised")):
            ax.imshow(im, cmap="gray" if title == "input" else "inferno")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _scores(clf: Classifier, args: argparse.Namespace, generator: str, draw: int,
            reference: bool = False) -> tuple[dict[str, Any], np.ndarray, np.ndarray, list[recipes.Sample]]:
    """Classification, size / look / robustness figures and map scores of ``clf`` on the held-out
    phantoms of ``generator``; returns (result, targets, probabilities, samples)."""
    seeds = held_out_seeds(args.seed, args.n)
    samples = [recipes.phantom_sample(args.task, s, draw, generator=generator) for s in seeds]
    result, y, probs, preds = _classification(clf, samples)
    called = probs.argmax(1) == 1           # detectors: the model called the finding
    if args.task in ("tumour", "ct-lesion"):
        result["sensitivity_by_size"] = sensitivity_by_size(samples, called)
        result["sensitivity_by_look"] = sensitivity_by_look(samples, called)
        if args.robustness:
            result["robustness"] = robustness_report(clf, samples, drawn=preds)
    if args.task in ("tumour", "ct-lesion") and args.maps > 0:
        result["maps"] = map_scores(clf, samples, args.maps, called=called)
        if reference:   # the colour reference is fitted for the manifest only (it runs every
            # method again, occlusion included: half the time of a maps run)
            result["maps"]["reference"] = map_reference(clf, samples, args.maps)
    elif args.task == "knee" and args.maps > 0:
        result["maps"] = {"per_label_plane": knee_map_scores(clf, samples, args.maps),
                          "trust_aim": TRUST_AIM, "tolerance": f"{POINTING_TOLERANCE_RULE}, on the "
                          "slice where the finding is largest"}
    else:
        result["maps"] = {"gradcam": None, "occlusion": None,
                          "note": "no ground-truth location for this task's classes"}
    result["calibration"] = calibration_report(clf, samples, None if generator == "independent"
                                               else args.reliability)
    result["held_out_seeds"] = [seeds.start, seeds.stop]
    result["generator"] = generator
    result["image_size"] = draw
    return result, y, probs, samples


#: The leave-one-generator-out aim of the detectors: accuracy and ROC AUC on the independent
#: generator within this of the training generator's, and Grad-CAM pointing at least
#: :data:`TRANSFER_POINTING` on both.
TRANSFER_GAP = 0.05
TRANSFER_POINTING = 0.85


def transfer_report(own: dict[str, Any], other: dict[str, Any], task: str) -> dict[str, Any]:
    """How far the figures on the independent generator fall short of those on the training
    generator: accuracy and ROC AUC gaps, pointing per method on both, and whether the aim
    (detectors only) is met."""
    out: dict[str, Any] = {"accuracy_gap": own["accuracy"] - other["accuracy"],
                           "roc_auc_gap": own["roc_auc"] - other["roc_auc"], "pointing": {}}
    for method in ("gradcam", "occlusion"):
        pair = [(r.get("maps") or {}).get(method) or {} for r in (own, other)]
        if all(isinstance(m.get("pointing_game"), float) for m in pair):
            out["pointing"][method] = {"own": pair[0]["pointing_game"],
                                       "independent": pair[1]["pointing_game"]}
    if task in ("tumour", "ct-lesion"):
        grad = out["pointing"].get("gradcam")
        out["aim"] = (f"accuracy and ROC AUC within {TRANSFER_GAP} of the training generator's, Grad-CAM "
                      f"pointing >= {TRANSFER_POINTING} on both")
        out["met"] = (out["accuracy_gap"] <= TRANSFER_GAP and out["roc_auc_gap"] <= TRANSFER_GAP
                      and grad is not None and min(grad.values()) >= TRANSFER_POINTING)
    return out


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Run the evaluation; returns the result dict (the ``--json`` object)."""
    torch.manual_seed(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    clf = _load(args)
    draw = args.image_size or int(clf.spec.input["size"])
    generator = args.generator or recipes.trained_generator(args.task, clf.spec.training)
    if args.independent and (args.task == "knee" or generator == "independent"):
        raise SystemExit("--independent: the independent generator draws brain MR and abdominal CT "
                         "slices, and is compared with the generator the model was trained on")
    result, y, probs, samples = _scores(clf, args, generator, draw, reference=args.write_manifest)
    if args.ood > 0:
        result["out_of_domain"] = ood_report(clf, [s.image for s in samples[:max(args.ood, 60)]], args.ood)
    sane = sanity(clf, samples, args.sanity) if args.sanity > 0 else {"gradcam_rank_correlation": None}
    examples = sane.pop("_examples", [])
    result["sanity"] = sane
    if args.independent:
        other, *_ = _scores(clf, args, "independent", draw)
        result["independent_generator"] = other
        result["transfer"] = transfer_report(result, other, args.task)
    result["model"] = clf.spec.name
    result["command"] = "python -m inference.evaluate " + shlex.join(args.argv)
    if args.roc:
        _save_roc(args.roc, y, probs, clf.spec.classes, f"{clf.spec.name} (held-out phantoms)")
    if args.sanity_png and examples:
        _save_sanity(args.sanity_png, examples)
    if args.write_manifest:
        spec = clf.spec
        metrics = {k: v for k, v in result.items() if k not in ("per_class",)}
        if "per_class" in result:
            metrics["per_class"] = {c: {k: v for k, v in m.items() if k != "confusion_matrix"}
                                    for c, m in result["per_class"].items()}
        data = spec.to_json()
        data["metrics"] = metrics
        reference = result["maps"].get("reference") if isinstance(result["maps"], dict) else None
        if reference:
            metrics["maps"] = {k: v for k, v in result["maps"].items() if k != "reference"}
            data["explain"] = {**spec.explain, "target": spec.map_target or next(iter(reference)),
                               "reference": reference}
        write_manifest(spec_from_json(data, spec.manifest_path), spec.manifest_path)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m inference.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", required=True, choices=list(recipes.CLASSES),
                    type=lambda t: ALIASES.get(t.lower(), t))
    ap.add_argument("--weights",
                    help="a .safetensors file with its manifest beside it (default: the installed model)")
    ap.add_argument("--seed", type=int, default=0, help="block of held-out seeds (each block 100 000 wide)")
    ap.add_argument("--n", type=int, default=200, help="number of held-out samples")
    ap.add_argument("--maps", type=int, default=60, help="positive samples for map scores (0: skip)")
    ap.add_argument("--sanity", type=int, default=20, help="samples for the randomisation check (0: skip)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--roc", help="write the ROC plot to this PNG")
    ap.add_argument("--sanity-png", dest="sanity_png", help="write the randomisation figure to this PNG")
    ap.add_argument("--write-manifest", action="store_true", help="store the figures in the model's manifest")
    ap.add_argument("--independent", action="store_true",
                    help="also score the model on the same number of the independent generator's phantoms "
                         "(never trained on) and report the gap to its own (leave-one-generator-out)")
    ap.add_argument("--reliability", help="write the reliability diagram (calibration) to this PNG")
    ap.add_argument("--ood", type=int, default=30,
                    help="items per out-of-domain group for the detection ROC AUC (0: skip)")
    ap.add_argument("--robustness", type=int, choices=[0, 1], default=1,
                    help="detectors: also score the phantoms blurred and edge-enhanced (0: skip)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--image-size", type=int, dest="image_size",
                    help="draw the phantoms at about this many pixels across (x0.9-1.5, as in training; "
                         "default: the model's input size); scanners' 256-512 px matrices reach the "
                         "model resized")
    ap.add_argument("--generator", choices=recipes.GENERATORS,
                    help="phantoms to evaluate on: the one the weights were trained on (default: the "
                         "manifest's training generator, else the task's), the classic "
                         "one, or 'independent' (drawn by separate code, never used for training)")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = ap.parse_args(argv)
    args.argv = argv
    return args


def _table(result: dict[str, Any]) -> str:
    lines = [f"{k:>18}: {result[k]:.3f}" if isinstance(result.get(k), float) else f"{k:>18}: {result.get(k)}"
             for k in ("accuracy", "sensitivity", "specificity", "precision", "f1", "balanced_accuracy",
                       "mcc", "roc_auc", "confusion_matrix")]
    rv = result.get("reader_view")
    if rv:
        lines.append(f"{'reader view':>18}: applicable {rv['applicable']:.3f}, wrong and applicable "
                     f"{rv['wrong_applicable']:.3f}, confident (p >= {rv['confident']}) wrong without a "
                     f"notice {rv['confident_wrong_unflagged']:.3f}")
    for band in result.get("sensitivity_by_size", []):
        lo, hi = band["diameter_share"]
        sens = "n/a" if band["sensitivity"] is None else f"{band['sensitivity']:.2f}"
        lines.append(f"{'sensitivity':>18}: lesions {100 * lo:.0f}-{100 * hi:.0f} % of the field of view "
                     f"across: {sens} (n {band['n']})")
    for group in result.get("sensitivity_by_look", []):
        lines.append(f"{'sensitivity':>18}: {group['look']} lesions: {group['sensitivity']:.2f} "
                     f"(n {group['n']})")
    if result.get("robustness"):
        lines.extend(robustness_lines(result["robustness"]))
    for method in ("gradcam", "occlusion"):
        m = result["maps"].get(method)
        if m:
            lines.append(f"{method:>18}: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items() if v is not None))
    for method, labels in (result["maps"].get("per_label_plane") or {}).items():
        for label, planes in labels.items():
            lines.append(f"{method:>18}: {label}: " + ", ".join(
                f"{p} pointing {r['pointing_game']:.2f} (n {r['n']})" for p, r in planes.items()))
    lines.append(f"{'sanity':>18}: {result['sanity']}")
    cal = result.get("calibration", {})
    if cal:
        lines.append(f"{'calibration':>18}: T {cal['temperature']:.3f}, ECE {cal['ece_before']:.4f} -> "
                     f"{cal['ece_after']:.4f} (15 bins, held-out)")
    ood = result.get("out_of_domain", {})
    if "in_domain" in ood:
        lines.append(f"{'in-domain':>18}: false refusals {ood['in_domain']['false_refusals']:.3f}")
    for name, g in ood.get("groups", {}).items():
        auc = "n/a" if g["auc_distance"] is None else f"{g['auc_distance']:.3f}"
        lines.append(f"{'OOD':>18}: {name}: AUC {auc}, check AUC {g['auc_check']:.3f}, refused "
                     f"{g['refused']:.2f} ({g['refused_with_header']:.2f} with header)")
    lines.extend(_transfer_lines(result))
    return "\n".join(lines)


def _transfer_lines(result: dict[str, Any]) -> list[str]:
    """The ``--independent`` figures and the leave-one-generator-out gap, as table lines."""
    other, gap = result.get("independent_generator"), result.get("transfer")
    if not other or not gap:
        return []
    rv = other.get("reader_view") or {}
    lines = [f"{'independent':>18}: n {other['n']}, accuracy {other['accuracy']:.3f}, ROC AUC "
             f"{other['roc_auc']:.3f}, confident wrong without a notice "
             f"{rv.get('confident_wrong_unflagged', float('nan')):.3f}"]
    lines += [f"{'independent':>18}: {m} pointing {v['independent']:.2f} (own {v['own']:.2f})"
              for m, v in gap["pointing"].items()]
    verdict = "" if "met" not in gap else f"; aim ({gap['aim']}) {'met' if gap['met'] else 'NOT met'}"
    lines.append(f"{'transfer gap':>18}: accuracy {gap['accuracy_gap']:.3f}, ROC AUC "
                 f"{gap['roc_auc_gap']:.3f}{verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = evaluate(args)
    print(json.dumps(result) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

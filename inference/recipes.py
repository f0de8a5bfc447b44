"""Per-task defaults (classes, input, architecture per backbone, training recipe) and phantom samples.

Seed ranges (disjoint): training [0, 500 000), validation [500 000, 1 000 000),
held-out evaluation [1 000 000, ...) = ``inference.phantoms.HELD_OUT_SEED_START``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference import phantoms
from inference.phantoms.shapes import sub_rng

VAL_SEED_START = 500_000
HELD_OUT_SEED_START = phantoms.HELD_OUT_SEED_START

CLASSES: dict[str, tuple[str, ...]] = {
    "tumour": ("no tumour", "tumour"),
    "contrast": phantoms.CONTRASTS,
    "knee": phantoms.KNEE_LABELS,
    "ct-lesion": ("no lesion", "lesion"),
}
BODY_PART = {"tumour": "BRAIN", "contrast": "BRAIN", "knee": "KNEE", "ct-lesion": "ABDOMEN"}
MODALITY = {"tumour": "MR", "contrast": "MR", "knee": "MR", "ct-lesion": "CT"}
MR_NORM = {"kind": "percentile", "low": 0.5, "high": 99.5}
CT_NORM = {"kind": "window", "center": 50.0, "width": 250.0}   # liver window

# Seed architectures (the product's reference recipes) and small demo ones (CPU-trainable, <= 10 MB).
SEED_BACKBONE = {"tumour": "vgg16", "contrast": "resnet50", "knee": "resnet18", "ct-lesion": "vgg-narrow"}
DEMO_OPTIONS: dict[str, dict[str, Any]] = {
    "tumour": {"widths": [16, 32, 64, 64], "convs": [1, 1, 1, 1], "pools": 2, "padding": "replicate"},
    "contrast": {"widths": [16, 32, 48, 64], "convs": [1, 1, 1, 2]},
    "knee": {"widths": [12, 24, 32, 48], "convs": [1, 1, 1, 1]},
    "ct-lesion": {"widths": [16, 32, 64, 64], "convs": [1, 1, 1, 1], "pools": 2, "padding": "replicate"},
}
HEADS: dict[str, dict[str, Any]] = {
    "tumour": {"dropout": 0.3, "pool": "max"}, "contrast": {"hidden": 1024, "dropout": 0.5, "freeze": 0},
    "knee": {"lstm_hidden": 32, "pool": "max"}, "ct-lesion": {"dropout": 0.3, "pool": "max"},
}
# Default occlusion settings per task (model pixels): passes (patch, stride) coarse to fine and the
# blur of the baseline. Small lesions (CT) need small patches and a light blur. "target": a
# detector's finding, the class its maps explain unless the reader picks another
# (``ModelSpec.map_target``).
EXPLAIN: dict[str, dict[str, Any]] = {
    "tumour": {"occlusion": {"passes": [[24, 12], [12, 6]], "blur_sigma": 6.0}, "target": "tumour"},
    "contrast": {"occlusion": {"passes": [[24, 12], [12, 6]], "blur_sigma": 6.0}},
    "knee": {"occlusion": {"patch": 16, "stride": 8}},
    "ct-lesion": {"occlusion": {"passes": [[16, 8], [8, 4]], "blur_sigma": 3.0},
                  "target": "lesion"},
}
#: The input size (model px) each task's :data:`EXPLAIN` occlusion numbers are set for: the size its
#: shipped demo model reads.
EXPLAIN_SIZE = {"tumour": 96, "contrast": 96, "knee": 64, "ct-lesion": 128}


def explain_settings(task: str, size: int) -> dict[str, Any]:
    """:data:`EXPLAIN` for a ``task`` model reading ``size`` px: occlusion patches, strides and
    baseline blur scaled with the grid, so that a patch covers the same share of the field (and
    costs the same number of forward passes) at any input size. On a grid larger than
    :data:`EXPLAIN_SIZE` each forward pass costs more, so the finer passes refine only where the
    coarse one found evidence (``refine: adaptive``, :func:`inference.explain.occlusion.iter_occlusion`;
    CT lesion at 256 px, 25 independent lesions: pointing 0.92 either way, 5.2 s a map instead of
    14.5 s on 2 cores)."""
    conf = copy.deepcopy(EXPLAIN[task])
    scale = size / EXPLAIN_SIZE[task]
    occ = conf.get("occlusion", {})
    if scale != 1.0 and occ:
        def px(v: float) -> int:
            return max(1, int(round(v * scale)))
        if "passes" in occ:
            occ["passes"] = [[px(p), px(s)] for p, s in occ["passes"]]
        for key in ("patch", "stride"):
            if key in occ:
                occ[key] = px(occ[key])
        if "blur_sigma" in occ:
            occ["blur_sigma"] = round(float(occ["blur_sigma"]) * scale, 2)
        if scale > 1.0 and "passes" in occ:
            occ["refine"] = "adaptive"
    return conf
INTENDED_USE = {
    "tumour": "Flags axial brain MR slices that may contain a tumour (homogeneous, ring-enhancing, "
              "cystic or infiltrative, any MR contrast), for teaching and triage research.",
    "contrast": ("Names the MR contrast (T1, T1 post-contrast, T2, T2-FLAIR) of an axial brain slice. "
                 "Trained on all three planes, but sagittal and coronal slices are refused: on a real "
                 "sagittal T1 series it called only half the slices T1."),
    "knee": "Scores a knee MR exam (sagittal, coronal, axial) for abnormality, ACL tear and meniscal tear.",
    "ct-lesion": "Flags axial abdominal CT slices that may contain a hypodense liver lesion.",
}


@dataclass(frozen=True)
class Recipe:
    """Training hyper-parameters (the defaults of ``python -m inference.train``)."""

    size: int
    epochs: int
    n_train: int
    n_val: int
    batch_size: int
    lr: float
    weight_decay: float = 1e-4
    patience: int = 4
    n_slices: int = 0
    augment: str = "basic"      # inference.augment.KINDS
    focus: float = 0.0          # weight of inference.focus's penalty (evidence outside the body)
    point: float = 0.0          # weight of its second term (a finding's map away from its lesion)


DEMO_RECIPES = {
    "tumour": Recipe(size=96, epochs=16, n_train=3000, n_val=400, batch_size=32, lr=1e-3, patience=6),
    "contrast": Recipe(size=96, epochs=10, n_train=2400, n_val=400, batch_size=32, lr=1e-3),
    "knee": Recipe(size=64, epochs=14, n_train=700, n_val=150, batch_size=4, lr=1e-3, n_slices=20),
    "ct-lesion": Recipe(size=96, epochs=18, n_train=3000, n_val=400, batch_size=32, lr=1e-3, patience=6,
                        focus=1.0),
}
SEED_SIZES = {"tumour": 224, "contrast": 224, "knee": 224, "ct-lesion": 128}
SEED_N_SLICES = 24   # knee seed recipe: slices per plane after resampling


def input_block(task: str, size: int, n_slices: int = 0) -> dict[str, Any]:
    """The manifest ``input`` block for a task."""
    block: dict[str, Any] = {"size": size, "channels": 1, "level": "exam" if task == "knee" else "slice",
                             "body_part": BODY_PART[task],
                             "normalisation": CT_NORM if task == "ct-lesion" else MR_NORM,
                             "mean": 0.5, "std": 0.25}
    if task == "knee":
        block["n_slices"] = n_slices or 24
    return block


def architecture_block(task: str, backbone: str) -> dict[str, Any]:
    """The manifest ``architecture`` block for a task and backbone."""
    block: dict[str, Any] = {"name": f"{task}-{backbone}", "backbone": backbone, "head": HEADS[task]}
    if backbone == "vgg-narrow":
        block["backbone_options"] = DEMO_OPTIONS[task]
    return block


@dataclass(frozen=True)
class Sample:
    """One phantom sample: image (H, W) or {plane: (S, H, W)}, label vector, optional mask."""

    image: Any
    target: np.ndarray          # class index (0-d int) or multi-label vector (float32)
    mask: Any = None            # bool (H, W) or {label: {plane: (S, H, W)}}
    region: Any = None          # bool (H, W): where the finding's evidence may lie (lesion detectors'
                                # own generators: the space inside the skull, the body in CT)
    look: Any = None            # lesion detectors: what the lesion looks like ({"kind", ...}; the
                                # generator's own words), None on negatives


#: Phantom generators: "physics" (3-D head through MR signal equations; randomised CT), "classic"
#: (the first fixed-grey-level phantoms), "varied" (the classic phantoms with lesions of every
#: appearance and size, randomised anatomy and tissue grey levels: brain.py / ct.py style
#: "varied"), "independent" (inference.phantoms_check: validation only, never used for training).
GENERATORS = ("physics", "classic", "varied", "varied-head", "varied-anatomy", "varied-small", "varied-iso",
              "varied-looks", "varied-kidneys", "varied-faint", "varied-mix", "mixed", "varied-physics",
              "independent")
#: "varied-head" (tumour): "varied" with the scalp, skull and head outline drawn freely too.
#: "varied-anatomy" (tumour): "varied-head" with a folded grey/white boundary, straight vessels
#: and sulci, wider tissue grey levels, sharper slices and lobulated lesions (brain.ANATOMY_*).
#: "varied-small" (ct-lesion): "varied" with lesion radii log-uniform from 3 mm (ct.SMALL_RADII).
#: "varied-kidneys" (ct-lesion): "varied-small" with the kidneys drawn freely (ct.py, free_kidneys):
#: any position, size, tilt and enhancement phase, absent at some levels, the right one half the
#: time behind the liver.
#: "varied-iso" (tumour): "varied" with a share of the tumours (ISO_SHARE) homogeneous, grey-matter
#: isointense and without oedema (many metastases and lymphoma look so; the varied generator draws
#: few, and the model trained on it misses most of them).
#: "varied-looks" (lesion detectors): "varied" with each lesion's core level, rim level (hypo- or
#: hyperintense / -dense) and rim width drawn independently, SynthSeg-style; brain: ISO_SHARE of
#: the tumours isointense as in "varied-iso" and oedema in a quarter instead of a half.
#: "varied-faint" (lesion detectors): tumour "varied-head", ct-lesion "varied-kidneys", with
#: FAINT_SHARE of the lesions faint (core and rim within 8-25 % of white matter, brain.FAINT_STEP;
#: 5-15 HU from the liver, ct.FAINT_HU).
#: "mixed": physics phantoms for 3 of 4 seeds, classic ones for the others (drawn per seed).
MIXED_CLASSIC_SHARE = 0.25
ISO_SHARE = {"varied-iso": 0.3, "varied-looks": 0.15}
FAINT_SHARE = {"varied-faint": 0.5}
#: "varied-physics" (lesion detectors and contrast): physics phantoms for half the seeds, varied
#: ones for the others (drawn per seed): two drawing styles of the same finding. For contrast the
#: varied half is brain.py's varied head (scalp, skull, folds and each tissue's grey level drawn
#: afresh, x0.75-1.25, so that each contrast's tissue order mostly holds): a label learnt from
#: tissue order, not from one simulator's look (the physics-only weights called the independent
#: generator's slices right 0.34 of the time and its fixed-grey T1 phantoms "T2" at p 1.0).
VARIED_PHYSICS_SHARE = 0.5
#: contrast, varied generators: the share of slices that carry a tumour (a contrast label must
#: not hang on one; most slices of a real series show none)
CONTRAST_TUMOUR_SHARE = 0.25
#: "varied-mix" (tumour): each seed drawn by one of these generators, in equal shares: every way
#: the varied family randomises the head, the brain and the lesion, side by side in one set.
VARIED_MIX = ("varied", "varied-head", "varied-anatomy", "varied-looks")
#: Each task's base generator: what ``inference.train`` draws without ``--generator``.
#: ct-lesion and tumour: "varied" (independent generator 0.745 and 0.79 accuracy against 0.61 and
#: 0.55 for the classic-trained weights; lesion maps of positive calls 0-3 % outside the body).
#: The sample study's healthy anatomy follows the varied truth (vessel-sized distractors,
#: ``brain_mr_volume``), so the two agree. The generator a model was last trained on (its
#: own-generator figures and calibration use it) is in its manifest: :func:`trained_generator`.
DEFAULT_GENERATOR = {"tumour": "varied", "contrast": "physics", "ct-lesion": "varied", "knee": "classic"}


def trained_generator(task: str, training: dict[str, Any]) -> str:
    """The generator a model's weights were last trained on, from its manifest's ``training``
    block ("generator"), else :data:`DEFAULT_GENERATOR`: the phantoms its held-out "own
    generator" figures and its calibration come from."""
    generator = training.get("generator") if isinstance(training, dict) else None
    return generator if generator in GENERATORS and generator != "independent" else DEFAULT_GENERATOR[task]


#: Generators drawn by brain.py / ct.py / knee.py here: "classic" and the varied family.
_VARIED = ("varied", "varied-head", "varied-anatomy", "varied-small", "varied-iso", "varied-looks",
           "varied-kidneys", "varied-faint")
_DRAWN_HERE = ("classic", *_VARIED)


def phantom_sample(task: str, seed: int, size: int, vary_shape: bool = True,
                   generator: str | None = None) -> Sample:
    """A seeded phantom for ``task`` from ``generator`` (default per task, see
    :data:`DEFAULT_GENERATOR`); labels are balanced by seed (seed % classes)."""
    generator = generator or DEFAULT_GENERATOR[task]
    if generator == "mixed":
        generator = "classic" if sub_rng(seed, 95).random() < MIXED_CLASSIC_SHARE else "physics"
    elif generator == "varied-physics":
        generator = "physics" if sub_rng(seed, 94).random() < VARIED_PHYSICS_SHARE else "varied"
    elif generator == "varied-mix":
        generator = VARIED_MIX[int(sub_rng(seed, 93).integers(0, len(VARIED_MIX)))]
    if generator not in _DRAWN_HERE and task != "knee":
        return _generated_sample(task, seed, size, generator)
    rng = sub_rng(seed, 99)
    if vary_shape:
        h = int(size * rng.uniform(0.9, 1.5))
        w = h if rng.random() < 0.7 else int(h * rng.uniform(0.75, 1.3))
        shape: tuple[int, int] = (h, w)
    else:
        shape = (size, size)
    varied = generator in _VARIED
    if task == "tumour":   # varied: any contrast, lesions of varied appearance (brain.py)
        if varied:
            contrast = phantoms.CONTRASTS[int(sub_rng(seed, 96).integers(0, len(phantoms.CONTRASTS)))]
            s = phantoms.brain_slice(seed, shape, tumour=bool(seed % 2), contrast=contrast, style="varied",
                                     free_head=generator in ("varied-head", "varied-faint"),
                                     anatomy=generator == "varied-anatomy",
                                     iso_share=ISO_SHARE.get(generator, 0.0),
                                     free_looks=generator == "varied-looks",
                                     faint_share=FAINT_SHARE.get(generator, 0.0))
        else:
            s = phantoms.brain_slice(seed, shape, tumour=bool(seed % 2))
        return Sample(s.image, np.array(int(s.tumour)), s.mask, s.intracranial, s.look)
    if task == "ct-lesion":   # varied: lesions and anatomy of varied appearance (ct.py)
        c = phantoms.ct_slice(seed, shape, lesion=bool(seed % 2), style="varied" if varied else "classic",
                              small_lesions=generator in ("varied-small", "varied-kidneys", "varied-faint"),
                              free_kidneys=generator in ("varied-kidneys", "varied-faint"),
                              free_looks=generator == "varied-looks",
                              faint_share=FAINT_SHARE.get(generator, 0.0))
        return Sample(c.image, np.array(int(c.lesion)), c.mask, c.body, c.look)
    if task == "contrast":
        k = seed % len(phantoms.CONTRASTS)
        if varied:   # the varied head: tissue grey levels, scalp, skull and folds drawn afresh
            s = phantoms.brain_slice(seed, shape, contrast=phantoms.CONTRASTS[k], style="varied",
                                     tumour=bool(sub_rng(seed, 97).random() < CONTRAST_TUMOUR_SHARE),
                                     free_head=True)
        else:
            s = phantoms.brain_slice(seed, shape, contrast=phantoms.CONTRASTS[k])
        return Sample(s.image, np.array(k), s.mask)
    if task == "knee":
        images, labels = phantoms.knee_exam(seed, size=size)
        y = np.array([float(labels[lab]) for lab in phantoms.KNEE_LABELS], dtype=np.float32)
        return Sample(images, y, labels["masks"])
    raise ValueError(f"unknown task {task!r}")


def _generated_sample(task: str, seed: int, size: int, generator: str) -> Sample:
    """A slice from the physics or the independent generator; ``Sample.mask`` is the lesion mask
    (tumour, ct-lesion) or None (contrast). Image shapes vary from size * 0.9 to size * 1.5."""
    if generator == "independent":
        from inference import phantoms_check
        d = phantoms_check.draw(task, seed, size)
        return Sample(d.image, np.array(d.target), d.mask, look=d.look)
    if generator != "physics":
        raise ValueError(f"unknown generator {generator!r}; choose one of {GENERATORS}")
    from inference.phantoms.training_data import physics_sample
    image, target, mask = physics_sample(task, seed, size)
    return Sample(image, np.array(target), mask)

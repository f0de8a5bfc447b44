"""Train a SliceWise classifier: ``python -m inference.train --task T [options]``.

Data: seeded phantoms (default; training seeds [0, n_train), validation seeds from 500 000,
evaluation uses seeds from 1 000 000, never seen here) or ``--data DIR``: class sub-folders of
PNG or DICOM files for 2D tasks, or an MRNet-style folder for knee (``<plane>/<id>.npy`` stacks
(S, H, W) plus ``labels.csv`` with columns id,abnormal,acl,meniscus).
Recipe: Adam, weight decay, augmentation (``inference.augment``: flip and shift; ``--augment
appearance`` adds rotation, zoom, gamma, contrast, blur and noise; ``sharpness`` blur or edge
enhancement, whatever the label; ``regional`` the same, lesion and surroundings changed apart;
``random-conv`` sharpness plus grey levels remapped by a random convolutional net), early
stopping on the
validation loss (best weights kept). Writes ``<out>/<name>.safetensors`` and ``<name>.json``.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from inference import recipes
from inference.augment import KINDS as AUGMENTATIONS
from inference.augment import (
    MASK_SAFE,
    NEEDS_REGIONS,
    as_trained,
    as_trained_note,
    augment,
    feathered,
    global_changes,
    regional_sharpness,
)
from inference.deepen import deepen_state, fit_identity_norms, shallower_convs
from inference.explain.faithfulness import pointing_tolerance
from inference.focus import TASKS as FOCUS_TASKS
from inference.focus import logits_and_shares, near
from inference.models import build_model
from inference.models.backbones import load_imagenet_backbone
from inference.preprocess import place, stack_to_tensor, to_tensor
from inference.registry import (
    ALIASES,
    DEMO_STATEMENT,
    ModelSpec,
    builtin_models_dir,
    sha256_file,
    write_manifest,
)

PLANES = ("sagittal", "coronal", "axial")


def _progress(it: Any, total: int, desc: str, quiet: bool) -> Any:
    if quiet:
        return it
    try:
        from tqdm import tqdm
        return tqdm(it, total=total, desc=desc, leave=False, file=sys.stderr)
    except ImportError:
        return it


def phantom_tensors(task: str, seeds: range, spec_input: dict[str, Any], quiet: bool = True,
                    generator: str | None = None, bodies: list[torch.Tensor] | None = None,
                    lesions: list[torch.Tensor] | None = None):
    """Pre-computed (inputs, targets) tensors for phantom seeds (knee: inputs is {plane: (N,S,1,h,w)}).
    ``bodies``: a list that receives each slice's evidence region (``Sample.region``: inside the
    skull, the body in CT) placed like its image (1, size, size); ``lesions``: one that receives its
    lesion mask (empty without a finding), placed the same way."""
    xs: list[Any] = []
    ys: list[np.ndarray] = []
    size = int(spec_input["size"])
    for seed in _progress(seeds, len(seeds), f"phantoms {task}", quiet):
        s = recipes.phantom_sample(task, seed, size, generator=generator)
        if task == "knee":
            xs.append({p: stack_to_tensor(s.image[p], spec_input, int(spec_input["n_slices"]))[0]
                       for p in PLANES})
        else:
            t, geom = to_tensor(s.image, spec_input)
            xs.append(t)
            if bodies is not None:
                if s.region is None:
                    raise SystemExit(f"--focus and --point need body masks; the {generator} phantoms "
                                     f"of {task} have none")
                bodies.append(place(np.asarray(s.region, dtype=np.float32), geom))
            if lesions is not None:
                m = np.zeros(np.shape(s.image)) if s.mask is None else s.mask
                lesions.append((place(np.asarray(m, dtype=np.float32), geom) > 0).float())
        ys.append(s.target)
    if task == "knee":
        x = {p: torch.stack([e[p] for e in xs]) for p in PLANES}
        return x, torch.as_tensor(np.stack(ys), dtype=torch.float32)
    return torch.stack(xs), torch.as_tensor(np.stack(ys), dtype=torch.long)


def _regions(regions: torch.Tensor, with_lesion: torch.Tensor, idx: torch.Tensor, y: torch.Tensor,
             gen: torch.Generator) -> torch.Tensor:
    """The region of each image in a batch for ``--augment regional``: its own lesion mask, or for
    a healthy slice the lesion mask of a training phantom drawn at random from ``with_lesion``
    (indices of the masks that hold a lesion): a lesion-sized patch where lesions lie, with
    nothing there."""
    own = regions[idx].float()
    if with_lesion.numel() == 0:
        return own
    borrowed = regions[with_lesion[torch.randint(with_lesion.numel(), (len(idx),), generator=gen)]].float()
    healthy = (y[idx] == 0).view(-1, 1, 1, 1)
    return torch.where(healthy, borrowed, own)


def _read_2d(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".png":
        from PIL import Image
        img = np.asarray(Image.open(path), dtype=np.float32)
        if img.ndim == 3:
            raise ValueError(f"{path}: colour PNG; training needs greyscale slices")
        return img
    import SimpleITK as sitk
    arr = sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(np.float32)
    return arr[0] if arr.ndim == 3 else arr


def folder_tensors(task: str, root: Path, spec_input: dict[str, Any], classes: tuple[str, ...]):
    """(inputs, targets) from a user folder (see module docstring)."""
    if task == "knee":
        import csv
        rows = list(csv.DictReader(open(root / "labels.csv", encoding="utf-8")))
        x = {p: torch.stack([stack_to_tensor(np.load(root / p / f"{r['id']}.npy", allow_pickle=False),
                                             spec_input, int(spec_input["n_slices"]))[0] for r in rows])
             for p in PLANES}
        y = torch.tensor([[float(r[k]) for k in ("abnormal", "acl", "meniscus")] for r in rows])
        return x, y
    xs, ys = [], []
    for k, name in enumerate(classes):
        folder = root / name
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: expected one sub-folder per class {classes}")
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in (".png", ".dcm", ""):
                xs.append(to_tensor(_read_2d(f), spec_input)[0])
                ys.append(k)
    return torch.stack(xs), torch.tensor(ys)


def _loss(task: str, model: torch.nn.Module, x: Any, y: torch.Tensor) -> torch.Tensor:
    if task == "knee":
        logits = model.plane_logits(x)
        planes = sum(F.binary_cross_entropy_with_logits(lg, y) for lg in logits.values())
        return planes / len(logits)
    return F.cross_entropy(model(x), y)


def _take(x: Any, idx: torch.Tensor) -> Any:
    return {p: v[idx] for p, v in x.items()} if isinstance(x, dict) else x[idx]


def _n(x: Any) -> int:
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def recalibrate_batchnorm(model: torch.nn.Module, x: Any, bs: int, max_samples: int = 1024) -> None:
    """Re-estimate BatchNorm running statistics exactly (cumulative average) on training data.

    Running averages lag behind fast-changing weights; small, sparse findings then score very
    differently in eval mode than in training. Exact statistics remove that mismatch.
    """
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(0, min(_n(x), max_samples), bs):
            idx = torch.arange(i, min(i + bs, _n(x)))
            xb = _take(x, idx)
            if isinstance(xb, dict):
                model.plane_logits(xb)
            else:
                model(xb)
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


def evaluate_loss(task: str, model: torch.nn.Module, x: Any, y: torch.Tensor, bs: int) -> float:
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, _n(x), bs):
            idx = torch.arange(i, min(i + bs, _n(x)))
            total += float(_loss(task, model, _take(x, idx), y[idx])) * len(idx)
    return total / _n(x)


def fit_fusion(model: torch.nn.Module, x: dict[str, torch.Tensor], y: torch.Tensor, bs: int = 8) -> None:
    """Fit the knee fusion (per label logistic regression over plane logits) on validation exams."""
    model.eval()
    with torch.no_grad():
        parts = [model.plane_logits({p: v[i:i + bs] for p, v in x.items()}) for i in range(0, len(y), bs)]
    feats = torch.stack([torch.cat([pt[p] for pt in parts]) for p in model.plane_names], dim=-1)  # (N, L, P)
    w = torch.zeros(feats.shape[1], feats.shape[2], requires_grad=True)
    b = torch.zeros(feats.shape[1], requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(b + (feats * w).sum(-1), y) + 1e-3 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    model.set_fusion(w.detach(), b.detach())


def _load_init(model: torch.nn.Module, init: Path, task: str, arch: dict[str, Any]) -> tuple[list[int], str]:
    """Load ``--init`` weights into ``model``; weights of a vgg-narrow with fewer convolutions per
    stage start a deeper one (:mod:`inference.deepen`). Returns the added convolutions' indices
    and a line saying what was deepened ("" when the weights fit as they are)."""
    from safetensors.torch import load_file
    try:
        state = load_file(str(init))
    except OSError as exc:
        raise SystemExit(f"{init}: cannot start from these weights: {str(exc).splitlines()[0]}") from None
    try:
        model.load_state_dict(state)
        return [], ""
    except RuntimeError as exc:
        options = dict(arch.get("backbone_options") or {})
        convs = options.pop("convs", None)
        shallow = (shallower_convs(state, options, convs)
                   if task != "knee" and arch.get("backbone") == "vgg-narrow" and convs
                   and options.get("norm", "batch") == "batch" else None)
        if shallow is None:
            raise SystemExit(f"{init}: cannot start from these weights: "
                             f"{str(exc).splitlines()[0]}") from None
    added = deepen_state(state, shallow, model, options, convs)
    return added, (f"convolutions per stage {','.join(map(str, shallow))} -> {','.join(map(str, convs))}; "
                   "each added one started as the identity (inference.deepen)")


def train(args: argparse.Namespace) -> Path:
    """Run training per the CLI arguments; returns the manifest path."""
    task = args.task
    recipe = recipes.DEMO_RECIPES[task]
    backbone = args.backbone or "vgg-narrow"
    size = args.size or (recipe.size if backbone == "vgg-narrow" else recipes.SEED_SIZES[task])
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    classes = recipes.CLASSES[task]
    n_slices = recipe.n_slices if backbone == "vgg-narrow" else recipes.SEED_N_SLICES
    spec_input = recipes.input_block(task, size, n_slices)
    if args.smooth:
        spec_input["smooth"] = float(args.smooth)
    arch = recipes.architecture_block(task, backbone)
    if args.pool:
        if task == "contrast":
            raise SystemExit("--pool applies to the tumour, ct-lesion and knee models")
        arch["head"] = {**arch["head"], "pool": args.pool}
    if args.convs:
        if backbone != "vgg-narrow":
            raise SystemExit("--convs applies to the vgg-narrow demo backbone")
        convs = [int(c) for c in args.convs.split(",")]
        if len(convs) != len(arch["backbone_options"]["widths"]) or min(convs) < 1:
            raise SystemExit(f"--convs {args.convs}: one count (>= 1) per stage, "
                             f"{len(arch['backbone_options']['widths'])} stages")
        arch["backbone_options"] = {**arch["backbone_options"], "convs": convs}
    model = build_model(task, arch, classes)
    if args.pretrained:
        trunks = [model.backbone] if task != "knee" else [m.cnn for m in model.planes.values()]
        from inference.models.backbones import Backbone
        for trunk in trunks:
            load_imagenet_backbone(Backbone(trunk, 0, ""), backbone, Path(args.pretrained))
    added: list[int] = []
    init_note = ""
    if args.init:
        init = Path(args.init)
        if init.suffix != ".safetensors":
            raise SystemExit(f"{init}: --init takes a .safetensors file (pickles are refused)")
        added, init_note = _load_init(model, init, task, arch)
    kind = args.augment or recipe.augment
    if args.focus is not None:
        focus = float(args.focus)
    else:   # the recipe's penalty needs phantoms' body masks and basic (geometric) augmentation
        focus = 0.0 if args.data or kind not in MASK_SAFE else recipe.focus
    point = float(args.point) if args.point is not None else (
        0.0 if args.data or kind not in MASK_SAFE else recipe.point)
    if (focus or point) and (task not in FOCUS_TASKS or args.data or kind not in MASK_SAFE):
        raise SystemExit(f"--focus and --point apply to {' and '.join(FOCUS_TASKS)} trained on phantoms "
                         f"(they carry body and lesion masks) with --augment {' or '.join(MASK_SAFE)}")
    if kind in NEEDS_REGIONS and (task not in FOCUS_TASKS or args.data):
        raise SystemExit(f"--augment {kind} applies to {' and '.join(FOCUS_TASKS)} trained on phantoms "
                         "(it needs their lesion masks)")
    n_train = args.n_train or recipe.n_train
    n_val = args.n_val or recipe.n_val
    t0 = time.time()
    body = lesion = regions = with_lesion = None
    generator = None
    if args.data:
        x, y = folder_tensors(task, Path(args.data), spec_input, classes)
        perm = torch.randperm(_n(x), generator=torch.Generator().manual_seed(args.seed))
        n_val = max(1, _n(x) // 5)
        xv, yv = _take(x, perm[:n_val]), y[perm[:n_val]]
        x, y = _take(x, perm[n_val:]), y[perm[n_val:]]
        data_desc = f"user folder {args.data}"
    else:
        base = args.seed * 10_000
        generator = _training_generator(task, args.generator)
        bodies = [] if focus or point else None
        lesions = [] if point or kind in NEEDS_REGIONS else None
        x, y = phantom_tensors(task, range(base, base + n_train), spec_input, args.quiet, generator,
                               bodies, lesions)
        if bodies:
            body = torch.stack(bodies)
        if lesions and kind in NEEDS_REGIONS:
            regions = torch.stack(lesions).bool()
            with_lesion = torch.nonzero(regions.flatten(1).any(1)).flatten()
        if lesions and point:   # where a map's maximum is a hit: within the pointing tolerance
            lesion = near(torch.stack(lesions), pointing_tolerance((size, size)))
        xv, yv = phantom_tensors(task, range(recipes.VAL_SEED_START + base,
                                             recipes.VAL_SEED_START + base + n_val), spec_input, args.quiet,
                                 generator)
        data_desc = (f"{_GENERATOR_TEXT[generator]} ({task}): training seeds [{base}, {base + n_train}), "
                     f"validation seeds [{recipes.VAL_SEED_START + base}, "
                     f"{recipes.VAL_SEED_START + base + n_val}); "
                     f"held-out evaluation seeds start at {recipes.HELD_OUT_SEED_START}")
    if added:   # a deepened start: its identity blocks pass what they receive unchanged
        fit_identity_norms(model, added, x[:512])
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=args.lr or recipe.lr, weight_decay=recipe.weight_decay)
    epochs = args.epochs or recipe.epochs
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, epochs))
    gen = torch.Generator().manual_seed(args.seed)
    bs = recipe.batch_size
    mean, std = float(spec_input.get("mean", 0.0)), float(spec_input.get("std", 1.0))
    best, best_state, bad, history = float("inf"), None, 0, []
    for epoch in range(epochs):
        model.train()
        outside_shares: list[float] = []
        away_shares: list[float] = []
        perm = torch.randperm(_n(x), generator=gen)
        batches = range(0, _n(x), bs)
        for i in _progress(batches, len(batches), f"epoch {epoch + 1}/{epochs}", args.quiet):
            idx = perm[i:i + bs]
            xb = _take(x, idx)
            if body is not None or regions is not None:   # masks move with their image (flip, shift)
                masks = ([body[idx]] if body is not None else []) + (
                    [lesion[idx]] if lesion is not None else []) + (
                    [_regions(regions, with_lesion, idx, y, gen)] if regions is not None else [])
                xb, *moved = augment("basic", torch.cat([xb, *masks], 1), gen).split(1, 1)
                if regions is not None:    # the image only: its masks keep their edges
                    xb = regional_sharpness(xb, feathered(moved.pop() > 0.5), gen, mean, std)
                else:
                    xb = global_changes(kind, xb, gen, mean, std)
                if body is None:
                    loss = _loss(task, model, xb, y[idx])
                else:
                    bb, lb = moved[0], moved[1:]
                    logits, outside, away = logits_and_shares(model, xb, bb, lb[0] if lb else None)
                    loss = F.cross_entropy(logits, y[idx]) + focus * outside + point * away
                    outside_shares.append(float(outside.detach()))
                    away_shares.append(float(away.detach()))
            else:
                xb = ({p: augment("basic", v, gen) for p, v in xb.items()} if isinstance(xb, dict)
                      else augment(kind, xb, gen, mean, std))
                loss = _loss(task, model, xb, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        recalibrate_batchnorm(model, x, bs)
        val = evaluate_loss(task, model, xv, yv, bs * 2)
        history.append(round(val, 5))
        focus_text = (f", finding map outside the body {np.mean(outside_shares):.3f}"
                      if outside_shares else "")
        if point:
            focus_text += f", away from the lesion {np.mean(away_shares):.3f}"
        print(f"epoch {epoch + 1}: validation loss {val:.4f}{focus_text} ({time.time() - t0:.0f} s)",
              file=sys.stderr, flush=True)
        if val < best - 1e-4:
            best, bad = val, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= recipe.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    if task == "knee":
        fit_fusion(model, xv, yv)
    out = Path(args.out) if args.out else builtin_models_dir()
    out.mkdir(parents=True, exist_ok=True)
    name = args.name or task
    weights = out / f"{name}.safetensors"
    save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, str(weights),
              metadata={"task": task, "backbone": backbone})
    weights.chmod(0o644)
    target = model.target_layer if task != "knee" else model.target_layer("sagittal")
    demo = not args.data
    spec = ModelSpec(
        name=name, version=args.version, task=task, classes=classes, input=spec_input,
        architecture=arch, backbone=backbone, target_layer=target, weights=weights.name,
        sha256=sha256_file(weights), modality=recipes.MODALITY[task], training_data=data_desc,
        training={"command": "python -m inference.train " + shlex.join(args.argv), "seed": args.seed,
                  "epochs_run": len(history), "validation_loss": history, "n_train": _n(x),
                  "n_val": _n(xv), "seconds": round(time.time() - t0, 1), "augment": kind,
                  **({"generator": generator} if generator else {}),
                  **({"init": {"file": Path(args.init).name, "sha256": sha256_file(Path(args.init)),
                               **({"deepened": init_note} if init_note else {})}}
                     if args.init else {})},
        metrics={}, intended_use=recipes.INTENDED_USE[task], demo=demo,
        demo_statement=DEMO_STATEMENT if demo else "",
        planes=PLANES if task == "knee" else (), explain=recipes.explain_settings(task, size))
    manifest = write_manifest(spec, out / f"{name}.json")
    store_trust(task, model, manifest, x, y, xv, yv, data_desc, (kind, mean, std))
    return manifest


def store_trust(task: str, model: torch.nn.Module, manifest: Path, x: Any, y: torch.Tensor,
                xv: Any, yv: torch.Tensor, data_desc: str,
                augmentation: tuple[str, float, float] = ("basic", 0.0, 1.0)) -> None:
    """Fit the out-of-distribution statistics (training data) and the temperature and thresholds
    (validation data) of the trained ``model`` and store them with its weights
    (``inference.trust``): every model this command trains, a user's own included, gets them.
    ``augmentation`` (kind, mean, std): what the model learned to ignore is in its domain, so
    the statistics' and thresholds' items get those changes first (``augment.as_trained``); the
    temperature is fitted on the validation items as drawn: fitted on changed items it softened
    every call (tumour: T 1.38, held-out ECE 0.023 -> 0.056)."""
    from inference.registry import read_manifest
    from inference.trust import fit_trust, write_trust

    kind, mean, std = augmentation
    n_fit = min(_n(x), 2000)
    x_fit = as_trained(kind, _take(x, torch.arange(n_fit)), mean, std)
    xv_fit = as_trained(kind, xv, mean, std, 1)
    tensors, ood, cal = fit_trust(task, model.eval(), x_fit, y[:n_fit], xv_fit, yv, x_temperature=xv)
    write_trust(read_manifest(manifest), tensors, ood, cal,
                f"{data_desc}{as_trained_note(kind)}; statistics on the first {n_fit} training items, "
                "thresholds and temperature on the validation items")


_GENERATOR_TEXT = {
    "classic": "SliceWise synthetic phantoms, fixed grey levels (inference.phantoms.brain / ct)",
    "varied": ("SliceWise synthetic phantoms, 'varied' style (inference.phantoms.brain / ct): homogeneous, "
               "ring / rim, cystic or ill-defined lesions, hypo- or hyperintense, 5-40 mm, textured, on "
               "anatomy with randomised tissue grey levels, cortex and sulci (MR), liver size and wall "
               "contact, vessels, fat and noise (CT)"),
    "varied-head": ("SliceWise synthetic phantoms, 'varied' style with the head drawn freely too "
                    "(inference.phantoms.brain, free_head): as 'varied', plus scalp 3-13 and skull "
                    "3-10 % of the head radius thick, scalp signal x0.5-1.6, fatty marrow in half, "
                    "round to square outlines"),
    "varied-anatomy": ("SliceWise synthetic phantoms, 'varied' style with the head and the brain drawn "
                       "freely (inference.phantoms.brain, anatomy): as 'varied-head', plus a grey/white "
                       "boundary folded at many scales, straight vessels and sulci, tissue grey levels "
                       "x0.55-1.6, sharper slices and lobulated lesions"),
    "varied-iso": ("SliceWise synthetic phantoms, 'varied' style with 30 % of the tumours homogeneous, "
                   "grey-matter isointense and without oedema (inference.phantoms.brain, iso_share)"),
    "varied-looks": ("SliceWise synthetic phantoms, 'varied' style with lesion looks drawn freely: core "
                     "and rim levels (hypo or hyper) and rim width drawn independently; brain: 15 % "
                     "homogeneous grey-matter isointense, oedema in a quarter"),
    "varied-faint": ("SliceWise synthetic phantoms with half of the lesions faint: tumour 'varied-head' with "
                     "core and rim within 8-25 % of white matter (inference.phantoms.brain, faint_share); "
                     "ct-lesion 'varied-kidneys' with core and rim 5-15 HU from the liver "
                     "(inference.phantoms.ct, faint_share)"),
    "varied-small": ("SliceWise synthetic phantoms, 'varied' style with smaller lesions too "
                     "(inference.phantoms.ct, small_lesions): as 'varied', lesion radius log-uniform "
                     "3-39 mm (a quarter under 11 mm across)"),
    "varied-kidneys": ("SliceWise synthetic phantoms, 'varied' style with smaller lesions too and kidneys "
                       "drawn freely (inference.phantoms.ct, small_lesions, free_kidneys): kidney position, "
                       "size, tilt and enhancement phase varied, absent at some levels, the right one half "
                       "the time behind the liver"),
    "physics": ("SliceWise physics phantoms: MR = 3-D analytic head sliced in axial, coronal and sagittal "
                "planes, rendered through spin-echo / spoiled-GRE / IR-GRE / FLAIR signal equations with "
                "1.5 T and 3 T relaxation times, randomised TR/TE/TI/flip, gadolinium, slice thickness, "
                "resolution, bias field, Rician noise and field of view (inference.phantoms.mr_sim); "
                "CT = randomised abdomen and liver lesions (inference.phantoms.ct_sim)"),
    "varied-mix": ("SliceWise synthetic phantoms, each seed drawn by one of 'varied', 'varied-head', "
                   "'varied-anatomy' and 'varied-looks' in equal shares (inference.recipes.VARIED_MIX)"),
    "mixed": ("SliceWise physics phantoms (3 of 4 seeds, as 'physics') and fixed-grey-level phantoms "
              "(1 of 4, as 'classic': the look of the sample study and the teaching cases)"),
    "varied-physics": ("SliceWise physics phantoms (half the seeds, as 'physics') and 'varied' "
                       "phantoms (the other half, as 'varied'; contrast: the varied head, its tissue "
                       "grey levels drawn afresh within each contrast's order, a tumour on a quarter): "
                       "two drawing styles of the same anatomy and finding"),
}


def _training_generator(task: str, choice: str | None) -> str:
    """The phantom generator to train on; the independent one is for validation only."""
    generator = choice or recipes.DEFAULT_GENERATOR[task]
    if generator not in _GENERATOR_TEXT:
        raise SystemExit(f"--generator {generator}: training uses {sorted(_GENERATOR_TEXT)}; "
                         "the independent generator is kept for validation")
    if generator in ("physics", "mixed", "varied", "varied-physics") and task == "knee":
        raise SystemExit(f"--generator {generator} has no knee exams; use classic")
    if generator in ("varied-looks", "varied-faint") and task not in ("tumour", "ct-lesion"):
        raise SystemExit(f"--generator {generator} draws lesions: tumour and ct-lesion only")
    if generator in ("varied-head", "varied-anatomy", "varied-iso", "varied-mix") and task != "tumour":
        raise SystemExit(f"--generator {generator} draws brain tumours: tumour only")
    if generator in ("varied-small", "varied-kidneys") and task != "ct-lesion":
        raise SystemExit(f"--generator {generator} draws liver lesions: ct-lesion only")
    return generator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m inference.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", required=True, choices=list(recipes.CLASSES),
                    type=lambda t: ALIASES.get(t.lower(), t))
    ap.add_argument("--backbone", choices=["vgg16", "resnet50", "resnet18", "vgg-narrow"],
                    help="default vgg-narrow (demo); seed: vgg16 tumour, resnet50 contrast, resnet18 knee")
    ap.add_argument("--pretrained", help="local ImageNet weights (.safetensors) for the backbone")
    ap.add_argument("--init", help="start from these weights (.safetensors of the same task and "
                                   "architecture: fine-tuning) instead of a random initialisation")
    ap.add_argument("--data", help="folder with your own data (see above); default: phantoms")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, help="input size in pixels (default per backbone)")
    ap.add_argument("--n-train", type=int, dest="n_train")
    ap.add_argument("--n-val", type=int, dest="n_val")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--augment", choices=AUGMENTATIONS,
                    help="training augmentation (default per task; see inference/augment.py)")
    ap.add_argument("--focus", type=float,
                    help="weight of the penalty on finding-map evidence outside the body "
                         "(inference/focus.py; tumour, ct-lesion on phantoms; default per task)")
    ap.add_argument("--point", type=float,
                    help="weight of the penalty on a positive phantom's finding map farther than the "
                         "pointing tolerance from its lesion (inference/focus.py; same tasks as "
                         "--focus; default per task)")
    ap.add_argument("--smooth", type=float, default=0.0,
                    help="Gaussian low-pass of the model input, sigma in model pixels (stored in the "
                         "manifest's input block and applied wherever the model reads an image; "
                         "default 0: none)")
    ap.add_argument("--pool", choices=["avg", "max"], help="global pooling before the classifier head")
    ap.add_argument("--convs", help="vgg-narrow: convolutions per stage, comma-separated "
                    "(default per task in inference.recipes.DEMO_OPTIONS, e.g. 1,1,1,1)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    ap.add_argument("--name", help="model name (default: the task)")
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("--out", help="output folder (default: resources/models)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--generator", choices=sorted(_GENERATOR_TEXT),
                    help="phantom generator (default: physics for tumour/contrast/ct-lesion, "
                         "classic for knee)")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = ap.parse_args(argv)
    args.argv = argv
    return args


def main(argv: list[str] | None = None) -> int:
    path = train(parse_args(argv))
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

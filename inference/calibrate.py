"""Fit the out-of-distribution statistics and the temperature of existing weights, without
retraining: ``python -m inference.calibrate --task T`` (or ``--manifest PATH``).

Data: the task's phantoms from the model's own training seed block (``training.seed`` in the
manifest): statistics from ``--n-fit`` training seeds, thresholds and temperature from ``--n-val``
validation seeds (see ``inference.recipes``: training [0, 500 000), validation from 500 000).
Held-out evaluation seeds (from 1 000 000) are never used. Writes ``<name>.ood.safetensors``
beside the manifest and the manifest's ``domain``, ``ood`` and ``calibration`` blocks and
``metrics.calibration`` (the weights and their sha256 are untouched). ``inference.train`` runs
the same fit after training, so users' own models get it too.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

from inference import recipes
from inference.augment import as_trained, as_trained_note
from inference.models import build_model
from inference.registry import ALIASES, ModelSpec, get_spec, load_state
from inference.train import _training_generator, phantom_tensors
from inference.trust import fit_trust, write_trust


def _module(spec: ModelSpec) -> torch.nn.Module:
    module = build_model(spec.task, spec.architecture, spec.classes,
                         spec.planes or ("sagittal", "coronal", "axial"))
    module.load_state_dict(load_state(spec), strict=True)
    return module.eval()


def calibrate(spec: ModelSpec, n_fit: int, n_val: int, percentile: float = 99.0,
              quiet: bool = True, generator: str | None = None) -> tuple[ModelSpec, dict[str, Any]]:
    """Fit and store the statistics and temperature of ``spec``'s weights on its task's phantoms
    from ``generator`` (default: the one the weights were trained on, as their manifest says, see
    :func:`inference.recipes.trained_generator`); returns (the updated spec, a summary)."""
    generator = _training_generator(   # the independent generator is refused
        spec.task, generator or recipes.trained_generator(spec.task, spec.training))
    t0 = time.time()
    module = _module(spec)
    base = int(spec.training.get("seed", 0) or 0) * 10_000
    fit_seeds = range(base, base + n_fit)
    val_seeds = range(recipes.VAL_SEED_START + base, recipes.VAL_SEED_START + base + n_val)
    x, y = phantom_tensors(spec.task, fit_seeds, spec.input, quiet, generator)
    xv, yv = phantom_tensors(spec.task, val_seeds, spec.input, quiet, generator)
    kind = str(spec.training.get("augment", "basic"))     # what the model learned to ignore is in domain
    mean, std = float(spec.input.get("mean", 0.0)), float(spec.input.get("std", 1.0))
    tensors, ood, cal = fit_trust(spec.task, module, as_trained(kind, x, mean, std), y,
                                  as_trained(kind, xv, mean, std, 1), yv, percentile, x_temperature=xv)
    fitted_on = (f"SliceWise synthetic phantoms ({spec.task}, {generator!r} generator): statistics "
                 f"on training seeds [{fit_seeds.start}, {fit_seeds.stop}), thresholds and temperature "
                 f"on validation seeds [{val_seeds.start}, {val_seeds.stop})"
                 + as_trained_note(kind)
                 + f"; threshold at the {percentile:g}th percentile; by python -m inference.calibrate")
    new = write_trust(spec, tensors, ood, cal, fitted_on)
    return new, {"model": spec.name, "thresholds": ood["thresholds"], "temperature": cal["temperature"],
                 "ece_before": cal["ece_before"], "ece_after": cal["ece_after"],
                 "seconds": round(time.time() - t0, 1)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m inference.calibrate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--task", type=lambda t: ALIASES.get(t.lower(), t),
                       help="an installed model by name (tumour, ct-lesion, contrast, knee)")
    which.add_argument("--manifest", help="a model manifest (.json) trained on a phantom task")
    ap.add_argument("--n-fit", type=int, default=300, dest="n_fit",
                    help="training phantoms for the statistics")
    ap.add_argument("--n-val", type=int, default=400, dest="n_val",
                    help="validation phantoms for the thresholds and the temperature")
    ap.add_argument("--percentile", type=float, default=99.0,
                    help="percentile of validation distances used as the threshold")
    ap.add_argument("--generator", help="phantom generator of training (default: the one the "
                    "manifest says the weights were trained on, else the task's)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    spec = get_spec(args.task or "", args.manifest)
    if spec.task not in recipes.CLASSES:
        raise SystemExit(f"{spec.name}: task {spec.task!r} has no phantoms; use inference.train --data")
    new, summary = calibrate(spec, args.n_fit, args.n_val, args.percentile, args.quiet, args.generator)
    print(summary)
    print(Path(str(new.manifest_path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

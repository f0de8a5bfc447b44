"""Per-slice calls of the slice demo models on the real series in ../shared/dicom (checking only:
real DICOM never enters training or calibration).

``python -m tests.inference.real_series_calls [--weights-dir DIR]`` prints, per model and series,
the series vote, the per-slice counts of each class and the mean probability of the top class.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "dicom"
#: (model, series folder, known truth for the whole series or None)
CHECKS = (("contrast", "brain_mr_t1_sagittal", "T1"), ("tumour", "brain_mr_t1_sagittal", "no tumour"),
          ("ct-lesion", "ct_abdomen", None))


def series_calls(model: str, folder: Path, weights_dir: Path | None = None) -> dict[str, Any]:
    """Load ``folder`` with viewer.io and classify every slice with ``model``."""
    from inference.predict import load_model
    from viewer.io.loader import open_path

    _, vol = open_path(folder)
    assert vol is not None, folder
    manifest = None if weights_dir is None else str(weights_dir / f"{model}.json")
    clf = load_model(model, device="cpu", manifest_path=manifest)
    spacing = (float(vol.spacing[1]), float(vol.spacing[2]))
    preds = clf.predict_batch([np.asarray(s, np.float32) for s in vol.voxels], spacing=spacing)
    calls = [p.predicted for p in preds]
    counts = Counter(calls)
    vote = counts.most_common(1)[0][0]
    return {"model": model, "series": folder.name, "n": len(calls), "vote": vote, "counts": dict(counts),
            "calls": calls,
            "mean_p_vote": float(np.mean([p.probabilities[vote] for p in preds]))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--weights-dir", type=Path)
    args = ap.parse_args(argv)
    for model, series, truth in CHECKS:
        r = series_calls(model, SHARED / series, args.weights_dir)
        r["truth"] = truth
        r.pop("calls")
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

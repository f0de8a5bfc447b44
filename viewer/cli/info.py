"""``slicewise info``: what discovery and loading found under some paths."""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from viewer.io import DicomLoadError, discover, load_series
from viewer.io.records import SeriesInfo, Volume


def describe_series(info: SeriesInfo, volume: Volume | None, load_error: str | None) -> dict:
    """One series as the JSON record of the ``info`` contract."""
    warnings = list(volume.warnings if volume is not None else info.warnings)
    if load_error:
        warnings.append(load_error)
    if volume is not None:
        slices, rows, cols = volume.shape
        spacing = [round(float(s), 4) for s in volume.spacing]
        orientation = volume.orientation
    else:
        slices, rows, cols = info.n_slices, info.rows, info.columns
        step = info.slice_step if info.slice_step else 1.0
        spacing = [round(float(step), 4), *(round(float(s), 4) for s in info.pixel_spacing)]
        orientation = info.orientation
    return {
        "uid": info.uid,
        "description": info.description,
        "modality": info.modality,
        "files": len(info.files),
        "slices": int(slices),
        "rows": int(rows),
        "columns": int(cols),
        "spacing": spacing,
        "orientation": orientation,
        "warnings": warnings,
    }


def run_info(paths: Sequence[str], *, as_json: bool) -> int:
    result = discover(paths)
    records = []
    read = 0
    for info in result.series:
        volume, error = None, None
        try:
            volume = load_series(info)
            read += 1
        except DicomLoadError as exc:
            error = f"Could not load this series: {exc.reason} ({exc.path})"
        records.append(describe_series(info, volume, error))
    skipped = [{"path": s.path, "reason": s.reason} for s in result.skipped]
    if as_json:
        json.dump({"series": records, "skipped": skipped}, sys.stdout, indent=2)
        print()
    else:
        _print_table(records, skipped)
    return 0 if read else 1


def _print_table(records: list[dict], skipped: list[dict]) -> None:
    if not records:
        print("No DICOM image series found.")
    for r in records:
        z, y, x = r["spacing"]
        print(f"{r['modality'] or '?':3} {r['orientation']:8} {r['slices']:4} x {r['rows']}x{r['columns']}"
              f"  spacing {z:g} x {y:g} x {x:g} mm  {r['description'] or '(no description)'}")
        print(f"    uid {r['uid']}  ({r['files']} files)")
        for w in r["warnings"]:
            print(f"    warning: {w}")
    if skipped:
        print(f"{len(skipped)} file(s) skipped:")
        for s in skipped:
            print(f"    {s['path']}: {s['reason']}")

"""Batch benchmark: slices per second and memory peak of a naive loop, ``--engine local`` and
``--engine ray`` on the same synthetic archive, in one run.

Archive: 40 brain MR series x 60 slices of 256 x 256 (the issue's size;
``tests.modules.batch.synthetic``), written once (about 2 minutes) and cached in a temp folder.
Naive peer: one slice at a time, ``pydicom.dcmread`` -> rescale -> ``Classifier.predict`` (read,
preprocess, predict in one process). Each variant runs in a fresh subprocess (model load, worker /
Ray start-up included, as a nightly job pays them); peak memory is ``ru_maxrss`` of that process
and of its largest child (workers, Ray processes). Per-stage seconds (read, preprocess, infer)
come from the local run's table. Aims, once running: local >= 3x naive on 2 cores; Ray within
0.8x of local. Whole-run ratios are printed too: on this archive start-up is most of the run.

Run: ``python -m tests.benchmarks bench_batch`` (or ``make bench ARGS=batch``).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

N_SERIES, N_SLICES, SIZE = 40, 60, 256
CACHE = Path(tempfile.gettempdir()) / f"slicewise_bench_batch_{N_SERIES}x{N_SLICES}x{SIZE}"


def _archive() -> Path:
    done = CACHE / ".complete"
    if not done.exists():
        from tests.modules.batch.synthetic import write_archive

        write_archive(CACHE, n_series=N_SERIES, n_slices=N_SLICES, size=SIZE, broken=False,
                      ct=False, per_patient=3)
        done.touch()
    return CACHE


def _naive(arc: Path) -> tuple[int, float]:
    import numpy as np
    import pydicom
    import torch

    from inference import load_model
    from viewer.io import discover

    torch.set_num_threads(os.cpu_count() or 1)
    clf = load_model("contrast")
    n = 0
    t0 = time.perf_counter()
    for info in discover(arc).series:
        for f in info.files:
            ds = pydicom.dcmread(f)
            img = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            clf.predict(img, spacing=info.pixel_spacing, modality=info.modality,
                        orientation=info.orientation)
            n += 1
    return n, n / (time.perf_counter() - t0)


def _engine(arc: Path, engine: str) -> tuple[int, float]:
    from viewer.modules.batch.pipeline import BatchConfig, run_batch

    marks: list[tuple[float, int]] = []
    with tempfile.TemporaryDirectory(prefix=f"bench-batch-{engine}-") as tmp:
        out = Path(tmp)
        summary = run_batch(BatchConfig((str(arc),), "contrast", str(out), engine=engine, workers=2),
                            on_record=lambda r: marks.append((time.perf_counter(), len(r["rows"]) - 1)))
        if engine == "local":
            import pyarrow.parquet as pq

            rows = [r for r in pq.read_table(out / "contrast.parquet").to_pylist()
                    if r["level"] == "series"]
            stages = {k: round(sum(r[k] or 0 for r in rows), 3)
                      for k in ("read_s", "preprocess_s", "infer_s")}
            print("STAGES " + json.dumps(stages))
    return int(summary["run"]["slices_processed"]), steady_rate(marks)


def steady_rate(marks: list[tuple[float, int]]) -> float:
    """Slices per second once the pipeline runs: the least-squares slope of slices done against
    time over the series after the first quarter. A slope, not first-to-last: the Ray engine
    hands its results over a few series at a time (one block), so counting from the first
    record would credit it with the series read while its first block was still in flight."""
    import numpy as np

    if len(marks) < 3:
        return 0.0
    t = np.array([m[0] for m in marks])
    done = np.cumsum([m[1] for m in marks])
    k = len(marks) // 4
    if np.ptp(t[k:]) <= 0:
        return 0.0
    return float(np.polyfit(t[k:], done[k:], 1)[0])


def _child(mode: str, arc: str) -> None:
    t0 = time.perf_counter()
    n, steady = _naive(Path(arc)) if mode == "naive" else _engine(Path(arc), mode)
    dt = time.perf_counter() - t0
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("RESULT " + json.dumps({"slices": n, "seconds": dt, "slices_per_s": n / dt,
                                  "steady_slices_per_s": steady,
                                  "peak_mb": self_kb / 1024, "child_peak_mb": child_kb / 1024}))


def _run(mode: str, arc: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_batch", "--child", mode,
                           str(arc)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    out: dict = {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            out.update(json.loads(line[7:]))
        elif line.startswith("STAGES "):
            out["stages_s"] = json.loads(line[7:])
    if not out:
        raise RuntimeError(f"{mode} failed: {proc.stderr[-2000:]}")
    return out


def main() -> dict:
    arc = _archive()
    results = {mode: _run(mode, arc) for mode in ("naive", "local", "ray")}
    print(f"{'variant':8} {'slices':>6} {'s':>7} {'slices/s':>9} {'steady/s':>9} {'peak MB':>8} "
          f"{'child MB':>9}")
    for mode, r in results.items():
        print(f"{mode:8} {r['slices']:6d} {r['seconds']:7.2f} {r['slices_per_s']:9.1f} "
              f"{r['steady_slices_per_s']:9.1f} "
              f"{r['peak_mb']:8.0f} {r['child_peak_mb']:9.0f}")
    ratios = {"local_vs_naive": results["local"]["slices_per_s"] / results["naive"]["slices_per_s"],
              "ray_vs_local": results["ray"]["slices_per_s"] / results["local"]["slices_per_s"],
              "steady_local_vs_naive": (results["local"]["steady_slices_per_s"]
                                        / results["naive"]["steady_slices_per_s"]),
              "steady_ray_vs_local": (results["ray"]["steady_slices_per_s"]
                                      / results["local"]["steady_slices_per_s"])}
    print(f"once running (slope after the first quarter of series): local / naive = "
          f"{ratios['steady_local_vs_naive']:.2f}x (aim >= 3), ray / local = "
          f"{ratios['steady_ray_vs_local']:.2f}x (aim >= 0.8)")
    print(f"whole run, start-up included (imports, model load, reader processes, Ray): local / "
          f"naive = {ratios['local_vs_naive']:.2f}x, ray / local = {ratios['ray_vs_local']:.2f}x "
          f"(on {N_SERIES * N_SLICES} slices start-up is most of the run)")
    print(f"per-stage seconds (local, summed over series): {results['local'].get('stages_s')}")
    return {"archive": f"{N_SERIES} series x {N_SLICES} slices of {SIZE}px", **results, **ratios}


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()

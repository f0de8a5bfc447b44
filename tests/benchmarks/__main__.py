"""Runs the benchmarks (``make bench``): every ``bench_*.py`` here, or those named on the line.

Each module's ``main()`` prints its own table and returns its figures; all figures are written
to ``bench-results/results.json`` with the machine they were measured on. Nothing here asserts
on time: the figures go into the README by hand, with the peer they were compared against.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def isolate_user_folders() -> Path:
    """Point settings, data and HOME-derived folders at a fresh temporary folder.

    A benchmark must never read the reader's remembered settings (a remembered model or layout
    once made the overlay benchmark hang) nor write into their data folder."""
    run_dir = Path(tempfile.mkdtemp(prefix="slicewise-bench-"))
    for var, sub in (("SLICEWISE_SETTINGS_DIR", "settings"), ("SLICEWISE_DATA_DIR", "data"),
                     ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "share"),
                     ("XDG_CACHE_HOME", "cache")):
        os.environ[var] = str(run_dir / sub)
    return run_dir


def main(argv: list[str]) -> int:
    isolate_user_folders()
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    wanted = [a if a.startswith("bench_") else f"bench_{a}" for a in argv]
    if wanted:
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}")
            return 2
        names = wanted
    results: dict[str, object] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
    failed = 0
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"tests.benchmarks.{name}")
            results[name] = module.main()
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            failed += 1
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name} failed: {exc}")
        print(f"({name} took {time.perf_counter() - t0:.1f} s)")
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwrote {out / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Command line: ``python -m tests.fuzz [--count N] [--seed S] [--workers W] ...``.

Prints the counts per outcome and the distinct failures grouped by signature, each with one
recipe; ``--replay RECIPE_JSON`` rebuilds that mutant and runs it here, printing the traceback;
``--keep DIR`` writes it to DIR as well. Exit status 1 when any mutant failed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.fuzz.mutate import Recipe, build, recipes
from tests.fuzz.runner import GIB, run
from tests.fuzz.seeds import seed_files


def _replay(text: str, keep: str | None) -> int:
    from tests.fuzz.worker import run_mutant
    recipe = Recipe.from_json(text)
    if keep:
        folder = Path(keep)
        folder.mkdir(parents=True, exist_ok=True)
        paths, changes = build(recipe, folder)
        print("written:", *map(str, paths), "changes:", changes, sep="\n  ")
    with tempfile.TemporaryDirectory() as tmp:
        reply = run_mutant(recipe, Path(tmp))
    print(json.dumps({k: v for k, v in reply.items() if k != "detail"}, indent=1))
    print(reply["detail"])
    return 0 if reply["outcome"] in ("loaded", "skipped", "load_error") else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="skip the first START recipes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per mutant")
    parser.add_argument("--mem-gib", type=float, default=2.0, help="address space per mutant")
    parser.add_argument("--no-shared", action="store_true", help="pydicom's seeds only")
    parser.add_argument("--detail", action="store_true", help="print one traceback per failure")
    parser.add_argument("--replay", help="a recipe (JSON) from a report")
    parser.add_argument("--keep", help="with --replay: also write the mutant files here")
    args = parser.parse_args(argv)
    if args.replay:
        return _replay(args.replay, args.keep)
    seeds = seed_files(include_shared=not args.no_shared)
    if not seeds:
        print("no seed files (neither ../shared/dicom nor pydicom's test files)")
        return 1
    todo = recipes(seeds, args.count, args.seed, args.start)
    print(f"{len(seeds)} seed files, {len(todo)} mutants, seed {args.seed}, "
          f"{args.workers} workers", flush=True)

    def progress(done: int, report) -> None:  # type: ignore[no-untyped-def]
        if done % 500 == 0:
            print(f"  {done}: {dict(report.counts)}", flush=True)

    report = run(todo, workers=args.workers, timeout=args.timeout,
                 mem_limit=int(args.mem_gib * GIB), progress=progress)
    print(report.text(detail=args.detail))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())

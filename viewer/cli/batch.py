"""``slicewise batch SOURCE... --model NAME --out DIR``: classify an archive (Qt-free logic in
:mod:`viewer.modules.batch`).

SOURCE: a folder tree, a DICOMDIR, or ``pacs://SERVER?modality=MR&date=20240101-20241231``.
Writes ``NAME.parquet``, ``NAME.csv``, ``NAME.summary.json`` and the resume journal into DIR;
re-running skips the series done with the same weights and retries the failures. Exit status:
0 when every series was classified and every heat map and result file asked for was written,
2 when some series failed or were classified without some of their files (listed in the
summary, with reasons), 1 on a usage error, 130 when interrupted (what was done is kept and
the tables are rebuilt).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from viewer.cli.errors import CommandError


def add_batch_parser(sub: Any) -> None:
    s = sub.add_parser("batch", help="classify every series of folders, DICOMDIRs or PACS queries")
    s.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="folder, DICOMDIR or pacs://SERVER?modality=MR&date=YYYYMMDD-YYYYMMDD")
    s.add_argument("--model", required=True, help="model name (see 'slicewise models')")
    s.add_argument("--out", required=True, help="output folder (tables, summary, journal)")
    s.add_argument("--explain", choices=("gradcam", "hirescam", "occlusion"),
                   help="make a heat map per slice (written with --nifti and/or --dicom)")
    s.add_argument("--nifti", action="store_true", help="write each series' heat maps as NIfTI")
    s.add_argument("--dicom", action="store_true",
                   help="write the DICOM result objects per series (SR; with --explain PM, SEG, SC)")
    s.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: worker processes on this machine (default); ray: a Ray Data job")
    s.add_argument("--address", help="Ray cluster to join (e.g. auto); default: a private local one")
    s.add_argument("--workers", type=int, default=None,
                   help="reader processes / local Ray CPUs (default: the CPU cores this process "
                        "may use; readers yield to the model process)")
    s.add_argument("--batch-size", type=int, default=16,
                   help="slices per model call (16: fastest for the demo models on a CPU; "
                        "raise it on a GPU)")
    s.add_argument("--ray-actors", type=int, default=1, dest="ray_actors",
                   help="--engine ray: model copies (inference actors) (1)")
    s.add_argument("--gpus-per-actor", type=float, default=0.0, dest="gpus_per_actor",
                   help="--engine ray: GPUs each inference actor reserves (0; 1 = one GPU each, "
                        "0.5 = two actors share one)")
    s.add_argument("--limit", type=int, help="stop after this many series (the rest on a re-run)")
    s.add_argument("--json-progress", action="store_true",
                   help="one JSON object per line on stdout (progress, then the summary)")
    s.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), dest="sub_device")


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask in a container), at least 1."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def run_batch_command(args: argparse.Namespace) -> int:
    from viewer.modules.batch.pipeline import BatchConfig, run_batch
    from viewer.modules.batch.progress import Progress
    from viewer.modules.batch.sources import SourceError, parse_source

    if args.explain and not (args.nifti or args.dicom):
        raise CommandError("--explain makes maps: say where they go with --nifti and/or --dicom")
    if args.nifti and not args.explain:
        raise CommandError("--nifti writes heat maps: choose a method with --explain")
    if args.workers is None:
        args.workers = usable_cores()
    if args.workers < 1 or args.batch_size < 1 or args.ray_actors < 1:
        raise CommandError("--workers, --batch-size and --ray-actors must be at least 1")
    if args.gpus_per_actor < 0:
        raise CommandError("--gpus-per-actor cannot be negative")
    if args.engine != "ray" and (args.ray_actors != 1 or args.gpus_per_actor):
        raise CommandError("--ray-actors and --gpus-per-actor apply to --engine ray")
    try:
        for s in args.sources:
            parse_source(s)
    except SourceError as exc:
        raise CommandError(str(exc)) from exc
    _check_model(args.model)
    if args.engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise CommandError("--engine ray needs Ray: pip install 'slicewise[cluster]'") from exc
    device = None if args.device in (None, "auto") else args.device
    config = BatchConfig(tuple(args.sources), args.model, args.out, args.explain, args.dicom,
                         args.nifti, args.engine, args.workers, args.batch_size, device,
                         args.limit, args.address,
                         {"ray_actors": args.ray_actors, "num_gpus": args.gpus_per_actor})
    mode = "json" if args.json_progress else ("bar" if sys.stderr.isatty() else "quiet")
    progress = Progress(mode)
    summary = run_batch(config, progress)
    if args.json_progress:
        progress.emit({"event": "summary", **summary})
    else:
        _print(summary)
    return 2 if (summary.get("failures", {}).get("count")
                 or summary.get("outputs_missing", {}).get("count")) else 0


def _check_model(name: str) -> None:
    from inference.registry import get_spec

    try:
        spec = get_spec(name)
    except KeyError as exc:
        raise CommandError(str(exc).strip("'\"")) from exc
    if getattr(spec, "level", "slice") != "slice":
        raise CommandError(f"the {name} model reads whole exams; batch runs slice models")


def _print(s: dict[str, Any]) -> None:
    run = s["run"]
    demo = "  [demo weights - not for clinical use]" if s.get("demo") else ""
    print(f"model {s['model']} ({s['model_sha256'][:12]}) on {s['device']}{demo}")
    print(f"series: {run['series_found']} found, {run['series_processed']} processed, "
          f"{run['series_already_done']} already done; {run['slices_processed']} slices in "
          f"{run['elapsed_s']:.1f} s ({run['slices_per_s'] or 0:.1f} slices/s)")
    print("classes: " + ", ".join(f"{c} {n}" for c, n in sorted(s["counts_per_class"].items())))
    for key, title in (("header_disagreements", "header disagrees with the model"),
                       ("out_of_domain", "outside the model's domain"), ("failures", "failed"),
                       ("outputs_missing", "classified, but result files not written")):
        block = s.get(key) or {"count": 0}
        if block["count"]:
            print(f"{title}: {block['count']}")
            for item in block["series"][:10]:
                why = item.get("reason") or item.get("reasons") or \
                    f"header {item.get('header')}, model {item.get('model')}"
                print(f"  {item['description'] or item['series_uid']}: {why}")
    if s["skipped_files"]["count"]:
        print(f"skipped files: {s['skipped_files']['count']} (see the summary)")
    print(f"tables: {s['files']['parquet']}, {s['files']['csv']}")
    print(f"summary: {s['files']['summary']}")
    sys.stdout.flush()


__all__ = ["add_batch_parser", "run_batch_command"]

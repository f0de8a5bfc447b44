"""``run_batch``: sources -> streaming discovery -> read + preprocess (engine) -> batched inference
-> journal -> tables + summary. Qt-free; the command line (``slicewise batch``) is a thin shell.

Idempotent: series already done for the same model sha256 are skipped, failures are retried,
and the tables and summary are rebuilt from the journal at the end of every run, also when it
is interrupted (Ctrl+C), so the folder always shows everything done so far.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from viewer.io.records import SeriesInfo
from viewer.modules.batch.infer import InferOptions, SeriesInference
from viewer.modules.batch.outputs import Journal, write_json_atomic, write_tables
from viewer.modules.batch.progress import Progress
from viewer.modules.batch.sources import (
    AHEAD,
    AHEAD_FILES,
    DiscoverAhead,
    Discovered,
    iter_series,
    parse_source,
)


@dataclass(frozen=True)
class BatchConfig:
    """One batch run. ``engine``: "local" or "ray"; ``workers``: reader processes (local) or
    CPUs for a local Ray instance; ``max_series``: stop after this many series (None: all);
    ``ray_address``: None for a local Ray instance, "auto" or ``ray://...`` for a cluster."""

    sources: tuple[str, ...]
    model: str
    out: str
    explain: str | None = None
    dicom: bool = False
    nifti: bool = False
    engine: str = "local"
    workers: int = 2
    batch_size: int = 16
    device: str | None = None
    max_series: int | None = None
    ray_address: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def options(self) -> InferOptions:
        return InferOptions(self.out, self.explain, self.dicom, self.nifti, self.batch_size, self.device)


def run_batch(config: BatchConfig, progress: Progress | None = None,
              on_record: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run a batch; returns the summary (also written to ``NAME.summary.json``).

    ``on_record(record)`` is called after each series is journaled (tests use it to interrupt)."""
    from inference.registry import get_spec

    sources = [parse_source(s) for s in config.sources]
    spec = get_spec(config.model)
    progress = progress or Progress("quiet")
    journal = Journal(config.out, spec.name)
    done = journal.done(spec.sha256)
    found = Discovered()
    t0 = time.perf_counter()

    limits = (AHEAD, AHEAD_FILES)
    if config.engine == "ray":   # the next chunk is found while the current one runs
        from viewer.modules.batch.engine_ray import RAY_CHUNK, RAY_CHUNK_FILES

        limits = (max(AHEAD, int(config.extra.get("ray_chunk", RAY_CHUNK))),
                  max(AHEAD_FILES, RAY_CHUNK_FILES))
    ahead = DiscoverAhead(iter_series(sources, found), *limits)

    def todo() -> Iterator[SeriesInfo]:
        for info in ahead:
            progress.found_series(found.series)
            if info.uid in done:
                progress.skip()
                continue
            yield info

    processed = 0
    device = ""
    interrupted = False
    try:
        if config.engine == "ray":
            from viewer.modules.batch.engine_ray import run_ray

            records: Iterator[dict[str, Any]] = run_ray(todo(), spec, config)
            device = "Ray actors"
        else:
            records, device = _local_records(todo(), spec, config)
        for record in records:
            journal.append(record)
            processed += 1
            progress.series_done(record)
            if on_record is not None:
                on_record(record)
            if config.max_series is not None and processed >= config.max_series:
                break
        if hasattr(records, "close"):
            records.close()
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        ahead.close()
        journal.close()
        progress.close()
        summary = _finish(journal, spec, config, found, progress, processed, device,
                          time.perf_counter() - t0, interrupted)
    return summary


def _local_records(todo: Iterator[SeriesInfo], spec: Any, config: BatchConfig
                   ) -> tuple[Iterator[dict[str, Any]], str]:
    import os
    from concurrent.futures import ThreadPoolExecutor

    from viewer.modules.batch.engine_local import start_readers

    start_readers()
    import torch

    from inference import describe_device
    from viewer.modules.batch.engine_local import ReadJob, run_local

    options = config.options()
    # The readers are the parallelism on a CPU-only machine: the model process takes the cores
    # they leave (at least one), so three busy processes do not fight over two cores.
    torch.set_num_threads(max(1, min(torch.get_num_threads(), (os.cpu_count() or 1) - config.workers)))
    # The model loads while the reader processes start and read the first series.
    loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slicewise-model-load")
    model = loader.submit(SeriesInference, spec.name, options)
    loader.shutdown(wait=False)

    def records() -> Iterator[dict[str, Any]]:
        reads = run_local(todo, ReadJob(spec, options.needs_pixels), workers=config.workers)
        try:
            for work in reads:
                yield model.result()(work)
        finally:
            reads.close()
    return records(), describe_device(options.device)


def _finish(journal: Journal, spec: Any, config: BatchConfig, found: Discovered, progress: Progress,
            processed: int, device: str, elapsed: float, interrupted: bool) -> dict[str, Any]:
    parquet, csv, agg = write_tables(journal, spec.sha256, tuple(spec.classes))
    slices_run = progress.slices
    summary = {
        "model": spec.name, "model_sha256": spec.sha256, "demo": bool(spec.demo),
        "engine": config.engine, "device": device, "explain": config.explain,
        "interrupted": interrupted, **agg,
        "skipped_files": {"count": len(found.skipped),
                          "files": [{"path": s.path, "reason": s.reason} for s in found.skipped[:1000]]},
        "run": {"series_found": found.series, "series_processed": processed,
                "series_already_done": progress.skipped, "slices_processed": slices_run,
                "elapsed_s": round(elapsed, 3),
                "slices_per_s": round(slices_run / elapsed, 2) if elapsed > 0 else None},
        "files": {"parquet": str(parquet), "csv": str(csv), "journal": str(journal.path)},
    }
    path = Path(config.out) / f"{journal.stem}.summary.json"
    summary["files"]["summary"] = str(path)
    write_json_atomic(path, summary)
    return summary

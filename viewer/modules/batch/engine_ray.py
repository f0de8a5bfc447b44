"""``--engine ray``: the batch pipeline as Ray Data jobs (optional ``[cluster]`` extra).

Series are fed in chunks (``ray_chunk`` series, default 256: the driver never lists the whole
archive); each chunk is a Dataset ``from_items`` (one block, so one read task, per series) ->
``map(read)`` (CPU tasks: read and preprocess, :func:`viewer.modules.batch.work.read_series`)
-> ``map_batches(_Infer)`` (an actor
pool, one loaded model per actor; a GPU per actor when ``num_gpus`` is given) -> rows streamed
back to the driver, which journals each series as it arrives. Heat-map and DICOM files are
written by the actors into the output folder, which must be shared by the nodes on a cluster.

Local use (no ``address``) starts a private Ray instance on loopback only, with ``workers`` CPU
slots for reading plus one per inference actor, no dashboard and a small object store, and stops
it at the end. ``address="auto"`` joins a running cluster (every node needs SliceWise installed).
"""
from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from viewer.io.records import SeriesInfo

OBJECT_STORE_BYTES = 512 * 1024 ** 2


_READER_READY = False   # per Ray worker process: init_worker() ran


class _Read:
    """Ray task body: one row {"info": pickled SeriesInfo} -> {"work": pickled result}."""

    def __init__(self, spec: Any, keep_voxels: bool) -> None:
        self.spec, self.keep_voxels = spec, keep_voxels

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        from viewer.modules.batch.work import SeriesFailure, SeriesMeta, init_worker, read_series

        global _READER_READY
        if not _READER_READY:   # as the local engine's readers: one torch thread, lower priority
            init_worker()
            _READER_READY = True
        info = pickle.loads(row["info"])
        try:
            result = read_series(info, self.spec, self.keep_voxels)
        except Exception as exc:  # noqa: BLE001 - read_series records its own; this is the net
            result = SeriesFailure(SeriesMeta.of(info), f"worker error: {type(exc).__name__}: {exc}")
        return {"work": pickle.dumps(result)}


class _Infer:
    """Ray actor: one model, series records out as JSON strings."""

    def __init__(self, model: str, options: Any) -> None:
        import torch

        from viewer.modules.batch.infer import SeriesInference

        torch.set_num_threads(1)
        self.infer = SeriesInference(model, options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = [json.dumps(self.infer(pickle.loads(w)), default=str) for w in batch["work"]]
        return {"record": np.array(out, dtype=object)}


def _chunks(items: Iterable[SeriesInfo], size: int) -> Iterator[list[SeriesInfo]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _init(config: Any) -> bool:
    """Start (or join) Ray; True when this call started a private local instance."""
    import ray

    if ray.is_initialized():
        return False
    if config.ray_address:
        ray.init(address=config.ray_address, include_dashboard=False, log_to_driver=False)
        return False
    import viewer

    root = str(Path(viewer.__file__).resolve().parents[1])
    # As the local engine: ``workers`` reader slots plus one per model actor, so the actors do
    # not take the readers' CPUs (on 2 cores with 2 readers, one CPU slot would read at a time).
    slots = max(1, config.workers) + int(config.extra.get("ray_actors", 1))
    ray.init(num_cpus=slots, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1", object_store_memory=OBJECT_STORE_BYTES,
             runtime_env={"env_vars": {"PYTHONPATH": root}}, configure_logging=False)
    return True


def run_ray(todo: Iterable[SeriesInfo], spec: Any, config: Any) -> Iterator[dict[str, Any]]:
    """Records of every series of ``todo`` (see the module docstring), in completion order."""
    import ray
    import ray.data

    options = config.options()
    started = _init(config)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_progress = False
    actors = int(config.extra.get("ray_actors", 1))
    num_gpus = float(config.extra.get("num_gpus", 0))
    try:
        for chunk in _chunks(todo, int(config.extra.get("ray_chunk", 256))):
            # One block per series: Ray Data would otherwise pack a chunk's few kilobytes of
            # series descriptions into one block, i.e. one read task for the whole chunk.
            ds = ray.data.from_items([{"info": pickle.dumps(info)} for info in chunk],
                                     override_num_blocks=len(chunk))
            # On the private local instance the readers are ``workers`` tasks at once, as in the
            # local engine: left to itself Ray Data reserves part of the CPU slots for the actor
            # and ran about one read at a time (CPU 55 % busy; make bench, steady 477-491 ->
            # 536-624 slices/s). On a cluster it scales the reads with the cluster.
            ds = ds.map(_Read(spec, options.needs_pixels), num_cpus=1,
                        concurrency=max(1, config.workers) if started else None)
            ds = ds.map_batches(_Infer, fn_constructor_args=(spec.name, options), batch_size=1,
                                batch_format="numpy", concurrency=actors, num_cpus=1,
                                num_gpus=num_gpus)
            for row in ds.iter_rows():
                yield json.loads(row["record"])
    finally:
        if started:
            ray.shutdown()

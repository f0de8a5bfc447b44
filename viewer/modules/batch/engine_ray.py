"""``--engine ray``: the batch pipeline as Ray Data jobs (optional ``[cluster]`` extra).

Series are fed in chunks (FIRST_CHUNK series, growing fourfold up to ``ray_chunk``, default RAY_CHUNK:
the driver never lists the whole archive); each chunk is a Dataset ``from_items`` (blocks of up
to SERIES_PER_BLOCK series: Ray's cost is per task) -> ``map(_Read)`` (an actor pool of readers,
one CPU each: read and preprocess, :func:`viewer.modules.batch.work.read_series`; the model
inputs travel as a tensor column, the rest pickled) -> ``map_batches(_Infer)`` (an actor pool,
one loaded model per actor; a GPU per actor when ``num_gpus`` is given) -> rows streamed back to
the driver, which journals each series as it arrives. A reader or model actor that dies is
restarted and its series tried again; a series that kills one every time is recorded as failed
and the rest goes on. Heat-map and DICOM files are written by the actors into the output
folder, which must be shared by the nodes on a cluster.

Ray's own messages (its loggers, Ray Data's, and what the raylet reports: a dead worker's
details) go to ``OUT/NAME.ray.log``, not to the terminal: stdout carries ``--json-progress``
lines, which a raylet message in between would break, and a reader sees the summary's reasons.

Local use (no ``address``) starts a private Ray instance on loopback only, with ``workers`` CPU
slots for reading plus one per inference actor, no dashboard and a small object store, and stops
it at the end. ``address="auto"`` joins a running cluster (every node needs SliceWise installed).
"""
from __future__ import annotations

import json
import logging
import pickle
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from viewer.io.records import SeriesInfo
from viewer.modules.batch.work import SeriesFailure, SeriesMeta, SeriesWork

OBJECT_STORE_BYTES = 512 * 1024 ** 2
_EMPTY = np.zeros((0,), np.float32)


class _Read:
    """Ray actor: read and preprocess, one row {"info": pickled SeriesInfo} -> {"work": pickled
    result}. An actor, not a task: each reader imports the reading stack and torch once, when
    the pool starts (all readers at once, while the model loads), instead of inside the first
    series it is given (about 1.5 s on a fresh Ray worker, with the other readers waiting)."""

    def __init__(self, spec: Any, keep_voxels: bool) -> None:
        import inference.classifier  # noqa: F401 - preprocessing; imported now, not in a series
        from viewer.modules.batch.work import init_worker

        init_worker()   # as the local engine's readers: one torch thread, lower priority
        self.spec, self.keep_voxels = spec, keep_voxels

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        from viewer.modules.batch.work import read_series

        info = pickle.loads(row["info"])
        try:
            result = read_series(info, self.spec, self.keep_voxels)
        except Exception as exc:  # noqa: BLE001 - read_series records its own; this is the net
            result = SeriesFailure(SeriesMeta.of(info), f"worker error: {type(exc).__name__}: {exc}")
        return _to_row(result, int(self.spec.input["size"]))


def _to_row(result: SeriesWork | SeriesFailure, size: int) -> dict[str, Any]:
    """A read result as a Ray Data row: the model inputs as a tensor column (Arrow passes its
    buffer through the object store as it is; pickled inside the record it was copied three
    more times: measured 36 -> 28 ms of overhead a series), the rest pickled."""
    if isinstance(result, SeriesWork):
        return {"work": pickle.dumps(replace(result, tensors=_EMPTY)), "tensors": result.tensors}
    return {"work": pickle.dumps(result), "tensors": np.zeros((0, 1, size, size), np.float32)}


def _from_row(work: bytes, tensors: np.ndarray) -> SeriesWork | SeriesFailure:
    result = pickle.loads(work)
    if isinstance(result, SeriesWork):
        # Zero-copy views of the object store are read-only; torch wants to own writable memory.
        t = np.asarray(tensors, np.float32)
        result = replace(result, tensors=t if t.flags.writeable else t.copy())
    return result


class _Infer:
    """Ray actor: one model, series records out as JSON strings."""

    def __init__(self, model: str, options: Any) -> None:
        import torch

        from viewer.modules.batch.infer import SeriesInference

        torch.set_num_threads(1)
        self.infer = SeriesInference(model, options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = [json.dumps(self.infer(_from_row(w, t)), default=str)
               for w, t in zip(batch["work"], batch["tensors"], strict=True)]
        return {"record": np.array(out, dtype=object)}


#: At most this many series are read by one Ray task (one block): Ray's cost per task (about
#: 11 ms of scheduling and transfer on 2 cores, measured) is paid per block, not per series.
SERIES_PER_BLOCK = 4


def _blocks(n: int, readers: int) -> int:
    """How many blocks ``n`` series are cut into: up to SERIES_PER_BLOCK series each, but at
    least four blocks per reader while there are series for them (left to itself Ray Data
    packs a chunk's few kilobytes of series descriptions into one block: one read task)."""
    per_block = max(1, min(SERIES_PER_BLOCK, n // (4 * max(1, readers))))
    return max(1, -(-n // per_block))


#: Chunks (one Ray Data job each) start at FIRST_CHUNK series, so the first results come
#: soon, and grow fourfold up to RAY_CHUNK series or RAY_CHUNK_FILES files (the driver holds a
#: chunk's file names): every job starts its actor pools again (readers import torch, the
#: model loads: about 6 s on 2 cores, measured with 10-series chunks), which a 4,096-series
#: chunk (about 245,000 slices) pays once.
FIRST_CHUNK, RAY_CHUNK, RAY_CHUNK_FILES = 64, 4096, 250_000


def _chunks(items: Iterable[SeriesInfo], largest: int = RAY_CHUNK, first: int = FIRST_CHUNK,
            max_files: int = RAY_CHUNK_FILES) -> Iterator[list[SeriesInfo]]:
    size = max(1, min(first, largest))
    chunk: list[SeriesInfo] = []
    files = 0
    for info in items:
        chunk.append(info)
        files += len(info.files)
        if len(chunk) >= size or files >= max_files:
            yield chunk
            chunk, files = [], 0
            size = min(4 * size, max(1, largest))
    if chunk:
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


#: How often a reader or model actor is restarted and its series tried again before the series
#: is recorded as killing it (the local engine tries a series three times too).
READ_RETRIES = 2
#: The reason of a series whose reader or model actor died on every try. Ray does not say which
#: of the two stages' actors it was.
RAY_DIED = "a Ray worker died while reading or classifying this series (crash or out of memory)"


def _worker_died(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says a Ray worker or actor process died."""
    from ray.exceptions import ActorDiedError, RayActorError, WorkerCrashedError

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, (ActorDiedError, RayActorError, WorkerCrashedError)):
            return True
        e = e.__cause__ or e.__context__
    return False


@contextmanager
def _ray_messages_to(path: Path) -> Iterator[None]:
    """Ray's console output into the file ``path`` while the block runs: handlers of the
    ``ray`` and ``ray.data`` loggers that write to the console are swapped for the file, and so
    is the driver's printer of raylet messages (``ray._private.worker.print_to_stdstream``,
    which writes them to stdout; if a Ray version renames it, its messages stay on the
    console, nothing breaks)."""
    import importlib

    import ray.data  # noqa: F401 - sets up its loggers on import: before they are swapped

    try:
        ray_worker: Any = importlib.import_module("ray._private.worker")
    except ImportError:   # a Ray that moved it: its raylet messages stay on the console
        ray_worker = None

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = []
    for name in ("ray", "ray.data"):
        log = logging.getLogger(name)
        saved.append((log, log.handlers[:], log.propagate))
        for h in log.handlers[:]:
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                log.removeHandler(h)
        log.addHandler(handler)
        log.propagate = False

    def to_file(data: dict[str, Any], ignore_prefix: bool = False) -> None:
        for line in data.get("lines", ()):
            handler.handle(logging.makeLogRecord(
                {"name": f"ray.{data.get('pid', 'worker')}", "levelno": logging.WARNING,
                 "levelname": "WARNING", "msg": str(line)}))

    printer = getattr(ray_worker, "print_to_stdstream", None) if ray_worker else None
    if printer is not None:
        ray_worker.print_to_stdstream = to_file
    try:
        yield
    finally:
        if printer is not None:
            ray_worker.print_to_stdstream = printer
        for log, handlers, propagate in saved:
            log.removeHandler(handler)
            for h in handlers:
                if h not in log.handlers:
                    log.addHandler(h)
            log.propagate = propagate
        handler.close()


def run_ray(todo: Iterable[SeriesInfo], spec: Any, config: Any,
            reader: type = _Read, infer: type = _Infer) -> Iterator[dict[str, Any]]:
    """Records of every series of ``todo`` (see the module docstring), in completion order.
    ``reader``, ``infer``: the actor classes (tests pass ones that crash on a chosen series)."""
    with _ray_messages_to(Path(config.out) / f"{spec.name}.ray.log"):
        yield from _run(todo, spec, config, reader, infer)


def _run(todo: Iterable[SeriesInfo], spec: Any, config: Any, reader: type,
         infer: type) -> Iterator[dict[str, Any]]:
    import ray
    import ray.data

    options = config.options()
    started = _init(config)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_progress = False
    actors = int(config.extra.get("ray_actors", 1))
    num_gpus = float(config.extra.get("num_gpus", 0))
    # Reader actors: on the private local instance ``workers`` of them, as the local engine
    # (left to itself Ray Data kept about one read running: CPU 55 % busy); on a cluster a pool
    # that grows with the work up to the cluster's CPUs less the model actors'.
    if started:
        pool = max(1, config.workers)
        readers = ray.data.ActorPoolStrategy(size=pool)
    else:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        pool = max(1, cpus - actors)
        readers = ray.data.ActorPoolStrategy(min_size=1, max_size=pool)

    def job(items: list[SeriesInfo]) -> Iterator[dict[str, Any]]:
        ds = ray.data.from_items([{"info": pickle.dumps(info)} for info in items],
                                 override_num_blocks=_blocks(len(items), pool))
        # A reader or model actor that dies (a decoder's segfault, out of memory) is restarted
        # and its series tried again READ_RETRIES times (Ray Data's default: for ever); then the
        # job fails and ``records`` finds the series. Ray 2.60 has no named parameter for the retries.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ds = ds.map(reader, fn_constructor_args=(spec, options.needs_pixels), num_cpus=1,
                        compute=readers, max_task_retries=READ_RETRIES)
            ds = ds.map_batches(infer, fn_constructor_args=(spec.name, options), batch_size=1,
                                batch_format="numpy", num_cpus=1, num_gpus=num_gpus,
                                compute=ray.data.ActorPoolStrategy(size=actors),
                                max_task_retries=READ_RETRIES)
        for row in ds.iter_rows():
            yield json.loads(row["record"])

    def records(items: list[SeriesInfo]) -> Iterator[dict[str, Any]]:
        """``job(items)``; when a reader or model actor died for good, the series without a
        record are run again in halves until the one that kills it is alone: it is recorded as
        failed (as in the local engine) and the others go on."""
        left = {info.uid: info for info in items}
        try:
            for record in job(items):
                left.pop(record.get("uid"), None)
                yield record
            return
        except Exception as exc:  # noqa: BLE001 - only a dead actor is handled here
            if not _worker_died(exc):
                raise
        rest = list(left.values())
        if len(rest) == 1:
            from viewer.modules.batch.infer import failure_record

            yield failure_record(spec, SeriesFailure(SeriesMeta.of(rest[0]), RAY_DIED,
                                                     READ_RETRIES + 1))
            return
        half = len(rest) // 2
        for part in (rest[:half], rest[half:]):
            if part:
                yield from records(part)

    try:
        for chunk in _chunks(todo, int(config.extra.get("ray_chunk", RAY_CHUNK))):
            yield from records(chunk)
    finally:
        if started:
            ray.shutdown()

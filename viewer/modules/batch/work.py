"""The read-and-preprocess stage of a batch, run in worker processes (or Ray CPU tasks).

``read_series(info, spec, keep_voxels)`` loads one series, reads each slice's SOP Instance UID,
runs the model's input checks and turns every readable slice into its model tensor with
``inference.classifier.prepare_input``, the preparation ``Classifier.predict`` uses. It
returns a picklable :class:`SeriesWork`, or a :class:`SeriesFailure` with a reason: it never
raises, so one bad series never stops the batch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from viewer.io.acquisition import MRAcquisition
from viewer.io.records import SeriesInfo, Volume

#: Slice status values in the output table.
OK, UNREADABLE, REJECTED = "ok", "unreadable", "rejected"
#: The reason of a series whose reader process died on every try (both engines).
DIED = "a worker process died while reading this series (crash or out of memory)"


@dataclass(frozen=True)
class SeriesMeta:
    """What the tables say about a series, whatever happened to it."""

    uid: str
    series_instance_uid: str
    study_instance_uid: str
    description: str
    modality: str
    orientation: str
    n_files: int
    acquisition: MRAcquisition | None = None   # MR: the weighting calls are checked against

    @classmethod
    def of(cls, info: SeriesInfo) -> SeriesMeta:
        return cls(info.uid, info.series_instance_uid, info.study_instance_uid, info.description,
                   info.modality, info.orientation, len(info.files), info.acquisition)


@dataclass(frozen=True)
class SeriesFailure:
    """A series that could not be read at all, and why (``attempt``: 1 for the first try)."""

    meta: SeriesMeta
    reason: str
    attempt: int = 1


@dataclass(frozen=True)
class SeriesWork:
    """A read and preprocessed series.

    ``status``/``detail`` per slice (z order): ok, unreadable (file could not be decoded) or
    rejected (the model's input check refused it; ``detail`` says why). ``tensors``: float32
    ``(n_ok, 1, size, size)`` model inputs of the ok slices in order; ``warnings`` and
    ``domains`` (reasons, notes) per ok slice. ``volume``: the loaded series when the inference
    side needs pixels (maps, DICOM and NIfTI results), else None. Seconds in ``read_s`` and
    ``preprocess_s``.
    """

    meta: SeriesMeta
    sop_uids: tuple[str, ...]
    files: tuple[str, ...]
    status: tuple[str, ...]
    detail: tuple[str, ...]
    tensors: np.ndarray
    warnings: tuple[tuple[str, ...], ...]
    domains: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    spacing: tuple[float, float]
    series_warnings: tuple[str, ...] = ()
    read_s: float = 0.0
    preprocess_s: float = 0.0
    volume: Volume | None = None
    attempt: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok_indices(self) -> list[int]:
        return [k for k, s in enumerate(self.status) if s == OK]


def reason_of(exc: BaseException) -> str:
    """An exception in words: its ``reason`` when it has one (SliceWise's errors), else its
    type and message."""
    return getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"


def init_worker() -> None:
    """Worker process start: one torch thread per worker (the workers are the parallelism), and
    a lower scheduling priority than the model process: the one model process is the pipeline's
    single lane, so when cores are short it should run first and the readers fill the rest."""
    import os

    import torch

    torch.set_num_threads(1)
    if hasattr(os, "nice"):
        try:
            os.nice(5)
        except OSError:
            pass


def _sop_uids(files: tuple[str, ...]) -> tuple[str, ...]:
    import pydicom

    from viewer.io.scan import instance_uids

    uids = instance_uids(sorted(set(files)))
    for f in files:
        if f not in uids:
            try:
                ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
                uids[f] = str(getattr(ds, "SOPInstanceUID", ""))
            except Exception:  # noqa: BLE001 - an unreadable file already has its slice status
                uids[f] = ""
    return tuple(uids[f] for f in files)


def _load(info: SeriesInfo, display: bool) -> tuple[Volume, np.ndarray]:
    from viewer.io import iter_load

    last = None
    for event in iter_load(info, chunk=64, display=display):
        last = event
    if last is None or not last.complete:
        raise RuntimeError("loading stopped before the last image")
    return last.volume, np.asarray(last.loaded, bool)


def read_series(info: SeriesInfo, spec: Any, keep_voxels: bool = False,
                attempt: int = 1) -> SeriesWork | SeriesFailure:
    """Read and preprocess ``info`` for the model ``spec`` (inference.registry.ModelSpec)."""
    meta = SeriesMeta.of(info)
    t0 = time.perf_counter()
    try:
        volume, loaded = _load(info, display=keep_voxels)   # maps and result images need a window
    except Exception as exc:  # noqa: BLE001 - recorded with its reason; the batch goes on
        return SeriesFailure(meta, f"could not read the series: {reason_of(exc)}", attempt)
    if volume.is_rgb:
        return SeriesFailure(meta, "colour (RGB) images cannot be classified", attempt)
    files = tuple(volume.slice_files) or tuple(info.files)
    sops = _sop_uids(files) if len(files) == volume.n_slices else ("",) * volume.n_slices
    t1 = time.perf_counter()
    from inference.classifier import prepare_input
    from inference.errors import InputError

    spacing = (float(volume.spacing[1]), float(volume.spacing[2]))
    status, detail, tensors, warns, domains = [], [], [], [], []
    for k in range(volume.n_slices):
        if not loaded[k]:
            status.append(UNREADABLE)
            detail.append("the image could not be decoded")
            continue
        image = volume.voxels[k]
        try:
            x, _, w, (reasons, notes) = prepare_input(spec, image, spacing, volume.modality,
                                                      volume.orientation, None)
        except InputError as exc:
            status.append(REJECTED)
            detail.append(str(exc))
            continue
        tensors.append(x.numpy())
        warns.append(tuple(w))
        domains.append((tuple(reasons), tuple(notes)))
        status.append(OK)
        detail.append("")
    size = int(spec.input["size"])
    stack = (np.stack(tensors).astype(np.float32) if tensors
             else np.zeros((0, 1, size, size), np.float32))
    return SeriesWork(meta, sops, files if len(files) == volume.n_slices else ("",) * volume.n_slices,
                      tuple(status), tuple(detail), stack, tuple(warns), tuple(domains), spacing,
                      tuple(volume.warnings), t1 - t0, time.perf_counter() - t1,
                      volume if keep_voxels else None, attempt)

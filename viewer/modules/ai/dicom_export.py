"""AI results of one series -> the DICOM result objects (Qt-free; shared by the GUI's export
action and ``slicewise classify --dicom-out``).

Turns the classifier's records (:class:`inference.results.Prediction` / ``Explanation``) into
the plain inputs of :mod:`viewer.io.results` and writes, into one folder:

- ``SR_<model>.dcm``: TID 1500 report, a finding per classified slice and one for the series;
- per explanation method and class: ``PM_<method>_<class>.dcm`` (Parametric Map of the raw
  maps), ``SEG_<method>_<class>.dcm`` (FRACTIONAL SEG: the map normalised by the overlay rule
  on each slice, by its positive maximum or the model's reference when larger, 0 below the
  overlay threshold) and ``SC_<method>_<class>/`` (Secondary
  Captures composed with the one overlay rule of :mod:`viewer.core.overlay` and a colour bar).

The series finding: each class's probability is the mean over the classified slices and the
predicted class the most probable of those means; it is applicable when every slice is, with
the slices' reasons de-duplicated. ``send`` (e.g. STOW-RS or C-STORE of the PACS module) gets
every written file once all are written.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from viewer.core.overlay import OverlayStyle, compose, display_range, lookup_table, normalise_map
from viewer.io.records import Volume
from viewer.io.results.errors import DicomResultError

if TYPE_CHECKING:  # highdicom (the optional [pacs] extra) is imported only when writing
    from viewer.io.results.common import AlgorithmInfo
    from viewer.io.results.report import ClassificationFinding

Send = Callable[[Sequence[Path]], None]


@dataclass(frozen=True)
class SliceResult:
    """What the classifier said about slice ``index`` (0-based) of the series: its
    ``prediction`` and, when explained, the ``explanation`` (map float32 (y, x), raw range)."""

    index: int
    prediction: Any
    explanation: Any | None = None


def algorithm_from_spec(spec: Any) -> AlgorithmInfo:
    """AlgorithmInfo of a model manifest (``inference.registry.ModelSpec``)."""
    from viewer.io.results.common import AlgorithmInfo

    return AlgorithmInfo(name=spec.name, version=str(spec.version), sha256=spec.sha256,
                         demo=bool(spec.demo))


def _stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _finding(pred: Any, source: Any = None, frame: int | None = None,
             label: str = "") -> ClassificationFinding:
    from viewer.io.results.report import ClassificationFinding

    a = pred.applicability
    return ClassificationFinding(probabilities=dict(pred.probabilities), predicted=pred.predicted,
                                 applicable=bool(pred.applicable),
                                 reasons=tuple(a.reasons) if a is not None else (),
                                 source=source, frame=frame, label=label)


def series_finding(preds: Sequence[Any]) -> ClassificationFinding:
    """The series finding of per-slice predictions (see the module docstring)."""
    from viewer.io.results.report import ClassificationFinding

    classes = list(preds[0].probabilities)
    means = {c: float(np.mean([p.probabilities.get(c, np.nan) for p in preds])) for c in classes}
    reasons = list(dict.fromkeys(r for p in preds if p.applicability is not None
                                 for r in p.applicability.reasons))
    return ClassificationFinding(probabilities=means, predicted=max(means, key=means.get),
                                 applicable=all(p.applicable for p in preds), reasons=tuple(reasons),
                                 label=f"series (mean of {len(preds)} slices)")


def write_dicom_results(out: str | Path, volume: Volume, results: Sequence[SliceResult],
                        algorithm: AlgorithmInfo, style: OverlayStyle | None = None,
                        send: Send | None = None) -> list[Path]:
    """Writes the result objects of ``results`` (slices of ``volume``) into ``out``; returns
    the paths (SC images one by one). Raises DicomResultError with a reason in words (also
    when highdicom, the optional [pacs] extra, is not installed)."""
    from viewer.io.results.common import read_sources

    if not results:
        raise DicomResultError(str(out), "no classified slice to export")
    if not volume.slice_files or len(volume.slice_files) != volume.n_slices:
        raise DicomResultError(str(out), "this series has no source file per slice (not read from "
                               "DICOM files), so DICOM results cannot reference it")
    style = style or OverlayStyle()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sources = read_sources(volume.slice_files)
    multiframe = len(sources) != volume.n_slices
    if multiframe:
        # the loader may order frames by position, not as stored: frame references could point
        # at the wrong frame, so multi-frame (and mosaic) sources are refused for now
        raise DicomResultError(volume.slice_files[0], "DICOM results of multi-frame or mosaic "
                               "series are not supported yet; export PNG or NIfTI instead")
    try:
        written = _write(out, volume, sorted(results, key=lambda r: r.index), sources, algorithm,
                         style)
    except (ValueError, RuntimeError) as exc:
        # highdicom checks the source headers against each IOD (a Frame of Reference UID, one
        # source per multi-frame image, distinct plane positions): say so, not a traceback
        raise DicomResultError(volume.slice_files[0], "the source images' headers do not allow "
                               f"these result objects ({exc}); export PNG or NIfTI "
                               "instead") from exc
    if send is not None:
        send(written)
    return written


def _write(out: Path, volume: Volume, results: list[SliceResult], sources: list,
           algorithm: AlgorithmInfo, style: OverlayStyle) -> list[Path]:
    from viewer.io.results.parametric_map import parametric_map
    from viewer.io.results.report import measurement_report
    from viewer.io.results.secondary_capture import BurnedSlice, write_secondary_captures
    from viewer.io.results.segmentation import fractional_segmentation

    written: list[Path] = []
    evidence = [sources[r.index] for r in results]
    groups: dict[tuple[str, str], list[SliceResult]] = {}
    for r in results:
        if r.explanation is not None:
            groups.setdefault((r.explanation.method, r.explanation.target), []).append(r)
    for (method, target), members in groups.items():
        src = [sources[m.index] for m in members]
        maps = np.stack([np.asarray(m.explanation.map, np.float32) for m in members])
        stem = f"{_stem(method)}_{_stem(target)}"
        pm = parametric_map(maps, src, algorithm, method, target)
        frac = np.stack([normalise_map(heat, m.explanation.reference)
                         for m, heat in zip(members, maps)])
        frac[frac < style.threshold] = 0.0
        seg = fractional_segmentation(frac, src, algorithm, method, target, style.threshold)
        for prefix, ds in (("PM", pm), ("SEG", seg)):
            path = out / f"{prefix}_{stem}.dcm"
            ds.save_as(path, enforce_file_format=True)
            written.append(path)
            evidence.append(ds)
        window = (volume.window.center, volume.window.width)
        items = []
        for m, heat in zip(members, maps):
            p = m.prediction.probabilities.get(target)
            caption = f"slice {m.index + 1} of {volume.n_slices}" + (
                f" · p({target}) {p:.2f}" if p is not None else "")
            if not m.prediction.applicable:
                caption += " · OUTSIDE THE MODEL'S DOMAIN"
            items.append(BurnedSlice(
                rgb=compose(volume.voxels[m.index], window, heat, style, invert=volume.invert_display,
                            reference=m.explanation.reference),
                source=sources[m.index],
                value_range=display_range(heat, style.threshold, m.explanation.reference),
                caption=caption))
        written += write_secondary_captures(out / f"SC_{stem}", items, lookup_table(style.colormap),
                                            algorithm, method, target)
    findings = [_finding(r.prediction, sources[r.index], label=f"slice {r.index + 1}")
                for r in results]
    methods = sorted({m for m, _ in groups})
    sr = measurement_report(findings, series_finding([r.prediction for r in results]), algorithm,
                            evidence, method=", ".join(methods))
    path = out / f"SR_{_stem(algorithm.name)}.dcm"
    sr.save_as(path, enforce_file_format=True)
    written.insert(0, path)
    return written

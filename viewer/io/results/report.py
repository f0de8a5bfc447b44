"""Classification -> DICOM Comprehensive 3D SR holding a TID 1500 Measurement Report.

One measurement group (TID 1501) per classified slice, referencing that slice's image, and one
for the whole series (no image reference, tracking identifier "series"). Each group holds the
probability of every class (unitless 0..1), the predicted class and whether the input was
inside the model's domain ("applicable", SCT Yes / No) as qualitative evaluations, each reason
it was not as a TEXT item, and the algorithm (name, version; parameters: weights sha256, demo
flag, explanation method). The observer is the SliceWise device. Concepts without a standard
code use the local scheme 99SLW (see :mod:`viewer.io.results.common`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from viewer.io.results.common import (
    NO_UNITS,
    NOT_FOR_DIAGNOSIS,
    AlgorithmInfo,
    DicomResultError,
    class_code,
    declare_scheme,
    local_code,
    method_name,
)

SR_SERIES_NUMBER = 9003
FINDING_TYPE = local_code("AI-CLASSIF", "AI image classification")
PREDICTED = local_code("PREDICTED", "Predicted class")
APPLICABLE = local_code("APPLICABLE", "Input inside the model's domain")
REASON = local_code("NOT-APPLIC-WHY", "Reason the model does not apply")
NOTE = local_code("NOTE", "Note")


def probability_code(name: str) -> hd.sr.CodedConcept:
    """The measurement concept "Probability of <class>"."""
    return local_code(f"P-{name}", f"Probability of {name}")


@dataclass(frozen=True)
class ClassificationFinding:
    """One classification: ``probabilities`` {class: p 0..1} in the model's class order,
    ``predicted`` class, ``applicable`` and its ``reasons``; ``source`` the slice's image
    (None: the series as a whole) and ``frame`` its 1-based frame in a multi-frame image."""

    probabilities: Mapping[str, float]
    predicted: str
    applicable: bool = True
    reasons: tuple[str, ...] = ()
    source: Dataset | None = None
    frame: int | None = None
    label: str = ""


def _group(finding: ClassificationFinding, algorithm_id: hd.sr.AlgorithmIdentification,
           label: str) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    measurements = [hd.sr.Measurement(name=probability_code(c), value=float(p), unit=NO_UNITS)
                    for c, p in finding.probabilities.items()]
    evaluations = [
        hd.sr.QualitativeEvaluation(PREDICTED, class_code(finding.predicted)),
        hd.sr.QualitativeEvaluation(APPLICABLE, codes.SCT.Yes if finding.applicable else codes.SCT.No),
    ]
    sources = None
    if finding.source is not None:
        frames = [finding.frame] if finding.frame else None
        sources = [hd.sr.SourceImageForMeasurementGroup.from_source_image(
            finding.source, referenced_frame_numbers=frames)]
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=label[:64]),
        finding_type=FINDING_TYPE, algorithm_id=algorithm_id, measurements=measurements,
        qualitative_evaluations=evaluations, source_images=sources)
    container = group[0]
    for reason in finding.reasons:
        container.ContentSequence.append(hd.sr.TextContentItem(
            name=REASON, value=reason[:1024],
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    return group


def measurement_report(slices: Sequence[ClassificationFinding], series: ClassificationFinding | None,
                       algorithm: AlgorithmInfo, evidence: Sequence[Dataset], *,
                       method: str = "", series_uid: str | None = None,
                       series_number: int = SR_SERIES_NUMBER, instance_number: int = 1) -> Dataset:
    """A Comprehensive 3D SR (TID 1500) of per-slice ``slices`` and the ``series`` finding.

    ``evidence``: every dataset the report refers to or was made with (the source images, and
    the Parametric Maps / Segmentations written beside it), all of one study. ``method``: the
    explanation method of the maps made with it ("" when none).
    """
    if not slices and series is None:
        raise DicomResultError("", "nothing to report: no slice and no series finding")
    if not evidence:
        raise DicomResultError("", "a report needs its source images as evidence")
    params = [f"{k}: {v}" for k, v in algorithm.parameters(
        **{"explanation method": method_name(method) if method else ""}).items()]
    algorithm_id = hd.sr.AlgorithmIdentification(name=algorithm.name, version=algorithm.version,
                                                 parameters=params)
    groups = [_group(f, algorithm_id, f.label or f"slice {i + 1}") for i, f in enumerate(slices)]
    if series is not None:
        groups.append(_group(series, algorithm_id, series.label or "series"))
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name=f"SliceWise {algorithm.name}"[:64], manufacturer_name="SliceWise",
            model_name=f"{algorithm.name} {algorithm.version}"[:64]))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.ImagingProcedure, imaging_measurements=groups)
    sr = hd.sr.Comprehensive3DSR(
        evidence=list(evidence), content=report[0], series_instance_uid=series_uid or hd.UID(),
        series_number=series_number, sop_instance_uid=hd.UID(), instance_number=instance_number,
        manufacturer="SliceWise", is_complete=True, is_final=False, is_verified=False)
    sr.SeriesDescription = (f"AI classification ({algorithm.name}"
                            + (", demo)" if algorithm.demo else ")"))[:64]
    if algorithm.demo:
        sr.ContentSequence.append(hd.sr.TextContentItem(
            name=NOTE, value=NOT_FOR_DIAGNOSIS,
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    declare_scheme(sr)
    return sr


def write_measurement_report(path: str | os.PathLike[str], slices: Sequence[ClassificationFinding],
                             series: ClassificationFinding | None, algorithm: AlgorithmInfo,
                             evidence: Sequence[Dataset], **kwargs) -> Path:
    """Writes :func:`measurement_report` to ``path`` and returns it."""
    sr = measurement_report(slices, series, algorithm, evidence, **kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sr.save_as(path, enforce_file_format=True)
    return path

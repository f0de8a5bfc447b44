"""DICOM result objects: each passes dciodvfy without errors, reads back with pydicom and
highdicom, references its source slices, and carries the values it was given.

Oracles: pydicom's decode of the written file and of the source files (UIDs, positions);
highdicom's readers (pmread, segread, srread); dciodvfy (dicom3tools) for the IODs.
"""
from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from tests.io.results.support import assert_valid, maps_for, source_series
from viewer.io.results.common import SCHEME, AlgorithmInfo, DicomResultError, read_sources
from viewer.io.results.parametric_map import write_parametric_map
from viewer.io.results.report import ClassificationFinding, write_measurement_report
from viewer.io.results.secondary_capture import BurnedSlice, write_secondary_captures
from viewer.io.results.segmentation import write_fractional_segmentation

SHA = "0123456789abcdef" * 4
DEMO = AlgorithmInfo("tumour", "1.2", SHA, demo=True)
REAL = AlgorithmInfo("tumour", "1.2", SHA, demo=False)
EXPLAINED = [1, 2, 4]  # slices with a map (0-based), not all of them


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> list[Path]:
    return source_series(tmp_path_factory.mktemp("src"))


def _sop(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def _frame_sources(ds) -> list[str]:
    return [fg.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
            for fg in ds.PerFrameFunctionalGroupsSequence]


def _by_source(ds, series: list[Path]) -> list[int]:
    """The source slice (0-based index in ``series``) of each frame, through its reference
    (highdicom may store frames in another order than given)."""
    index = {_sop(f): k for k, f in enumerate(series)}
    return [index[uid] for uid in _frame_sources(ds)]


def test_parametric_map_valid_float_values_and_frame_references(series, tmp_path) -> None:
    maps = maps_for(len(series), 24, 32)
    files = [series[k] for k in EXPLAINED]
    path = write_parametric_map(tmp_path / "pm.dcm", maps[EXPLAINED], read_sources(files), DEMO,
                                "gradcam", "tumour")
    assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.30"
    assert "FloatPixelData" in ds and ds.BitsAllocated == 32
    order = _by_source(ds, series)
    assert sorted(order) == EXPLAINED
    np.testing.assert_allclose(ds.pixel_array, maps[order], rtol=0, atol=1e-6)
    for fg, k in zip(ds.PerFrameFunctionalGroupsSequence, order):
        src = pydicom.dcmread(series[k], stop_before_pixels=True)
        np.testing.assert_allclose([float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient],
                                   [float(v) for v in src.ImagePositionPatient], atol=1e-4)
        assert "NOT FOR DIAGNOSIS" in fg.DerivationImageSequence[0].DerivationDescription
    rwvm = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    concept = rwvm.QuantityDefinitionSequence[0].ConceptCodeSequence[0]
    assert (concept.CodeValue, concept.CodingSchemeDesignator) == ("CAM", SCHEME)
    assert concept.CodeMeaning == "Class activation"
    assert float(rwvm.RealWorldValueSlope) == 1.0 and float(rwvm.RealWorldValueIntercept) == 0.0
    assert "tumour 1.2" in ds.SoftwareVersions and ds.DeviceSerialNumber == SHA
    assert "tumour" in ds.ManufacturerModelName and "demo" in ds.ContentDescription
    assert ds.StudyInstanceUID == pydicom.dcmread(files[0]).StudyInstanceUID
    assert any(i.CodingSchemeDesignator == SCHEME for i in ds.CodingSchemeIdentificationSequence)
    pm = hd.pm.ParametricMap.from_dataset(pydicom.dcmread(path))  # highdicom reads it back
    np.testing.assert_allclose(pm.pixel_array, maps[order], atol=1e-6)


@pytest.mark.parametrize("method", ["gradcam", "hirescam", "occlusion"])
def test_content_labels_of_every_shipped_class_are_valid_code_strings(method: str) -> None:
    """"GRADCAM_T1_POST_" (from "T1 post-contrast" cut at 16) once made highdicom refuse every
    T1 post-contrast map; each label is now a valid CS as highdicom checks it."""
    import json
    import re

    from viewer.io.results.parametric_map import content_label

    models = Path(__file__).resolve().parents[3] / "resources" / "models"
    classes = {c for m in models.glob("*.json") if "classes" in (d := json.loads(m.read_text()))
               for c in d["classes"]}
    assert "T1 post-contrast" in classes
    for target in sorted(classes):
        label = content_label(method, target)
        assert re.fullmatch(r"[A-Z][A-Z0-9_]{0,14}[A-Z0-9]|[A-Z]", label), (target, label)


def test_parametric_map_of_a_long_class_name(series, tmp_path) -> None:
    maps = maps_for(len(series), 24, 32)
    path = write_parametric_map(tmp_path / "pm.dcm", maps, read_sources(series), DEMO, "gradcam",
                                "T1 post-contrast")
    assert_valid(path)
    assert pydicom.dcmread(path).ContentLabel == "GRADCAM_T1_POST"


def test_fractional_segmentation_valid_probabilities(series, tmp_path) -> None:
    maps = maps_for(len(series), 24, 32)
    frac = np.clip(maps / maps.max(axis=(1, 2), keepdims=True), 0, 1)
    frac[frac < 0.3] = 0
    frac[2] = 0.0                                             # a slice with nothing above threshold
    files = [series[k] for k in EXPLAINED]
    path = write_fractional_segmentation(tmp_path / "seg.dcm", frac[EXPLAINED], read_sources(files), REAL,
                                         "occlusion", "tumour", 0.3)
    assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.SegmentationType == "FRACTIONAL" and ds.SegmentationFractionalType == "PROBABILITY"
    assert int(ds.NumberOfFrames) == 3                        # the empty slice keeps its frame
    order = _by_source(ds, series)
    assert sorted(order) == EXPLAINED
    np.testing.assert_allclose(ds.pixel_array / float(ds.MaximumFractionalValue), frac[order],
                               atol=0.5 / 255)
    alg = ds.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0]
    assert alg.AlgorithmName == "tumour" and alg.AlgorithmVersion == "1.2"
    assert SHA in alg.AlgorithmParameters and "Occlusion" in alg.AlgorithmParameters
    seg = hd.seg.segread(path)
    assert seg.segmentation_type == hd.seg.SegmentationTypeValues.FRACTIONAL


def _items(ds, name_meaning: str, value_type: str = "") -> list:
    found = []

    def walk(seq):
        for item in seq:
            names = item.get("ConceptNameCodeSequence")
            if (names and names[0].CodeMeaning == name_meaning) or item.get("ValueType") == value_type:
                found.append(item)
            walk(item.get("ContentSequence", []))

    walk(ds.ContentSequence)
    return found


def test_structured_report_per_slice_and_series(series, tmp_path) -> None:
    sources = read_sources(series)
    reasons = ("sagittal slice; this model reads axial slices",)
    slices = [ClassificationFinding({"no tumour": 0.2, "tumour": 0.8}, "tumour", True, (), sources[1],
                                    label="slice 2"),
              ClassificationFinding({"no tumour": 0.9, "tumour": 0.1}, "no tumour", False, reasons,
                                    sources[3], label="slice 4")]
    whole = ClassificationFinding({"no tumour": 0.55, "tumour": 0.45}, "no tumour", False, reasons,
                                  label="series")
    path = write_measurement_report(tmp_path / "sr.dcm", slices, whole, DEMO, sources,
                                    method="gradcam")
    assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"     # Comprehensive 3D SR
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    probs = [float(i.MeasuredValueSequence[0].NumericValue) for i in _items(ds, "Probability of tumour")]
    assert probs == [0.8, 0.1, 0.45]
    applicable = [i.ConceptCodeSequence[0].CodeMeaning
                  for i in _items(ds, "Input inside the model's domain")]
    assert applicable == ["Yes", "No", "No"]
    why = [i.TextValue for i in _items(ds, "Reason the model does not apply")]
    assert why == list(reasons) * 2
    refs = [i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for i in _items(ds, "", "IMAGE")]
    assert refs == [_sop(series[1]), _sop(series[3])]
    params = " ".join(str(i.TextValue) for i in _items(ds, "Algorithm Parameters"))
    assert SHA in params and "Grad-CAM" in params and "demo weights: yes" in params
    assert [i.TextValue for i in _items(ds, "Algorithm Version")][0] == "1.2"
    assert any("NOT FOR DIAGNOSIS" in str(i.get("TextValue", "")) for i in ds.ContentSequence)
    sr = hd.sr.srread(path)
    groups = sr.content.get_image_measurement_groups()
    assert len(groups) == 3
    assert [g.get_measurements()[1].value for g in groups] == [0.8, 0.1, 0.45]


@pytest.mark.parametrize("algorithm", [DEMO, REAL], ids=["demo", "real"])
def test_secondary_capture_burned_in_and_marked(series, tmp_path, algorithm) -> None:
    from viewer.core.overlay import OverlayStyle, compose, lookup_table

    src = pydicom.dcmread(series[2])
    heat = maps_for(len(series), 24, 32)[2]
    rgb = compose(src.pixel_array.astype(np.float32), (300, 400), heat, OverlayStyle())
    (path,) = write_secondary_captures(tmp_path, [BurnedSlice(rgb, read_sources([series[2]])[0],
                                                              (0.7, 3.7), "slice 3")],
                                       lookup_table("inferno"), algorithm, "gradcam", "tumour")
    assert_valid(path)
    ds = pydicom.dcmread(path)
    assert list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    assert ds.BurnedInAnnotation == "YES"
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID
    assert ds.PhotometricInterpretation == "RGB"
    factor = 16                                                    # 24 rows enlarged to >= 384
    np.testing.assert_array_equal(ds.pixel_array[:24 * factor:factor, :32 * factor:factor], rgb)
    assert ds.pixel_array.shape[0] > 24 * factor                  # text band under the image
    marked = "NOT FOR DIAGNOSIS" in ds.ImageComments
    assert marked == algorithm.demo and ("NOT FOR DIAGNOSIS" in ds.DerivationDescription) == marked
    assert SHA in ds.ImageComments
    red_text = np.all(ds.pixel_array[24 * factor:] == [255, 80, 80], axis=-1).any()
    assert bool(red_text) == algorithm.demo                       # the warning burned in


def test_maps_and_sources_must_fit(series) -> None:
    sources = read_sources(series[:2])
    with pytest.raises(DicomResultError, match="source images"):
        from viewer.io.results.parametric_map import parametric_map
        parametric_map(np.zeros((3, 24, 32), np.float32), sources, DEMO, "gradcam", "tumour")
    with pytest.raises(DicomResultError, match="do not match"):
        parametric_map(np.zeros((2, 10, 10), np.float32), sources, DEMO, "gradcam", "tumour")

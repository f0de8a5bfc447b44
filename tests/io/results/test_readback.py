"""Read-back: PM / SEG found beside a series (SliceWise's own and another tool's) become overlay
volumes on the same slices with the same values (float tolerance); dciodvfy passes on real
scanner sources too.

Oracles: the maps given to the writers, the source files' UIDs and positions read by pydicom,
and objects made with highdicom directly (standing in for another tool).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from tests.io.results.support import assert_valid, maps_for, source_series
from viewer.io import discover, load_series
from viewer.io.results.common import AlgorithmInfo, DicomResultError, read_sources
from viewer.io.results.parametric_map import write_parametric_map
from viewer.io.results.readback import find_overlays, overlay_stack, overlays_for, read_overlay, slice_refs
from viewer.io.results.segmentation import write_fractional_segmentation

ALG = AlgorithmInfo("tumour", "1.2", "ab" * 32, demo=True)
EXPLAINED = [0, 2, 3]


def _positions(volume) -> np.ndarray:
    return np.array([volume.index_to_patient(k, 0, 0) for k in range(volume.n_slices)])


@pytest.fixture
def study(tmp_path) -> dict:
    files = source_series(tmp_path / "study" / "mr")
    maps = maps_for(len(files), 24, 32)
    src = read_sources([files[k] for k in EXPLAINED])
    pm = write_parametric_map(tmp_path / "study" / "ai" / "pm.dcm", maps[EXPLAINED], src, ALG,
                              "gradcam", "tumour")
    frac = np.clip(maps / maps.max(axis=(1, 2), keepdims=True), 0, 1)
    seg = write_fractional_segmentation(tmp_path / "study" / "ai" / "seg.dcm", frac[EXPLAINED], src,
                                        ALG, "gradcam", "tumour", 0.0)
    return {"root": tmp_path / "study", "files": files, "maps": maps, "frac": frac, "pm": pm, "seg": seg}


def test_discovery_lists_overlays_and_the_series_they_reference(study) -> None:
    result = discover(study["root"])
    refs = find_overlays(result)
    assert {Path(r.path).name: r.kind for r in refs} == {"pm.dcm": "parametric map",
                                                         "seg.dcm": "segmentation"}
    source_uid = str(pydicom.dcmread(study["files"][0]).SeriesInstanceUID)
    assert all(r.referenced_series == (source_uid,) for r in refs)
    assert len(overlays_for(source_uid, refs)) == 2 and overlays_for("1.2.3", refs) == []


@pytest.mark.parametrize("kind", ["pm", "seg"])
def test_overlay_round_trip_same_values_on_same_slices(study, kind) -> None:
    result = discover(study["root"])
    image = next(s for s in result.series if s.modality == "MR")
    volume = load_series(image)
    ref = next(r for r in find_overlays(result) if Path(r.path).name == f"{kind}.dcm")
    frames = read_overlay(ref)
    stack = overlay_stack(frames, volume.shape, slice_refs(volume.slice_files), _positions(volume))
    want = study["maps"] if kind == "pm" else study["frac"]
    # the loader's slice order is checked against the source files' own positions
    z_of_file = {str(f): float(pydicom.dcmread(f).ImagePositionPatient[2]) for f in study["files"]}
    order = [sorted(z_of_file.values()).index(z_of_file[f]) for f in volume.slice_files]
    for k in range(volume.n_slices):
        source_index = [str(f) for f in study["files"]].index(volume.slice_files[k])
        if source_index in EXPLAINED:
            np.testing.assert_allclose(stack[k], want[source_index], atol=1e-6 if kind == "pm" else 0.5 / 255)
        else:
            assert np.isnan(stack[k]).all()
    assert order == sorted(order) or order == sorted(order, reverse=True)


def test_another_tools_map_without_frame_references_is_placed_by_position(study, tmp_path) -> None:
    """An integer PM with slope/intercept, its frames in reverse order, no Derivation Image
    Sequence: placed by plane position, values through its Real World Value Mapping."""
    files = study["files"]
    src = [pydicom.dcmread(f) for f in files]
    for ds in src:
        for kw in ("AccessionNumber", "ReferringPhysicianName", "StudyID", "PatientBirthDate",
                   "PatientSex"):
            setattr(ds, kw, getattr(ds, kw, ""))
    values = np.arange(5 * 24 * 32, dtype=np.uint16).reshape(5, 24, 32) % 1000
    rwvm = hd.pm.RealWorldValueMapping(lut_label="T1", lut_explanation="T1 map",
                                       unit=hd.sr.CodedConcept("ms", "UCUM", "millisecond"),
                                       value_range=(0, 999), slope=0.5, intercept=-3.0)
    pm = hd.pm.ParametricMap(src, values, hd.UID(), 50, hd.UID(), 1, "Other", "Tool", "1", "1",
                             False, [rwvm], voi_lut_transformations=[
                                 hd.VOILUTTransformation(window_center=500, window_width=1000)])
    for fg in pm.PerFrameFunctionalGroupsSequence:
        del fg.DerivationImageSequence
    path = tmp_path / "other_pm.dcm"
    pm.save_as(path)
    volume = load_series(next(s for s in discover(files).series))
    ref = find_overlays(discover([path]))[0]
    frames = read_overlay(ref)
    assert frames.unit == "millisecond" and all(r is None for r in frames.refs)
    stack = overlay_stack(frames, volume.shape, slice_refs(volume.slice_files), _positions(volume))
    for k in range(volume.n_slices):
        z = volume.index_to_patient(k, 0, 0)[2]
        source_index = next(i for i, ds in enumerate(src)
                            if abs(float(ds.ImagePositionPatient[2]) - z) < 1e-3)
        np.testing.assert_allclose(stack[k], values[source_index] * 0.5 - 3.0)
    with pytest.raises(DicomResultError, match="belongs"):
        overlay_stack(frames, volume.shape, [("x", None)] * volume.n_slices, _positions(volume) + 50)


def test_real_ct_sources_pass_dciodvfy_and_round_trip(tmp_path) -> None:
    folder = shared_path("ct_abdomen")
    result = discover(folder)
    volume = load_series(result.series[0])
    picks = [0, volume.n_slices // 2]
    heat = maps_for(volume.n_slices, 512, 512)[picks]
    src = read_sources([volume.slice_files[k] for k in picks])
    out = tmp_path / "pm.dcm"
    write_parametric_map(out, heat, src, ALG, "occlusion", "lesion")
    warnings = assert_valid(out)
    assert not [w for w in warnings if "Laterality" in w and "Error" in w]
    shutil.copytree(folder, tmp_path / "study" / "ct")
    shutil.copy(out, tmp_path / "study" / "pm.dcm")
    found = discover(tmp_path / "study")
    ref = find_overlays(found)[0]
    vol2 = load_series(next(s for s in found.series if s.modality == "CT"))
    stack = overlay_stack(read_overlay(ref), vol2.shape, slice_refs(vol2.slice_files), _positions(vol2))
    shown = [k for k in range(vol2.n_slices) if not np.isnan(stack[k]).all()]
    assert shown == picks
    np.testing.assert_allclose(stack[picks], heat, atol=1e-6)

"""``slicewise classify --explain gradcam --dicom-out DIR``: the DICOM result objects of a
classified series are valid (dciodvfy), say what the JSON output says, and hold the same maps
as the ``.npy`` files of ``--out`` on the same slices.

Oracles: the command's own JSON and ``.npy`` output of the same run (written by the existing,
separately tested ``--out`` path) and pydicom's decode of the written objects.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from inference import phantoms
from tests.io.results.support import assert_valid
from viewer.cli.main import run
from viewer.io import discover, load_series, write_series
from viewer.io.results.readback import find_overlays, overlay_stack, read_overlay, slice_refs


@pytest.fixture(scope="module")
def axial(tmp_path_factory) -> Path:
    vol = phantoms.brain_mr_volume(1_234_567, n_slices=4, size=96, tumour=True)[0]
    root = tmp_path_factory.mktemp("brain") / "axial"
    write_series(root, vol, spacing=(5.0, 2.0, 2.0), modality="MR", series_description="ax")
    return root


def _walk(seq, meaning: str, out: list) -> list:
    for item in seq:
        names = item.get("ConceptNameCodeSequence")
        if names and names[0].CodeMeaning == meaning:
            out.append(item)
        _walk(item.get("ContentSequence", []), meaning, out)
    return out


def test_dicom_out_writes_valid_objects_with_the_same_maps(axial, tmp_path, capsys) -> None:
    npy, dcm = tmp_path / "npy", tmp_path / "dicom"
    assert run(["classify", str(axial), "--model", "tumour", "--slices", "2-3", "--explain", "gradcam",
                "--target", "tumour", "--out", str(npy), "--dicom-out", str(dcm), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    written = [Path(p) for p in doc["dicom"]]
    names = sorted(str(p.relative_to(dcm)) for p in written)
    assert names == ["PM_gradcam_tumour.dcm", "SC_gradcam_tumour/SC0001.dcm",
                     "SC_gradcam_tumour/SC0002.dcm", "SEG_gradcam_tumour.dcm", "SR_tumour.dcm"]
    for path in written:
        assert_valid(path)
    # the Parametric Map, read back onto the series, equals the .npy maps of slices 2 and 3
    found = discover([axial, dcm])
    volume = load_series(next(s for s in found.series if s.modality == "MR"))
    pm = next(r for r in find_overlays(found) if r.kind == "parametric map")
    positions = np.array([volume.index_to_patient(k, 0, 0) for k in range(volume.n_slices)])
    stack = overlay_stack(read_overlay(pm), volume.shape, slice_refs(volume.slice_files), positions)
    for row in doc["slices"]:
        k = row["slice"] - 1
        np.testing.assert_allclose(stack[k], np.load(row["map"]), atol=1e-6)
    assert np.isnan(stack[[0, 3]]).all()
    # the report says what the JSON says, slice by slice, then the series
    sr = pydicom.dcmread(dcm / "SR_tumour.dcm")
    probs = [float(i.MeasuredValueSequence[0].NumericValue)
             for i in _walk(sr.ContentSequence, "Probability of tumour", [])]
    want = [row["probabilities"]["tumour"] for row in doc["slices"]]
    np.testing.assert_allclose(probs, want + [np.mean(want)], atol=1e-6)
    applicable = [i.ConceptCodeSequence[0].CodeMeaning
                  for i in _walk(sr.ContentSequence, "Input inside the model's domain", [])]
    assert applicable == ["Yes" if row["applicable"] else "No" for row in doc["slices"]] + \
        ["Yes" if doc["series"]["applicable"] else "No"]
    reasons = [i.TextValue for i in _walk(sr.ContentSequence, "Reason the model does not apply", [])]
    assert set(reasons) == {r for row in doc["slices"] for r in row["reasons"]}
    # demo weights: every image says so
    assert doc["demo"] is True
    sc = pydicom.dcmread(dcm / "SC_gradcam_tumour" / "SC0001.dcm")
    assert "NOT FOR DIAGNOSIS" in sc.ImageComments and sc.BurnedInAnnotation == "YES"


def test_dicom_out_without_maps_writes_the_report_only(axial, tmp_path, capsys) -> None:
    assert run(["classify", str(axial), "--model", "tumour", "--slices", "1",
                "--dicom-out", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [Path(p).name for p in doc["dicom"]] == ["SR_tumour.dcm"]
    assert_valid(Path(doc["dicom"][0]))


def test_explain_needs_a_folder(axial, capsys) -> None:
    assert run(["classify", str(axial), "--model", "tumour", "--explain", "gradcam"]) == 1
    assert "--dicom-out" in capsys.readouterr().err


def test_headers_highdicom_refuses_give_a_reason_not_a_traceback(tmp_path, capsys):
    """A real CT image without a Frame of Reference UID (pydicom's test file): highdicom refuses
    to derive a parametric map from it; the command says so in one line and exits 1."""
    from pydicom.data import get_testdata_file

    source = get_testdata_file("693_J2KI.dcm")
    if source is None:
        pytest.skip("pydicom's test file 693_J2KI.dcm is not installed")
    if "FrameOfReferenceUID" in pydicom.dcmread(source, stop_before_pixels=True):
        pytest.skip("this pydicom's 693_J2KI.dcm has a Frame of Reference UID")
    code = run(["classify", source, "--model", "ct-lesion", "--explain", "gradcam",
                "--dicom-out", str(tmp_path / "dicom")])
    err = capsys.readouterr().err
    assert code == 1
    assert "could not write DICOM results: the source images' headers do not allow" in err
    assert "Frame Of Reference" in err and "Traceback" not in err

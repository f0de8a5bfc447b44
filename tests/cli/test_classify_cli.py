"""``slicewise classify --json``: applicability per slice and per series, calibrated
probabilities, and map scores against the random baseline."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference import phantoms
from viewer.cli.main import run
from viewer.io import write_series

SAGITTAL = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])   # columns: i, j, k in LPS


@pytest.fixture(scope="module")
def brain(tmp_path_factory) -> dict[str, Path]:
    # slice 4 holds the tumour (a 56 px cross-section)
    vol = phantoms.brain_mr_volume(1_234_567, n_slices=6, size=96, tumour=True)[0]
    root = tmp_path_factory.mktemp("brain")
    write_series(root / "axial", vol, spacing=(5.0, 2.0, 2.0), modality="MR", series_description="ax")
    write_series(root / "sagittal", vol, spacing=(5.0, 2.0, 2.0), modality="MR", direction=SAGITTAL,
                 series_description="sag")
    return {"axial": root / "axial", "sagittal": root / "sagittal"}


def _classify(capsys, *args: str) -> dict:
    assert run(["classify", *args, "--model", "tumour", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_sagittal_series_not_applicable_per_slice_and_series(brain, capsys) -> None:
    doc = _classify(capsys, str(brain["sagittal"]))
    series = doc["series"]
    assert series["orientation"] == "sagittal"
    assert series["applicable"] is False
    assert series["reasons"].count("sagittal slice; this model reads axial slices") == 1
    assert series["slices_applicable"] == 0
    for row in doc["slices"]:
        assert row["applicable"] is False
        assert "sagittal slice; this model reads axial slices" in row["reasons"]
        assert set(row["probabilities"]) == {"no tumour", "tumour"}      # existing fields kept


def test_axial_series_fields_and_map_scores(brain, capsys, tmp_path) -> None:
    doc = _classify(capsys, str(brain["axial"]), "--slices", "4", "--explain", "gradcam",
                    "--out", str(tmp_path))                    # slice 4 holds the tumour
    assert doc["series"]["orientation"] == "axial"
    (row,) = doc["slices"]
    for key in ("applicable", "reasons", "ood_distance", "ood_threshold", "temperature",
                "uncalibrated_probabilities", "predicted", "warnings", "map", "overlay"):
        assert key in row
    assert isinstance(row["applicable"], bool)
    assert doc["series"]["applicable"] == row["applicable"]
    assert row["ood_threshold"] > 0 and row["ood_distance"] >= 0
    assert row["target"] == "tumour" and row["map_reference"] > 0    # the detector's finding
    scores = row["scores"]
    assert len(scores["random_deletion_aucs"]) == 5
    assert scores["vs_random"] is None or isinstance(scores["vs_random"], float)
    assert isinstance(scores["better_than_random"], bool) and scores["random_note"]
    assert 0.0 <= scores["deletion_auc"] <= 1.0


def test_explain_hirescam_writes_scored_maps(brain, capsys, tmp_path) -> None:
    doc = _classify(capsys, str(brain["axial"]), "--slices", "3-4", "--explain", "hirescam",
                    "--out", str(tmp_path))
    assert [r["slice"] for r in doc["slices"]] == [3, 4]
    for row in doc["slices"]:
        heat = np.load(row["map"])
        assert heat.shape == (96, 96) and heat.dtype == np.float32 and np.isfinite(heat).all()
        assert Path(row["overlay"]).is_file() and "hirescam" in Path(row["map"]).name
        scores = row["scores"]
        assert 0.0 <= scores["deletion_auc"] <= 1.0 and scores["random_note"]
        if row["slice"] == 4:                                  # the tumour: scored against chance
            assert len(scores["random_deletion_aucs"]) == 5
            assert isinstance(scores["better_than_random"], bool)
        else:       # no tumour: blurring the whole slice raises P(tumour), nothing to delete
            assert scores["random_deletion_aucs"] == [] and scores["better_than_random"] is None
            assert scores["random_note"].startswith("not measurable by deletion")


def test_text_output_gives_no_call_for_out_of_domain_slices(brain, capsys) -> None:
    assert run(["classify", str(brain["sagittal"]), "--model", "tumour"]) == 0
    out = capsys.readouterr().out
    assert "OUTSIDE THIS MODEL'S DOMAIN: sagittal slice" in out
    slice_lines = [line for line in out.splitlines() if line.startswith("slice")]
    assert slice_lines and all("-> no valid call (model output" in line for line in slice_lines)

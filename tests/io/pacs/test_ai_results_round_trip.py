"""AI results through a real PACS and back: classify a series with --dicom-out, send the series
and the result objects to Orthanc (STOW-RS and C-STORE), retrieve the study (WADO-RS, C-GET),
open it, and find the same map values on the same slices (issue: DICOM in, DICOM out).

Oracles: the classify command's own .npy maps of the same run, pydicom/highdicom reads."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from inference import phantoms
from tests.pacs_server import PASSWORD, route_servers
from viewer.cli.main import run
from viewer.io import discover, load_series, write_series
from viewer.io.pacs import RetrieveCache, open_client, retrieve, run_retrieve, send_files
from viewer.io.results.readback import find_overlays, overlay_stack, read_overlay, slice_refs


@pytest.mark.parametrize(("send_by", "get_by"), [("wado-rs", "c-get"), ("c-move", "wado-rs")])
def test_map_values_survive_store_query_retrieve_open(send_by, get_by, orthanc_factory, tmp_path,
                                                      capsys):
    vol = phantoms.brain_mr_volume(1_234_568, n_slices=4, size=96, tumour=True)[0]
    src = tmp_path / "axial"
    write_series(src, vol, spacing=(5.0, 2.0, 2.0), modality="MR", series_description="ax")
    npy, dcm = tmp_path / "npy", tmp_path / "dicom"
    assert run(["classify", str(src), "--model", "tumour", "--slices", "2-3", "--explain",
                "gradcam", "--target", "tumour", "--out", str(npy), "--dicom-out", str(dcm),
                "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    server = orthanc_factory()
    routes = route_servers(server)
    files = sorted(src.glob("*.dcm")) + [Path(p) for p in doc["dicom"]]
    sent = send_files(routes[send_by], files, secret=PASSWORD)
    assert sent.ok and sent.stored == len(files)
    study_uid = pydicom.dcmread(sorted(src.glob("*.dcm"))[0]).StudyInstanceUID
    cache = RetrieveCache(tmp_path / "cache")
    with open_client(routes[get_by], PASSWORD) as client:
        got = run_retrieve(retrieve(client, cache, str(study_uid)))
    assert got.missing == 0 and got.fetched == len(files)
    found = discover([cache.root])
    volume = load_series(next(s for s in found.series if s.modality == "MR"))
    pm = next(r for r in find_overlays(found) if r.kind == "parametric map")
    positions = np.array([volume.index_to_patient(k, 0, 0) for k in range(volume.n_slices)])
    stack = overlay_stack(read_overlay(pm), volume.shape, slice_refs(volume.slice_files), positions)
    for row in doc["slices"]:
        np.testing.assert_allclose(stack[row["slice"] - 1], np.load(row["map"]), atol=1e-6)

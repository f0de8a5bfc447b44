"""``run_batch`` with the local engine on a synthetic archive, checked against pydicom's decode
and the classifier's own ``predict_batch`` (independent of the batch code)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from viewer.modules.batch.pipeline import BatchConfig, run_batch  # noqa: E402


@pytest.fixture(scope="module")
def local_run(archive, tmp_path_factory):
    root, meta = archive
    out = tmp_path_factory.mktemp("out-local")
    summary = run_batch(BatchConfig((str(root),), "contrast", str(out)))
    return out, summary, meta


def _rows(out: Path, level: str) -> list[dict]:
    t = pq.read_table(out / "contrast.parquet").to_pylist()
    return [r for r in t if r["level"] == level]


def _decode_all(root: Path) -> dict[str, tuple[str, np.ndarray | None]]:
    """{file: (SOPInstanceUID, pixels after rescale or None when pydicom cannot decode)}."""
    out = {}
    for f in sorted(root.rglob("*.dcm")):
        ds = pydicom.dcmread(f)
        try:
            px = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        except Exception:  # noqa: BLE001 - the cut-short file
            px = None
        out[str(f)] = (str(ds.SOPInstanceUID), px)
    return out


def test_one_row_per_slice_and_series_matching_pydicom(local_run, archive):
    out, summary, meta = local_run
    root, _ = archive
    decoded = _decode_all(root)
    slices = _rows(out, "slice")
    assert {r["sop_uid"] for r in slices} == {uid for uid, _ in decoded.values()}
    assert len(_rows(out, "series")) == len(meta["series"]) == 5
    unreadable = [r for r in slices if r["status"] != "ok"]
    assert [r["file"] for r in unreadable] == [meta["broken_file"]]
    assert decoded[meta["broken_file"]][1] is None  # pydicom cannot decode it either
    assert summary["skipped_files"]["count"] == 1
    assert summary["skipped_files"]["files"][0]["path"] == meta["non_image"]
    csv = pacsv.read_csv(out / "contrast.csv")
    assert csv.num_rows == len(slices) + 5


def test_probabilities_equal_predict_batch_on_pydicom_pixels(local_run, archive):
    from inference import load_model

    out, _, _ = local_run
    root, _ = archive
    decoded = _decode_all(root)
    clf = load_model("contrast")
    rows = [r for r in _rows(out, "slice") if r["status"] == "ok" and r["modality"] == "MR"]
    images = [decoded[r["file"]][1] for r in rows]
    preds = clf.predict_batch(images, spacing=(0.9, 0.9), modality="MR",
                              orientation="axial")
    for r, p in zip(rows, preds):
        assert r["predicted"] == p.predicted
        for c in clf.spec.classes:
            assert r[f"p_{c}"] == pytest.approx(p.probabilities[c], abs=1e-4)
        assert r["applicable"] == p.applicable


def test_summary_counts_disagreement_and_out_of_domain(local_run, archive):
    out, summary, meta = local_run
    saved = json.loads((out / "contrast.summary.json").read_text())
    assert saved["counts_per_class"] == summary["counts_per_class"]
    series = {r["description"]: r for r in _rows(out, "series")}
    ct = series["CT ABDOMEN"]
    assert ct["applicable"] is False and "MR" in ct["reasons"]
    assert summary["out_of_domain"]["count"] >= 1
    assert "CT ABDOMEN" in [s["description"] for s in summary["out_of_domain"]["series"]]
    lied = series[meta["mislabelled"]]
    assert lied["header_contrast"] == "T1"
    if lied["applicable"] and lied["predicted"] != "T1":
        assert lied["disagrees"] is True
        assert meta["mislabelled"] in [s["description"] for s in summary["header_disagreements"]["series"]]
    assert sum(summary["counts_per_class"].values()) == 5
    assert summary["failures"]["count"] == 0


def test_rerun_skips_everything_done(local_run, archive):
    out, first, _ = local_run
    root, _ = archive
    again = run_batch(BatchConfig((str(root),), "contrast", str(out)))
    assert again["run"]["series_processed"] == 0
    assert again["run"]["series_already_done"] == 5
    assert again["counts_per_class"] == first["counts_per_class"]
    assert len(_rows(out, "series")) == 5  # tables rebuilt, no duplicates

"""``slicewise batch``: JSON progress lines, exit status, usage errors, NIfTI heat maps."""
from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pydicom
import pytest

pytest.importorskip("pyarrow")

from tests.modules.batch.synthetic import write_archive  # noqa: E402
from viewer.cli.main import main  # noqa: E402


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("arc")
    return root, write_archive(root, n_series=2, n_slices=10, broken=False, ct=False)


def test_json_progress_lines_then_summary(small, tmp_path, capsys):
    root, meta = small
    code = main(["batch", str(root), "--model", "contrast", "--out", str(tmp_path), "--json-progress"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [x["event"] for x in lines] == ["progress", "progress", "summary"]
    assert lines[-1]["run"]["slices_processed"] == 20
    assert lines[1]["series_done"] == 2


def test_usage_errors_are_one_line(small, tmp_path, capsys):
    root, _ = small
    assert main(["batch", str(root), "--model", "contrast", "--out", str(tmp_path), "--nifti"]) == 1
    assert "--explain" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "nowhere"), "--model", "contrast", "--out", str(tmp_path)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["batch", str(root), "--model", "nosuchmodel", "--out", str(tmp_path)]) == 1


def test_gradcam_maps_as_nifti_on_the_series_grid(small, tmp_path, capsys):
    root, _ = small
    code = main(["batch", str(root), "--model", "contrast", "--out", str(tmp_path),
                 "--explain", "gradcam", "--nifti", "--json-progress"])
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0
    maps = sorted((tmp_path / "maps" / "contrast").glob("*.nii.gz"))
    assert len(maps) == 2 and not list((tmp_path / "maps").rglob(".*"))
    ds = pydicom.dcmread(next(root.rglob("*.dcm")), stop_before_pixels=True)
    img = nib.load(maps[0])
    assert img.shape == (ds.Columns, ds.Rows, 10)  # NIfTI (x, y, z)
    assert np.isfinite(img.get_fdata()).all() and img.get_fdata().max() > 0
    assert summary["explain"] == "gradcam"


def test_dicom_results_per_series_reference_their_slices(small, tmp_path, capsys):
    """--dicom writes each series' DICOM result objects (report, parametric map, segmentation,
    secondary captures), and the parametric map references that series' own images."""
    root, _ = small
    code = main(["batch", str(root), "--model", "contrast", "--out", str(tmp_path),
                 "--explain", "gradcam", "--dicom", "--json-progress"])
    capsys.readouterr()
    assert code == 0
    written = sorted(p for p in tmp_path.rglob("*.dcm"))
    pms = [p for p in written if pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID
           == "1.2.840.10008.5.1.4.1.1.30"]
    srs = [p for p in written if p.name.startswith("SR_")]
    assert len(pms) >= 2 and len(srs) == 2                 # one set per series
    sources = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID)
               for p in root.rglob("*.dcm")}
    for pm in pms:
        ds = pydicom.dcmread(pm)
        refs = {str(i.ReferencedSOPInstanceUID)
                for f in ds.PerFrameFunctionalGroupsSequence
                for d in f.get("DerivationImageSequence", [])
                for i in d.SourceImageSequence}
        assert refs and refs <= sources


def test_ray_actor_options_reach_the_engine(small, tmp_path, capsys, monkeypatch):
    """--ray-actors / --gpus-per-actor become the Ray engine's actor pool settings; with the
    local engine they are a usage error, not silently ignored."""
    pytest.importorskip("ray")
    import viewer.modules.batch.pipeline as pipeline

    seen = {}

    def fake_run(config, progress=None, on_record=None):
        seen["config"] = config
        return {"run": {"series_found": 0, "series_processed": 0, "slices_processed": 0,
                        "elapsed_s": 0.0}, "counts": {}, "failures": {"count": 0}}

    monkeypatch.setattr(pipeline, "run_batch", fake_run)
    root, _ = small
    code = main(["batch", str(root), "--model", "contrast", "--out", str(tmp_path), "--engine", "ray",
                 "--ray-actors", "3", "--gpus-per-actor", "0.5", "--json-progress"])
    assert code == 0
    config = seen["config"]
    assert config.engine == "ray" and config.extra == {"ray_actors": 3, "num_gpus": 0.5}
    capsys.readouterr()
    assert main(["batch", str(root), "--model", "contrast", "--out", str(tmp_path),
                 "--gpus-per-actor", "1"]) == 1
    assert "--engine ray" in capsys.readouterr().err


def test_a_result_file_that_cannot_be_written_leaves_the_calls_standing(small, tmp_path, capsys,
                                                                        monkeypatch):
    """highdicom refuses some real headers (no Frame of Reference UID, multi-frame sources):
    the series keeps its calls, the summary names what was not written and why, exit 2."""
    import viewer.modules.ai.dicom_export as dicom_export

    def refuse(out, *args, **kwargs):
        from pathlib import Path

        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "half.dcm").write_bytes(b"")
        raise ValueError("Source images have no Frame Of Reference UID, but it is required by the IOD.")

    monkeypatch.setattr(dicom_export, "write_dicom_results", refuse)
    root, _ = small
    code = main(["batch", str(root), "--model", "contrast", "--out", str(tmp_path),
                 "--explain", "gradcam", "--dicom", "--nifti", "--json-progress"])
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 2
    assert summary["failures"]["count"] == 0 and summary["series"] == {"total": 2, "ok": 2}
    assert summary["outputs_missing"]["count"] == 2
    assert all("DICOM results not written: ValueError: Source images have no Frame Of Reference"
               in s["reason"] for s in summary["outputs_missing"]["series"])
    assert len(list((tmp_path / "maps" / "contrast").glob("*.nii.gz"))) == 2   # maps were written
    assert not list((tmp_path / "dicom").rglob("*.dcm"))                       # no half folder
    import pyarrow.parquet as pq

    rows = [r for r in pq.read_table(tmp_path / "contrast.parquet").to_pylist() if r["level"] == "series"]
    assert all(r["predicted"] and r["outputs_missing"] for r in rows)

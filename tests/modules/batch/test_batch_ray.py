"""``--engine ray`` on a private local Ray instance (2 CPUs, loopback): same results as local."""
from __future__ import annotations

import pytest

pytest.importorskip("ray")
pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from viewer.modules.batch.pipeline import BatchConfig, run_batch  # noqa: E402


def _by_sop(path):
    return {r["sop_uid"]: r for r in pq.read_table(path).to_pylist() if r["level"] == "slice"}


def test_ray_engine_matches_local(archive, tmp_path):
    root, meta = archive
    local = run_batch(BatchConfig((str(root),), "contrast", str(tmp_path / "local")))
    ray_run = run_batch(BatchConfig((str(root),), "contrast", str(tmp_path / "ray"), engine="ray"))
    assert ray_run["engine"] == "ray"
    assert ray_run["counts_per_class"] == local["counts_per_class"]
    assert ray_run["series"] == local["series"]
    a, b = _by_sop(tmp_path / "local" / "contrast.parquet"), _by_sop(tmp_path / "ray" / "contrast.parquet")
    assert a.keys() == b.keys()
    for sop, row in a.items():
        assert b[sop]["status"] == row["status"]
        assert b[sop]["predicted"] == row["predicted"]
        assert b[sop]["p_T2"] == pytest.approx(row["p_T2"], abs=1e-5)

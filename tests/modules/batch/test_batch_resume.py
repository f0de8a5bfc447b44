"""Resume after an interruption, retry of failed series, dead workers and torn journals."""
from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from inference.registry import get_spec  # noqa: E402
from tests.modules.batch.crashing import CrashOn  # noqa: E402
from viewer.io import discover  # noqa: E402
from viewer.modules.batch.engine_local import DIED, run_local  # noqa: E402
from viewer.modules.batch.outputs import Journal  # noqa: E402
from viewer.modules.batch.pipeline import BatchConfig, run_batch  # noqa: E402
from viewer.modules.batch.work import SeriesFailure, SeriesWork  # noqa: E402


def _series_rows(path):
    return [r for r in pq.read_table(path).to_pylist() if r["level"] == "series"]


def test_interrupted_run_keeps_done_series_and_resumes(archive, tmp_path):
    root, meta = archive
    seen = []

    def stop_after_two(record):
        seen.append(record["uid"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    config = BatchConfig((str(root),), "contrast", str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        run_batch(config, on_record=stop_after_two)
    journal = Journal(tmp_path, "contrast")
    sha = get_spec("contrast").sha256
    assert journal.done(sha) == set(seen)
    partial = json.loads((tmp_path / "contrast.summary.json").read_text())
    assert partial["interrupted"] is True
    assert len(_series_rows(tmp_path / "contrast.parquet")) == 2  # rebuilt from what was done
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind

    second = run_batch(config)
    assert second["run"]["series_already_done"] == 2
    assert second["run"]["series_processed"] == 3
    rows = _series_rows(tmp_path / "contrast.parquet")
    assert sorted(r["description"] for r in rows) == sorted(meta["series"])
    assert len([r for r in journal.records()]) == 5  # nothing classified twice


def test_failed_series_is_recorded_then_retried(archive, tmp_path):
    root, _ = archive
    src = tmp_path / "src"
    shutil.copytree(root / "patient01", src / "patient01")
    victim = sorted((src / "patient01").iterdir())[0]
    originals = {f: f.read_bytes() for f in victim.glob("*.dcm")}
    for f, data in originals.items():  # every file of one series cut short: nothing readable
        f.write_bytes(data[:-2000])
    out = tmp_path / "out"
    config = BatchConfig((str(src),), "contrast", str(out))
    first = run_batch(config)
    assert first["failures"]["count"] == 1
    assert first["series"]["ok"] == 1
    failed = first["failures"]["series"][0]
    assert failed["reason"]
    for f, data in originals.items():  # the archive is repaired: a re-run retries the failure
        f.write_bytes(data)
    second = run_batch(config)
    assert second["run"]["series_processed"] == 1 and second["run"]["series_already_done"] == 1
    assert second["failures"]["count"] == 0 and second["series"]["ok"] == 2


def test_dead_worker_fails_only_its_series(archive):
    root, meta = archive
    series = discover(root).series
    job = CrashOn(get_spec("contrast"), False, description="CT ABDOMEN")
    results = list(run_local(series, job, workers=2))
    assert len(results) == len(series)
    dead = [r for r in results if isinstance(r, SeriesFailure)]
    assert [(r.meta.description, r.reason) for r in dead] == [("CT ABDOMEN", DIED)]
    assert all(isinstance(r, SeriesWork) for r in results if r not in dead)


def test_torn_last_line_is_ignored_and_closed(tmp_path):
    journal = Journal(tmp_path, "m")
    journal.append({"uid": "a", "sha256": "s", "status": "ok", "rows": []})
    journal.close()
    with open(journal.path, "a") as fh:
        fh.write('{"uid": "b", "sha256": "s", "sta')  # killed mid-write
    assert journal.done("s") == {"a"}
    journal.append({"uid": "c", "sha256": "s", "status": "ok", "rows": []})
    journal.close()
    assert journal.done("s") == {"a", "c"}

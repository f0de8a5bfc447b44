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


@pytest.mark.parametrize("stage", ["reader", "model"])
def test_an_actor_that_dies_fails_only_its_series(archive, tmp_path, stage, capfd):
    """A series whose reader or model actor process dies on every try is recorded as failed
    with the reason; every other series is classified (before, Ray retried the dead task for
    ever: the run hung). Ray's own messages about it go to the run's log file, not to stdout
    (where ``--json-progress`` lines go) or stderr."""
    from inference.registry import get_spec
    from tests.modules.batch.crashing import CrashingInfer, CrashingRead
    from viewer.io import discover
    from viewer.modules.batch.engine_ray import RAY_DIED, READ_RETRIES, _Infer, _Read, run_ray

    root, _ = archive
    series = discover(root).series
    config = BatchConfig((str(root),), "contrast", str(tmp_path / "out"), engine="ray")
    actors = {"reader": (CrashingRead, _Infer), "model": (_Read, CrashingInfer)}[stage]
    records = list(run_ray(iter(series), get_spec("contrast"), config, *actors))
    assert sorted(r["uid"] for r in records) == sorted(s.uid for s in series)
    failed = [r for r in records if r["status"] == "failed"]
    assert [(r["rows"][0]["description"], r["error"], r["attempt"]) for r in failed] == [
        ("CT ABDOMEN", RAY_DIED, READ_RETRIES + 1)]
    assert all(r["status"] == "ok" for r in records if r not in failed)
    out, err = capfd.readouterr()
    assert "(raylet)" not in out and "Traceback" not in out + err
    assert "streaming_executor" not in err and "ActorUnavailableError" not in err
    assert "Starting execution" in (tmp_path / "out" / "contrast.ray.log").read_text()


def test_blocks_group_series_but_keep_every_reader_busy():
    from viewer.modules.batch.engine_ray import SERIES_PER_BLOCK, _blocks

    assert _blocks(256, 2) == 256 // SERIES_PER_BLOCK      # long chunk: full blocks
    assert _blocks(40, 2) == 10
    assert _blocks(8, 2) == 8                              # short chunk: one series a block
    assert _blocks(1, 2) == 1
    for n in range(1, 60):
        for readers in (1, 2, 8):
            b = _blocks(n, readers)
            assert 1 <= b <= n and -(-n // b) <= SERIES_PER_BLOCK


def test_rows_carry_the_model_inputs_unchanged(archive):
    """Reader rows keep the tensors out of the pickle (a tensor column); the inference side
    gets the same SeriesWork back, bit for bit, and failures pass through."""
    import numpy as np

    from inference.registry import get_spec
    from viewer.io import discover
    from viewer.modules.batch.engine_ray import _from_row, _to_row
    from viewer.modules.batch.work import SeriesFailure, SeriesMeta, SeriesWork, read_series

    root, _ = archive
    spec = get_spec("contrast")
    info = discover(root).series[0]
    work = read_series(info, spec)
    assert isinstance(work, SeriesWork) and len(work.tensors)
    row = _to_row(work, int(spec.input["size"]))
    assert len(row["work"]) < work.tensors.nbytes // 10
    view = row["tensors"].copy()
    view.flags.writeable = False                   # as Ray's zero-copy views arrive
    back = _from_row(row["work"], view)
    assert back.tensors.flags.writeable and back.tensors.dtype == np.float32
    assert np.array_equal(back.tensors, work.tensors)
    assert back.status == work.status and back.sop_uids == work.sop_uids
    failure = SeriesFailure(SeriesMeta.of(info), "could not read the series: test")
    row = _to_row(failure, 224)
    assert row["tensors"].shape == (0, 1, 224, 224)
    assert _from_row(row["work"], row["tensors"]) == failure


def test_chunks_grow_up_to_the_largest_and_hold_bounded_file_lists():
    from types import SimpleNamespace

    from viewer.modules.batch.engine_ray import _chunks

    def series(n, files=1):
        return [SimpleNamespace(files=("f",) * files) for _ in range(n)]

    sizes = [len(c) for c in _chunks(series(1000), largest=256, first=16)]
    assert sizes == [16, 64, 256, 256, 256, 152]
    assert [len(c) for c in _chunks(series(5), largest=2, first=64)] == [2, 2, 1]
    assert list(_chunks([], largest=8)) == []
    sizes = [len(c) for c in _chunks(series(10, files=400), largest=256, first=64, max_files=1000)]
    assert sizes == [3, 3, 3, 1]

"""Retrieve through the real Orthanc by WADO-RS, C-GET and C-MOVE: the pixels that arrive are
the pixels that were stored (pydicom decode of both), a second retrieve fetches only what is
missing, cancel keeps whole files only."""
from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.pacs_server import PASSWORD, route_servers
from viewer.io.pacs import RetrieveCache, open_client, retrieve, run_retrieve

ROUTES = ("wado-rs", "c-get", "c-move")


@pytest.fixture(params=ROUTES)
def route(request, orthanc):
    return route_servers(orthanc.server)[request.param]


def _pixels_by_sop(folder):
    out = {}
    for path in folder.glob("*.dcm"):
        ds = pydicom.dcmread(str(path))
        out[str(ds.SOPInstanceUID)] = ds.pixel_array
    return out


def test_study_arrives_whole_and_identical(route, orthanc, tmp_path):
    cache = RetrieveCache(tmp_path / "cache")
    with open_client(route, PASSWORD) as client:
        events = []
        result = run_retrieve(retrieve(client, cache, orthanc.brain_t1.study_uid), events.append)
    assert (result.total, result.fetched, result.missing) == (20, 20, 0)
    assert [e.done for e in events] == list(range(1, 21))
    for seeded in (orthanc.brain_t1, orthanc.brain_t2):
        got = _pixels_by_sop(cache.series_dir(seeded.study_uid, seeded.series_uid))
        want = _pixels_by_sop(seeded.folder)
        assert set(got) == set(want) == set(seeded.sop_uids)
        for uid in want:
            np.testing.assert_array_equal(got[uid], want[uid])


def test_second_retrieve_fetches_only_what_is_missing(route, orthanc, tmp_path):
    cache = RetrieveCache(tmp_path / "cache")
    ct = orthanc.abdomen
    with open_client(route, PASSWORD) as client:
        run_retrieve(retrieve(client, cache, ct.study_uid))
        folder = cache.series_dir(ct.study_uid, ct.series_uid)
        removed = sorted(folder.glob("*.dcm"))[3:6]
        for p in removed:
            p.unlink()
        result = run_retrieve(retrieve(client, cache, ct.study_uid))
    assert (result.fetched, result.already, result.missing) == (3, 7, 0)
    assert {p.name for p in folder.glob("*.dcm")} == {f"{u}.dcm" for u in ct.sop_uids}


def test_cancel_mid_retrieve_keeps_whole_files_then_resumes(route, orthanc, tmp_path):
    cache = RetrieveCache(tmp_path / "cache")
    big = orthanc.big
    stop_after = 10
    seen = []
    with open_client(route, PASSWORD) as client:
        gen = retrieve(client, cache, big.study_uid, [big.series_uid],
                       cancelled=lambda: len(seen) >= stop_after)
        result = run_retrieve(gen, seen.append)
        assert result.cancelled
        folder = cache.series_dir(big.study_uid, big.series_uid)
        kept = sorted(folder.glob("*.dcm"))
        assert stop_after <= len(kept) < len(big.sop_uids)
        for p in kept:  # every file with the final name is a whole instance
            assert pydicom.dcmread(str(p)).pixel_array.shape == (256, 256)
        assert not list(folder.glob("*.part"))
        again = run_retrieve(retrieve(client, cache, big.study_uid, [big.series_uid]))
    assert again.fetched == len(big.sop_uids) - len(kept) and again.missing == 0

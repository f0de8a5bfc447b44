"""SOURCE parsing and streaming: folders unit by unit, a DICOMDIR (written by pydicom's
FileSet), and PACS queries dispatched to the PACS adapter."""
from __future__ import annotations

import pydicom
import pytest
from pydicom.fileset import FileSet

from viewer.io import discover
from viewer.modules.batch.sources import Discovered, SourceError, iter_series, parse_source


def test_pacs_query_is_parsed_and_dispatched():
    src = parse_source("pacs://ORTHANC?modality=MR&date=20240101-20241231")
    assert (src.kind, src.server) == ("pacs", "ORTHANC")
    assert src.filters == {"modality": "MR", "date": "20240101-20241231"}
    seen = []

    def fake(source):
        seen.append(source.filters)
        return iter(())
    assert list(iter_series([src], pacs=fake)) == []
    assert seen == [{"modality": "MR", "date": "20240101-20241231"}]


def test_bad_sources_say_why(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        parse_source(str(tmp_path / "missing"))
    with pytest.raises(SourceError, match="server"):
        parse_source("pacs://?modality=MR")


def test_folder_stream_finds_what_whole_discovery_finds(archive):
    root, meta = archive
    found = Discovered()
    streamed = list(iter_series([parse_source(str(root))], found))
    whole = discover(root)
    assert sorted(s.uid for s in streamed) == sorted(s.uid for s in whole.series)
    assert sorted(len(s.files) for s in streamed) == sorted(len(s.files) for s in whole.series)
    assert [s.path for s in found.skipped] == [meta["non_image"]]


def test_dicomdir_source(archive, tmp_path):
    root, _ = archive
    fs = FileSet()
    for f in sorted((root / "patient01").rglob("*.dcm")):
        ds = pydicom.dcmread(f)
        ds.StudyID = "1"  # a DICOMDIR's STUDY record needs it; the synthetic writer omits it
        fs.add(ds)
    fs.write(tmp_path / "media")
    src = parse_source(str(tmp_path / "media" / "DICOMDIR"))
    assert src.kind == "dicomdir"
    series = list(iter_series([src]))
    assert len(series) == 2 and sum(len(s.files) for s in series) == 20


def test_discover_ahead_keeps_order_bounds_the_lead_and_passes_errors_on():
    import threading
    import time
    from types import SimpleNamespace

    from viewer.modules.batch.sources import DiscoverAhead

    made: list[int] = []

    def numbers(n, fail_at=None):
        for k in range(n):
            if k == fail_at:
                raise SourceError("server went away")
            made.append(k)
            yield SimpleNamespace(files=("f",), k=k)

    assert [s.k for s in DiscoverAhead(numbers(50), ahead=4)] == list(range(50))
    made.clear()

    def discovery_threads():
        return {t for t in threading.enumerate() if t.name == "slicewise-batch-discovery"}

    before = discovery_threads()
    it = DiscoverAhead(numbers(1000), ahead=4)
    assert next(it).k == 0
    time.sleep(0.3)
    assert len(made) <= 1 + 4 + 1          # taken + queued + the one waiting to be queued
    it.close()                              # stops the thread
    assert list(it) == []
    time.sleep(0.3)
    assert discovery_threads() <= before
    with pytest.raises(SourceError, match="server went away"):
        list(DiscoverAhead(numbers(10, fail_at=3), ahead=2))


def test_discover_ahead_bounds_the_files_held():
    import time
    from types import SimpleNamespace

    from viewer.modules.batch.sources import DiscoverAhead

    made = []

    def big():
        for k in range(100):
            made.append(k)
            yield SimpleNamespace(files=("f",) * 400, k=k)

    it = DiscoverAhead(big(), ahead=50, ahead_files=1000)
    assert next(it).k == 0
    time.sleep(0.3)
    assert len(made) <= 1 + 2 + 1       # taken + two of 400 files queued + one waiting
    assert [s.k for s in it] == list(range(1, 100))

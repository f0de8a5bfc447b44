"""PACS benchmark against a real Orthanc on loopback (tests/pacs_server.py).

Series: 200 slices of 256 x 256 MR (uint16) written by ``viewer.io.write_series`` and stored by
C-STORE. Peer, same run: a bare ``dicomweb-client`` ``retrieve_series`` of the same series
(multipart WADO-RS, datasets decoded in memory, nothing written). SliceWise:
``viewer.io.pacs.retrieve`` by WADO-RS into an empty cache folder (each instance written to
disk), and by C-GET for information. Best of 3, interleaved.
Time to first slice on screen: the GUI module's retrieve (offscreen window, empty cache) from
the Retrieve click to ``volume_opened`` (first slice drawn), against that retrieve's full time.
Aims: throughput >= 0.9x the bare client; first slice <= 0.25x the full retrieve.

Run: ``python -m tests.benchmarks pacs``.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.events import deliver_pending_events

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.pacs_server import (  # noqa: E402
    PASSWORD,
    USER,
    OrthancServer,
    route_servers,
    skip_reason,
    write_seed_series,
)

N_SLICES, SIZE, REPEATS = 200, 256, 3


def _bare_client(server: OrthancServer, study: str, series: str) -> float:
    import requests
    from dicomweb_client.api import DICOMwebClient

    session = requests.Session()
    session.auth = (USER, PASSWORD)
    client = DICOMwebClient(server.url, session=session)
    t0 = time.perf_counter()
    datasets = client.retrieve_series(study, series)
    elapsed = time.perf_counter() - t0
    assert len(datasets) == N_SLICES
    return elapsed


def _slicewise(route, study: str, cache_dir: Path) -> float:
    from viewer.io.pacs import RetrieveCache, open_client, retrieve, run_retrieve

    shutil.rmtree(cache_dir, ignore_errors=True)
    t0 = time.perf_counter()
    with open_client(route, PASSWORD) as client:
        result = run_retrieve(retrieve(client, RetrieveCache(cache_dir), study))
    elapsed = time.perf_counter() - t0
    assert result.fetched == N_SLICES, result
    return elapsed


def _first_slice(server: OrthancServer, study: str, cache_dir: Path) -> tuple[float, float]:
    """(seconds to the first slice on screen, seconds to the end of the retrieve) in the GUI."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from viewer.app import create_application, create_main_window
    from viewer.io.pacs import PacsServer, RetrieveCache, save_servers

    shutil.rmtree(cache_dir, ignore_errors=True)
    _app = create_application([])  # kept alive while the window runs
    save_servers([PacsServer("bench", url=server.url, auth="basic", username=USER)])
    os.environ["SLICEWISE_PACS_PASSWORD_BENCH"] = PASSWORD
    window = create_main_window(("pacs",))
    module = window.modules["pacs"]
    module.cache = RetrieveCache(cache_dir)
    browser = module.show_browser()
    browser.server.setCurrentText("bench")
    first: list[float] = []
    window.state.volume_opened.connect(lambda _v: first or first.append(time.perf_counter()))
    t0 = time.perf_counter()
    module.retrieve(study)
    deadline = t0 + 120
    while (not first or module.last_result is None) and time.perf_counter() < deadline:
        deliver_pending_events()
        time.sleep(0.001)
    full_end = time.perf_counter()
    if module.last_result is None or not first:
        raise RuntimeError("the GUI retrieve did not finish")
    window.runner.shutdown(3000)
    window.close()
    return first[0] - t0, full_end - t0


def main() -> dict:
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return {"skipped": reason}
    work = Path(tempfile.mkdtemp(prefix="slicewise-bench-pacs-"))
    server = OrthancServer(work / "orthanc").start()
    try:
        seeded = write_seed_series(work / "series", n=N_SLICES, size=SIZE, modality="MR",
                                   patient=("Bench^Mark", "B1"), study_date="20240101",
                                   accession="B", study_description="Bench",
                                   series_description="200 slices")
        assert server.store(sorted(seeded.folder.glob("*.dcm"))) == N_SLICES
        routes = route_servers(server)
        times: dict[str, list[float]] = {"bare dicomweb-client": [], "SliceWise WADO-RS": [],
                                         "SliceWise C-GET": []}
        for _ in range(REPEATS):
            times["bare dicomweb-client"].append(
                _bare_client(server, seeded.study_uid, seeded.series_uid))
            times["SliceWise WADO-RS"].append(
                _slicewise(routes["wado-rs"], seeded.study_uid, work / "cache-web"))
            times["SliceWise C-GET"].append(
                _slicewise(routes["c-get"], seeded.study_uid, work / "cache-get"))
        mb = sum(p.stat().st_size for p in seeded.folder.glob("*.dcm")) / 1e6
        best = {k: min(v) for k, v in times.items()}
        peer = best["bare dicomweb-client"]
        print(f"{N_SLICES} slices {SIZE}x{SIZE}, {mb:.1f} MB, best of {REPEATS}")
        for name, t in best.items():
            print(f"  {name:22} {t:6.3f} s  {mb / t:6.1f} MB/s  throughput x{peer / t:.2f} "
                  f"of the bare client")
        first, full = _first_slice(server, seeded.study_uid, work / "cache-gui")
        print(f"  GUI: first slice on screen {first:.3f} s, whole retrieve {full:.3f} s "
              f"(ratio {first / full:.2f})")
        return {"slices": N_SLICES, "size": SIZE, "megabytes": round(mb, 1),
                "best_s": {k: round(v, 4) for k, v in best.items()},
                "throughput_vs_bare_wado": round(peer / best["SliceWise WADO-RS"], 3),
                "throughput_vs_bare_cget": round(peer / best["SliceWise C-GET"], 3),
                "gui_first_slice_s": round(first, 3), "gui_full_retrieve_s": round(full, 3),
                "first_over_full": round(first / full, 3)}
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

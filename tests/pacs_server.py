"""A real Orthanc PACS for the tests: started per test session on loopback with a temporary
configuration and storage folder, free ports, DICOMweb (plugin) and DIMSE on, basic auth on, and
SliceWise's storage SCP registered as a C-MOVE destination. Stopped at the end (terminate, then
kill). Without the Debian packages ``orthanc`` and ``orthanc-dicomweb`` the tests using it skip.

Use from a conftest or a test module::

    from tests.pacs_server import orthanc, orthanc_factory  # noqa: F401  (fixtures)

``orthanc`` (session scope) is seeded through C-STORE with :data:`SEED` studies written by
``viewer.io.write_series`` (plus ``../shared/dicom`` series when present); ``orthanc_factory()``
starts a fresh, empty server of its own (for tests that stop it). Seeding goes through pynetdicom
directly, not through SliceWise's client, so the client's tests have an independent fixture.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DICOM = REPO.parent / "shared" / "dicom"
PACKAGES = "Debian packages 'orthanc' and 'orthanc-dicomweb'"
USER, PASSWORD = "reader", "s3cret-Pw-9f2"
SERVER_AET, CLIENT_AET = "ORTHANC", "SLICEWISE"
PLUGIN_DIRS = ("/usr/share/orthanc/plugins", "/usr/lib/orthanc", "/usr/local/share/orthanc/plugins")


def orthanc_binary() -> str | None:
    """The Orthanc executable, or None."""
    return shutil.which("Orthanc") or next(
        (p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if os.access(p, os.X_OK)), None)


def dicomweb_plugin_dir() -> str | None:
    """The folder holding libOrthancDicomWeb.so, or None."""
    for folder in PLUGIN_DIRS:
        if any(Path(folder).glob("libOrthancDicomWeb.so*")):
            return folder
    return None


def skip_reason() -> str | None:
    """Why the PACS tests cannot run here, or None."""
    if orthanc_binary() is None:
        return f"Orthanc not installed: install the {PACKAGES} (make test does as root)"
    if dicomweb_plugin_dir() is None:
        return f"Orthanc's DICOMweb plugin not found: install the {PACKAGES}"
    try:
        import dicomweb_client  # noqa: F401
        import pynetdicom  # noqa: F401
    except ImportError:
        return "PACS extra not installed: pip install -e '.[pacs]'"
    return None


#: Set (to anything) for Orthanc's verbose log in each server's ``orthanc.log``; the session
#: server's folder is then kept after the run (a pytest tmp folder keeps the others).
VERBOSE = "SLICEWISE_ORTHANC_VERBOSE"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class OrthancServer:
    """One Orthanc process on 127.0.0.1. ``store_port``: the port SliceWise's storage SCP
    listens on for C-MOVE (registered in Orthanc as AE :data:`CLIENT_AET`)."""

    folder: Path
    http_port: int = field(default_factory=free_port)
    dicom_port: int = field(default_factory=free_port)
    store_port: int = field(default_factory=free_port)
    overrides: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    @property
    def dimse_url(self) -> str:
        return f"dicom://{SERVER_AET}@127.0.0.1:{self.dicom_port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "orthanc.log"

    def config(self) -> dict:
        return {
            "Name": "SliceWise test PACS",
            "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "storage"),
            "Plugins": [dicomweb_plugin_dir()],
            "HttpServerEnabled": True, "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True, "RegisteredUsers": {USER: PASSWORD},
            "HttpDescribeErrors": True, "OrthancExplorerEnabled": False,
            "DicomServerEnabled": True, "DicomAet": SERVER_AET, "DicomPort": self.dicom_port,
            "DicomCheckCalledAet": True,
            # Only the known modality (SliceWise on loopback) may associate: unknown calling AE
            # titles are rejected, which the tests check.
            "DicomAlwaysAllowEcho": False, "DicomAlwaysAllowStore": False,
            "DicomAlwaysAllowFind": False, "DicomAlwaysAllowGet": False,
            "DicomAlwaysAllowMove": False, "DicomCheckModalityHost": True,
            "DicomModalities": {"slicewise": {"AET": CLIENT_AET, "Host": "127.0.0.1",
                                              "Port": self.store_port}},
            "DicomScuTimeout": 10, "DicomScpTimeout": 30,
            "LimitFindResults": 0, "LimitFindInstances": 0,
            "StableAge": 1, "SaveJobs": False, "ConcurrentJobs": 1, "SyncStorageArea": False,
            "StorageCompression": False, "OverwriteInstances": True,
            "SynchronousCMove": True,
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False,
                         "Host": "127.0.0.1", "Ssl": False,
                         "QidoCaseSensitive": False},  # as C-FIND: names in any case
        } | self.overrides

    def start(self, timeout: float = 60.0) -> OrthancServer:
        """Start Orthanc (again, on the same ports and storage) and wait until /system answers."""
        import requests

        self.folder.mkdir(parents=True, exist_ok=True)
        cfg = self.folder / "orthanc.json"
        cfg.write_text(json.dumps(self.config(), indent=2))
        log = open(self.log_path, "ab")
        env = {**os.environ, "TCP_NODELAY": "1"}  # DCMTK: no Nagle (40 ms per DIMSE answer)
        verbose = ["--verbose"] if os.environ.get(VERBOSE) else []
        self.process = subprocess.Popen([orthanc_binary(), *verbose, str(cfg)], stdout=log,
                                        env=env, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({self.process.returncode}):\n"
                                   + self.log_tail())
            try:
                r = requests.get(f"http://127.0.0.1:{self.http_port}/system",
                                 auth=(USER, PASSWORD), timeout=2)
                if r.status_code == 200 and self._dicomweb_up():
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def _dicomweb_up(self) -> bool:
        import requests

        r = requests.get(f"{self.url}/studies", auth=(USER, PASSWORD), timeout=2)
        return r.status_code == 200

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate, then kill after ``timeout`` s."""
        p, self.process = self.process, None
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)

    def kill(self) -> None:
        """Stop at once (SIGKILL), as a crashed or unplugged server would."""
        p, self.process = self.process, None
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(5)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # -- seeding through pynetdicom (independent of SliceWise's client) ----------------------
    def store(self, paths: list[Path]) -> int:
        """C-STORE ``paths`` as the known AE; returns how many were accepted.

        A fresh association takes over when one dies: pynetdicom (3.0) now and then misses a
        response that a fast peer sends before it waits for it ("Received unexpected C-STORE
        service message", then a DIMSE timeout), more often since Orthanc answers without Nagle
        delay. Each file is tried at most three times."""
        from pydicom import dcmread
        from pynetdicom import AE

        datasets = [dcmread(str(p)) for p in paths]
        ae = AE(ae_title=CLIENT_AET)
        ae.dimse_timeout = 5
        for ctx in sorted({(str(d.SOPClassUID), str(d.file_meta.TransferSyntaxUID))
                           for d in datasets}):
            ae.add_requested_context(ctx[0], [ctx[1]])
        ok, i, tries = 0, 0, 0
        while i < len(datasets):
            assoc = ae.associate("127.0.0.1", self.dicom_port, ae_title=SERVER_AET)
            assert assoc.is_established, "could not associate with the test Orthanc to seed it"
            try:
                while i < len(datasets):
                    status = assoc.send_c_store(datasets[i])
                    if not hasattr(status, "Status"):  # no answer: retry on a new association
                        tries += 1
                        assert tries <= 3 * len(datasets), "seeding keeps failing"
                        break
                    ok += int(status.Status == 0)
                    i += 1
            finally:
                if assoc.is_established:
                    assoc.release()
        return ok


def route_servers(server: OrthancServer, timeout: float = 20.0):
    """SliceWise server entries for ``server``: DICOMweb (WADO-RS), DIMSE C-GET and C-MOVE."""
    from viewer.io.pacs import PacsServer

    common = dict(kind="dimse", ae_title=SERVER_AET, host="127.0.0.1", port=server.dicom_port,
                  our_ae_title=CLIENT_AET, store_port=server.store_port, timeout=timeout)
    return {"wado-rs": PacsServer("web", url=server.url, auth="basic", username=USER,
                                  timeout=timeout),
            "c-get": PacsServer("dimse-get", retrieve="c-get", **common),
            "c-move": PacsServer("dimse-move", retrieve="c-move", **common)}


@dataclass(frozen=True)
class SeedSeries:
    """A synthetic series stored on the server: what the tests compare against."""

    study_uid: str
    series_uid: str
    patient_name: str
    patient_id: str
    modality: str
    study_date: str
    accession: str
    study_description: str
    series_description: str
    sop_uids: tuple[str, ...]
    folder: Path


def write_seed_series(folder: Path, *, n: int, size: int, modality: str, patient: tuple[str, str],
                      study_date: str, accession: str, study_description: str,
                      series_description: str, study_uid: str | None = None,
                      series_number: int = 1, seed: int = 0) -> SeedSeries:
    """Write a synthetic series with ``viewer.io.write_series`` and set the study date and
    accession number the search tests filter on."""
    from pydicom import dcmread

    from viewer.io import PatientInfo, write_series

    rng = np.random.default_rng(seed)
    voxels = rng.integers(0, 1000, size=(n, size, size)).astype(np.float32)
    if modality == "CT":
        voxels -= 500.0
    paths = write_series(folder, voxels, modality=modality, spacing=(2.0, 0.9, 0.9),
                         patient=PatientInfo(patient[0], patient[1], "19700101", "O"),
                         study_description=study_description,
                         series_description=series_description, study_uid=study_uid,
                         series_number=series_number)
    sops = []
    for p in paths:
        ds = dcmread(str(p))
        ds.StudyDate = ds.SeriesDate = study_date
        ds.AccessionNumber = accession
        ds.save_as(str(p))
        sops.append(str(ds.SOPInstanceUID))
    ds = dcmread(str(paths[0]), stop_before_pixels=True)
    return SeedSeries(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), patient[0],
                      patient[1], modality, study_date, accession, study_description,
                      series_description, tuple(sops), folder)


@dataclass
class SeededOrthanc:
    """The session server with what it holds: ``brain`` (MR, 2 series), ``abdomen`` (CT) and
    ``big`` (a 120-slice 256 x 256 MR series for cancel and interruption tests)."""

    server: OrthancServer
    brain_t1: SeedSeries
    brain_t2: SeedSeries
    abdomen: SeedSeries
    big: SeedSeries
    shared: list[Path]


def seed(server: OrthancServer, folder: Path) -> SeededOrthanc:
    t1 = write_seed_series(folder / "t1", n=12, size=64, modality="MR",
                           patient=("Doe^Jane", "PAT001"), study_date="20240115",
                           accession="ACC001", study_description="Brain MRI",
                           series_description="T1 axial", seed=1)
    t2 = write_seed_series(folder / "t2", n=8, size=64, modality="MR",
                           patient=("Doe^Jane", "PAT001"), study_date="20240115",
                           accession="ACC001", study_description="Brain MRI",
                           series_description="T2 axial", study_uid=t1.study_uid,
                           series_number=2, seed=2)
    ct = write_seed_series(folder / "ct", n=10, size=64, modality="CT",
                           patient=("Roe^Richard", "PAT002"), study_date="20230610",
                           accession="ACC002", study_description="CT abdomen",
                           series_description="Portal venous", seed=3)
    big = write_seed_series(folder / "big", n=120, size=256, modality="MR",
                            patient=("Big^Series", "PAT003"), study_date="20220301",
                            accession="ACC003", study_description="Long MR",
                            series_description="Many slices", seed=4)
    for s in (t1, t2, ct, big):
        stored = server.store(sorted(s.folder.glob("*.dcm")))
        assert stored == len(s.sop_uids), f"seeding stored {stored} of {len(s.sop_uids)}"
    shared: list[Path] = []
    brain = SHARED_DICOM / "brain_mr_t1_sagittal"
    if brain.is_dir():  # a real series as well, when the shared data is there
        files = sorted(p for p in brain.rglob("*") if p.is_file() and p.suffix.lower() in
                       (".dcm", ""))[:40]
        try:
            server.store(files)
            shared = files
        except Exception:  # noqa: BLE001 - real data is a bonus, never a failure
            shared = []
    return SeededOrthanc(server, t1, t2, ct, big, shared)


@pytest.fixture(scope="session")
def orthanc() -> SeededOrthanc:
    """The session's seeded Orthanc (skips when Orthanc is not installed)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="slicewise-orthanc-"))
    server = OrthancServer(folder / "server").start()
    try:
        yield seed(server, folder / "seed")
    finally:
        server.stop()
        if not os.environ.get(VERBOSE):  # keep the log for whoever chases a flake
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def orthanc_factory(tmp_path: Path):
    """Start fresh, empty Orthanc servers of the test's own (stopped after the test)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    started: list[OrthancServer] = []

    def make(**overrides) -> OrthancServer:
        server = OrthancServer(tmp_path / f"orthanc{len(started)}", overrides=overrides).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()

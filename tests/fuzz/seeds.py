"""Seed files for the fuzzer: real DICOM beside the checkout plus pydicom's own test files."""
from __future__ import annotations

import os
from pathlib import Path

#: Larger seeds make every mutant slow to write and decode; these are plenty.
MAX_SEED_BYTES = 2_000_000

REPO = Path(__file__).resolve().parents[2]
SHARED_DICOM = (REPO / ".." / "shared" / "dicom").resolve()


def _looks_like_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    if head[128:132] == b"DICM":
        return True
    return len(head) >= 4 and int.from_bytes(head[:2], "little") in (0x0002, 0x0008)


def seed_files(include_shared: bool = True) -> list[str]:
    """Sorted absolute paths of the seed files (shared real DICOM when present, then pydicom's
    test files), each at most ``MAX_SEED_BYTES``; the order is stable for a fixed install."""
    out: list[str] = []
    if include_shared and SHARED_DICOM.is_dir():
        for root, dirs, files in os.walk(SHARED_DICOM):
            dirs[:] = sorted(d for d in dirs if d != "Ref")
            for name in sorted(files):
                path = Path(root) / name
                if path.stat().st_size <= MAX_SEED_BYTES and _looks_like_dicom(path):
                    out.append(str(path))
    try:
        from pydicom.data import get_testdata_files
        pyd = get_testdata_files()
    except Exception:  # noqa: BLE001 - pydicom without its test data: shared seeds only
        pyd = []
    for name in sorted(pyd):
        path = Path(name)
        if path.is_file() and path.stat().st_size <= MAX_SEED_BYTES and path.name != "DICOMDIR":
            out.append(str(path))
    return out

"""The desktop entry: SliceWise opens DICOM files, is not offered for every folder, and names
one main category (freedesktop menu spec); desktop-file-validate is the oracle when installed
(Debian package desktop-file-utils)."""
from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

ENTRY = Path(__file__).resolve().parents[2] / "resources" / "slicewise.desktop"
MAIN_CATEGORIES = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics",
                   "Network", "Office", "Science", "Settings", "System", "Utility"}


def _entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(ENTRY)
    return parser["Desktop Entry"]


def test_mime_types_and_one_main_category() -> None:
    entry = _entry()
    mimes = [m for m in entry["MimeType"].split(";") if m]
    assert mimes == ["application/dicom"]                    # not "Open with" for every folder
    categories = [c for c in entry["Categories"].split(";") if c]
    assert len(set(categories) & MAIN_CATEGORIES) == 1


def test_desktop_file_validate_has_nothing_to_say() -> None:
    exe = shutil.which("desktop-file-validate")
    if exe is None:
        pytest.skip("desktop-file-validate not installed (Debian package desktop-file-utils)")
    out = subprocess.run([exe, str(ENTRY)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and not (out.stdout + out.stderr).strip(), out.stdout + out.stderr

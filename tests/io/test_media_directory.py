"""DICOMDIR variants pydicom reads (byte orders, offsets, record order, empty, other names):
discovery must list the same images as pydicom's own FileSet."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.fileset import FileSet

from viewer.io import discover

VARIANTS = ["DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit", "DICOMDIR-nooffset",
            "DICOMDIR-reordered"]


def _dicomdir_folder() -> Path:
    path = get_testdata_file("DICOMDIR")
    if path is None:
        pytest.skip("pydicom's dicomdirtests are not installed")
    return Path(path).parent


def _pydicom_listing(path: Path) -> set[str]:
    """The instance files pydicom's FileSet lists (independent oracle)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "invalid transfer syntax" for big endian / implicit
        fs = FileSet(pydicom.dcmread(path))
    return {str(Path(i.path).resolve()) for i in fs}


def _files(result) -> set[str]:
    return {str(Path(f).resolve()) for s in result.series for f in s.files}


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_lists_pydicoms_instances(name: str) -> None:
    path = _dicomdir_folder() / name
    expected = _pydicom_listing(path)
    result = discover(path)
    assert len(expected) == 31
    assert _files(result) == expected
    assert result.skipped == ()


def test_record_without_patient_type_still_lists_its_files() -> None:
    # pydicom's FileSet refuses this one; the plain record walk still reads it.
    path = _dicomdir_folder() / "DICOMDIR-nopatient"
    assert _files(discover(path)) == _pydicom_listing(_dicomdir_folder() / "DICOMDIR")


def test_empty_dicomdir_says_so_and_scans_its_folder(tmp_path: Path) -> None:
    empty = _dicomdir_folder() / "DICOMDIR-empty.dcm"
    shutil.copy(empty, tmp_path / "DICOMDIR")
    image = get_testdata_file("CT_small.dcm")
    shutil.copy(image, tmp_path / "IMG0001")
    for target in (tmp_path / "DICOMDIR", empty):
        result = discover(target)
        assert any("lists no images" in s.reason and "scanned" in s.reason
                   for s in result.skipped)
    result = discover(tmp_path / "DICOMDIR")
    assert [Path(f).name for s in result.series for f in s.files] == ["IMG0001"]


def test_dicomdir_under_another_name(tmp_path: Path) -> None:
    tree = tmp_path / "cd"
    shutil.copytree(_dicomdir_folder(), tree)
    renamed = tree / "index.dcm"
    (tree / "DICOMDIR-bigEnd").rename(renamed)
    result = discover(renamed)
    assert len(_files(result)) == 31
    assert not any("DICOMDIR index file" in s.reason for s in result.skipped)


def test_listed_files_missing_falls_back_to_folder_scan(tmp_path: Path) -> None:
    shutil.copy(_dicomdir_folder() / "DICOMDIR", tmp_path / "DICOMDIR")
    shutil.copy(get_testdata_file("MR_small.dcm"), tmp_path / "mr.dcm")
    result = discover(tmp_path / "DICOMDIR")
    reasons = [s.reason for s in result.skipped]
    assert any("None of the 31 files listed" in r and "scanned" in r for r in reasons), reasons
    assert [Path(f).name for s in result.series for f in s.files] == ["mr.dcm"]


def test_lower_case_copy_of_an_upper_case_cd(tmp_path: Path) -> None:
    tree = tmp_path / "cd"
    shutil.copytree(_dicomdir_folder() / "77654033", tree / "77654033")
    shutil.copy(_dicomdir_folder() / "DICOMDIR", tree / "DICOMDIR")
    for path in sorted(tree.rglob("*"), key=lambda p: -len(p.parts)):
        if path.name != "DICOMDIR" and path.name != path.name.lower():
            path.rename(path.with_name(path.name.lower()))
    result = discover(tree / "DICOMDIR")
    listed = {p.relative_to(_dicomdir_folder()).as_posix().lower()
              for p in map(Path, _pydicom_listing(_dicomdir_folder() / "DICOMDIR"))
              if p.relative_to(_dicomdir_folder()).parts[0] == "77654033"}
    found = {Path(f).relative_to(tree.resolve()).as_posix() for f in _files(result)}
    assert found == listed and len(listed) > 0
    missing = [s for s in result.skipped if "missing on disk" in s.reason]
    assert len(missing) == 31 - len(listed)


def test_is_dicomdir_agrees_with_pydicoms_meta_read_on_every_test_file(tmp_path: Path) -> None:
    """The byte-level pre-check (no "DICM", or a meta group without the Media Storage Directory
    UID) never answers differently from reading the file meta information with pydicom."""
    import os

    from viewer.io.dataset_read import MEDIA_STORAGE_DIRECTORY
    from viewer.io.media_directory import is_dicomdir

    root = Path(pydicom.data.__file__).parent
    files = [p for p in root.rglob("*") if p.is_file() and p.name.upper() != "DICOMDIR"]
    for name in VARIANTS[1:]:           # DICOMDIRs under other names, copied to plain names
        src = get_testdata_file(name)
        if src is not None:
            files.append(Path(shutil.copy(src, tmp_path / f"{name}.dcm")))
    (tmp_path / "short").write_bytes(b"DICM")
    (tmp_path / "text.txt").write_text("not dicom\n" * 40)
    files += [tmp_path / "short", tmp_path / "text.txt"]
    found = 0
    for path in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                meta = pydicom.filereader.read_file_meta_info(os.fspath(path))
            want = str(meta.get("MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY
        except Exception:  # noqa: BLE001 - pydicom refusing the file means "not a DICOMDIR"
            want = False
        assert is_dicomdir(path) == want, path
        found += want
    assert found >= 1 or get_testdata_file("DICOMDIR-bigEnd") is None

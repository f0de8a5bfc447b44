"""The byte-level header walk that keeps damaged lengths away from GDCM's scanner.

The oracle is pydicom: a file pydicom reads with every length inside the file must pass; a file
whose one length field claims more than the file holds must not (GDCM would allocate it: 2 GB
for a 740-byte fuzzed file), and discovery must still answer for it through pydicom.
"""
from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.io.conftest import ramp_volume
from viewer.io import discover, write_series
from viewer.io.header_walk import lengths_fit


def _one(tmp_path: Path) -> Path:
    return Path(write_series(tmp_path / "s", ramp_volume((1, 8, 8)), modality="CT")[0])


def test_a_plain_file_fits(tmp_path: Path) -> None:
    assert lengths_fit(str(_one(tmp_path)))


@pytest.mark.parametrize("name", ["MR_small_implicit.dcm", "CT_small.dcm", "JPEG2000.dcm",
                                  "MR_small_RLE.dcm"])
def test_pydicom_files_fit(name: str) -> None:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not installed")
    assert lengths_fit(path)


def test_nested_sequences_of_undefined_length_are_walked(tmp_path: Path) -> None:
    path = _one(tmp_path)
    ds = pydicom.dcmread(path)
    inner = Dataset()
    inner.CodeValue = "123"
    outer = Dataset()
    outer.ConceptNameCodeSequence = Sequence([inner])
    ds.ProcedureCodeSequence = Sequence([outer, Dataset()])
    ds.ProcedureCodeSequence.is_undefined_length = True
    ds.ProcedureCodeSequence[0].is_undefined_length_sequence_item = True
    for implicit in (False, True):
        if implicit:
            ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        pydicom.dcmwrite(path, ds, implicit_vr=implicit, little_endian=True)
        assert pydicom.dcmread(path).ProcedureCodeSequence[0].ConceptNameCodeSequence
        assert lengths_fit(str(path)), implicit


def test_a_length_beyond_the_file_is_refused_and_discovery_still_answers(tmp_path: Path
                                                                       ) -> None:
    path = _one(tmp_path)
    data = bytearray(path.read_bytes())
    at = data.find(b"\x08\x00\x60\x00CS")  # (0008,0060) Modality, explicit VR: 2-byte length
    assert at > 0
    data[at + 4:at + 8] = b"UN\x00\x00"  # now a long-VR element ...
    data[at + 8:at + 12] = (0x7FFFFFF0).to_bytes(4, "little")  # ... claiming 2 GB
    path.write_bytes(bytes(data))
    assert not lengths_fit(str(path))
    result = discover(str(path))  # read by pydicom, which names the damage or reads past it
    assert len(result.series) + len(result.skipped) == 1
    assert all(s.reason for s in result.skipped)


def test_short_or_foreign_files_are_not_vouched_for(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not DICOM")
    assert not lengths_fit(str(text))
    assert not lengths_fit(str(tmp_path / "missing.dcm"))

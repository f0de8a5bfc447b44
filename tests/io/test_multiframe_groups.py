"""Frame grouping of enhanced multi-frame headers (synthetic headers, no pixel data)."""
from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from viewer.io.multiframe import frame_groups

STACK, IN_STACK, TIME, ECHO = 0x00209056, 0x00209057, 0x00209128, 0x00189082


def _header(frames: list[dict], dims: list[int]) -> Dataset:
    """Each frame: z (mm), stack, dims values, frame type (last value)."""
    ds = Dataset()
    ds.NumberOfFrames = len(frames)
    index = []
    for tag in dims:
        item = Dataset()
        item.DimensionIndexPointer = tag
        index.append(item)
    ds.DimensionIndexSequence = Sequence(index)
    per_frame = []
    for f in frames:
        group = Dataset()
        content = Dataset()
        content.StackID = f.get("stack", "1")
        content.DimensionIndexValues = f["dims"]
        group.FrameContentSequence = Sequence([content])
        position = Dataset()
        position.ImagePositionPatient = [0.0, 0.0, f["z"]]
        group.PlanePositionSequence = Sequence([position])
        frame_type = Dataset()
        frame_type.FrameType = ["ORIGINAL", "PRIMARY", "M", f.get("type", "M")]
        group.MRImageFrameTypeSequence = Sequence([frame_type])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    shared = Dataset()
    plane = Dataset()
    plane.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = Sequence([plane])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    return ds


def test_one_set_is_not_split() -> None:
    ds = _header([{"z": z, "dims": [1, k + 1]} for k, z in enumerate((0, 2, 4))],
                 [STACK, IN_STACK])
    assert frame_groups(ds) == ()


def test_two_stacks_are_two_sets() -> None:
    frames = [{"z": z, "stack": s, "dims": [int(s), k + 1]}
              for s in ("1", "2") for k, z in enumerate((0, 2, 4))]
    groups = frame_groups(_header(frames, [STACK, IN_STACK]))
    assert [g.label for g in groups] == ["stack 1", "stack 2"]
    assert [g.indices for g in groups] == [(0, 1, 2), (3, 4, 5)]


def test_echoes_at_the_same_positions_are_split_by_dimension() -> None:
    frames = [{"z": z, "dims": [1, k + 1, e]} for k, z in enumerate((0, 2)) for e in (1, 2)]
    groups = frame_groups(_header(frames, [STACK, IN_STACK, ECHO]))
    assert [g.indices for g in groups] == [(0, 2), (1, 3)]
    assert all(g.positions == ((0.0, 0.0, 0.0), (0.0, 0.0, 2.0)) for g in groups)


def test_dimension_that_only_numbers_slices_does_not_split() -> None:
    frames = [{"z": z, "dims": [1, k + 1, k + 10]} for k, z in enumerate((0, 2, 4))]
    assert frame_groups(_header(frames, [STACK, IN_STACK, ECHO])) == ()


def test_time_points_keep_the_first_with_a_note() -> None:
    frames = [{"z": z, "dims": [1, k + 1, t]} for t in (1, 2, 3) for k, z in enumerate((0, 2))]
    (group,) = frame_groups(_header(frames, [STACK, IN_STACK, TIME]))
    assert group.indices == (0, 1)
    assert group.note == ("4-D series: 3 time points of 2 slices; SliceWise shows the first "
                          "time point")


def test_frame_types_are_labelled_by_what_differs() -> None:
    frames = [{"z": z, "type": t, "dims": [1, k + 1]}
              for t in ("M", "FIELD_MAP") for k, z in enumerate((0, 4))]
    groups = frame_groups(_header(frames, [STACK, IN_STACK]))
    assert [g.label for g in groups] == ["M", "FIELD_MAP"]
    assert groups[0].orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

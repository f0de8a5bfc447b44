"""Enhanced multi-frame files holding several image sets: split the frames into series.

One enhanced file may interleave frames of different kinds at the same positions: magnitude and
field map (FrameType ``...\\M`` and ``...\\FIELD_MAP``), several stacks (StackID), echoes or other
dimensions (DimensionIndexValues). Shown as one stack they would repeat positions, mix units and
share one window. ``frame_groups`` sorts the frames into groups of one frame type, one stack and
one value of every other dimension, each with its own geometry (per-frame
PlanePositionSequence, PlaneOrientationSequence, PixelMeasuresSequence) and window
(FrameVOILUTSequence); rescale stays per frame (viewer.io.pixels.frame_rescales). A temporal
dimension is not split into series: a group with several time points keeps the first one, with a
note.

Frame indices are 0-based, in storage order. Positions are patient LPS mm ``(x, y, z)``.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_STACK_ID = 0x00209056
_IN_STACK_POSITION = 0x00209057
_TEMPORAL_POSITION_INDEX = 0x00209128
_GROUPS = ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence")


@dataclass(frozen=True)
class FrameGroup:
    """One image set inside a multi-frame file.

    ``label``: what tells it from the file's other sets (``"M"``, ``"FIELD_MAP"``, ``"stack 2"``).
    ``indices``: its frames (0-based, storage order). ``positions``: ImagePositionPatient of each
    of them (None where missing). ``orientation``: six direction cosines; ``pixel_spacing``:
    (row, column) mm; ``window``: (center, width) from its first frame's FrameVOILUTSequence.
    ``note``: e.g. the time points left out, else "".
    """

    label: str
    indices: tuple[int, ...]
    positions: tuple[tuple[float, float, float] | None, ...]
    orientation: tuple[float, ...]
    pixel_spacing: tuple[float, float] | None
    window: tuple[float, float] | None
    note: str = ""


def _item(ds: Any, frame: int, sequence: str) -> Any:
    """The ``sequence`` item for ``frame``: per-frame group first, then the shared group."""
    for keyword, index in zip(_GROUPS, (frame, 0)):
        groups = ds.get(keyword)
        if groups is not None and len(groups) > index:
            seq = groups[index].get(sequence)
            if seq:
                return seq[0]
    return None


def _floats(value: Any) -> tuple[float, ...]:
    try:
        if value is None:
            return ()
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            return (float(value),)
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return ()


def _frame_type(ds: Any, frame: int) -> tuple[str, ...]:
    """FrameType of ``frame`` from its (MR/CT/PET/...) ImageFrameTypeSequence, else ()."""
    for keyword, index in zip(_GROUPS, (frame, 0)):
        groups = ds.get(keyword)
        if groups is None or len(groups) <= index:
            continue
        for element in groups[index]:
            if element.keyword.endswith("FrameTypeSequence") and element.value:
                value = element.value[0].get("FrameType")
                if value:
                    return tuple(str(v) for v in ([value] if isinstance(value, str) else value))
    return ()


def _dimension_labels(ds: Any) -> list[tuple[int, str]]:
    """(pointer tag as int, readable label) of each DimensionIndexSequence item, in order."""
    out = []
    for item in ds.get("DimensionIndexSequence") or []:
        pointer = item.get("DimensionIndexPointer")
        tag = int(pointer) if pointer is not None else -1
        label = str(item.get("DimensionDescriptionLabel") or "") or f"dimension {len(out) + 1}"
        out.append((tag, label))
    return out


def _differing(values: Sequence[tuple[str, ...]]) -> list[str]:
    """Per value: the elements that differ between the tuples, joined (``"M"``/``"FIELD_MAP"``)."""
    width = max(len(v) for v in values)
    padded = [tuple(v) + ("",) * (width - len(v)) for v in values]
    columns = [i for i in range(width) if len({p[i] for p in padded}) > 1]
    return [" ".join(p[i] for i in columns if p[i]) or "frames" for p in padded]


def frame_groups(ds: Any) -> tuple[FrameGroup, ...]:
    """The image sets of an enhanced multi-frame header, or () when all frames form one set
    (nothing to split and nothing left out)."""
    frames = int(ds.get("NumberOfFrames") or 1)
    if frames < 2 or "PerFrameFunctionalGroupsSequence" not in ds:
        return ()
    dims = _dimension_labels(ds)
    other_dims = [i for i, (tag, _) in enumerate(dims)
                  if tag not in (_STACK_ID, _IN_STACK_POSITION, _TEMPORAL_POSITION_INDEX)]
    time_dim = next((i for i, (tag, _) in enumerate(dims) if tag == _TEMPORAL_POSITION_INDEX),
                    None)
    keys: "OrderedDict[tuple, list[int]]" = OrderedDict()
    times: dict[int, Any] = {}
    for k in range(frames):
        content = _item(ds, k, "FrameContentSequence")
        stack = str(content.get("StackID", "") or "") if content is not None else ""
        values = list(content.get("DimensionIndexValues") or []) if content is not None else []
        if not isinstance(values, list):
            values = [values]
        other = tuple(values[i] for i in other_dims if i < len(values)) \
            if len(values) == len(dims) else ()
        if time_dim is not None and len(values) == len(dims):
            times[k] = values[time_dim]
        keys.setdefault((_frame_type(ds, k), stack, other), []).append(k)
    groups = _merge_without_repeats(ds, keys)
    labelled = _labels(list(groups), dims, other_dims)
    out = []
    for label, indices in zip(labelled, groups.values()):
        indices, note = _first_time_point(ds, indices, times)
        out.append(_group(ds, label, indices, note))
    if len(out) == 1 and not out[0].note:
        return ()
    return tuple(out)


def _position(ds: Any, frame: int) -> tuple[float, float, float] | None:
    item = _item(ds, frame, "PlanePositionSequence")
    pos = _floats(item.get("ImagePositionPatient")) if item is not None else ()
    return pos if len(pos) == 3 else None  # type: ignore[return-value]


def _merge_without_repeats(ds: Any, keys: "OrderedDict[tuple, list[int]]"
                           ) -> "OrderedDict[tuple, list[int]]":
    """Dimension values split a set only where they separate frames at the same position:
    groups of one frame type and stack whose positions never repeat are merged back into one
    (a dimension that merely numbers the slices is no reason for separate series)."""
    by_kind: "OrderedDict[tuple, list[tuple]]" = OrderedDict()
    for key in keys:
        by_kind.setdefault(key[:2], []).append(key)
    out: "OrderedDict[tuple, list[int]]" = OrderedDict()
    for kind, members in by_kind.items():
        frames = sorted(k for key in members for k in keys[key])
        positions = [_position(ds, k) for k in frames]
        rounded = [tuple(round(v, 2) for v in p) for p in positions if p is not None]
        if len(members) == 1 or len(set(rounded)) == len(frames):
            out[kind + ((),)] = frames
        else:
            for key in members:
                out[key] = keys[key]
    return out


def _labels(keys: list[tuple], dims: list[tuple[int, str]], other_dims: list[int]) -> list[str]:
    if len(keys) == 1:
        return [""]
    parts: list[list[str]] = [[] for _ in keys]
    if len({k[0] for k in keys}) > 1:
        for p, text in zip(parts, _differing([k[0] for k in keys])):
            p.append(text)
    if len({k[1] for k in keys}) > 1:
        for p, key in zip(parts, keys):
            p.append(f"stack {key[1]}")
    if len({k[2] for k in keys}) > 1:
        names = [dims[i][1] for i in other_dims]
        for p, key in zip(parts, keys):
            changed = [f"{name} {value}" for n, (name, value) in enumerate(zip(names, key[2]))
                       if len({k[2][n] for k in keys if len(k[2]) > n}) > 1]
            p.append(", ".join(changed))
    return [" ".join(x for x in p if x) or f"set {n + 1}" for n, p in enumerate(parts)]


def _first_time_point(ds: Any, indices: list[int], times: dict[int, Any]
                      ) -> tuple[list[int], str]:
    """Frames of the first time point when a set repeats positions over time, with a note."""
    values = [times[k] for k in indices if k in times]
    if len(values) != len(indices) or len(set(values)) < 2:
        return indices, ""
    first = min(values)
    kept = [k for k in indices if times[k] == first]
    return kept, (f"4-D series: {len(set(values))} time points of {len(kept)} slices; "
                  "SliceWise shows the first time point")


def _group(ds: Any, label: str, indices: list[int], note: str) -> FrameGroup:
    first = indices[0]
    plane = _item(ds, first, "PlaneOrientationSequence")
    orientation = _floats(plane.get("ImageOrientationPatient")) if plane is not None else ()
    measures = _item(ds, first, "PixelMeasuresSequence")
    spacing = _floats(measures.get("PixelSpacing")) if measures is not None else ()
    voi = _item(ds, first, "FrameVOILUTSequence")
    center = _floats(voi.get("WindowCenter"))[:1] if voi is not None else ()
    width = _floats(voi.get("WindowWidth"))[:1] if voi is not None else ()
    window = (center[0], width[0]) if center and width and width[0] > 0 else None
    return FrameGroup(
        label=label, indices=tuple(indices),
        positions=tuple(_position(ds, k) for k in indices),
        orientation=orientation if len(orientation) == 6 else (),
        pixel_spacing=(spacing[0], spacing[1]) if len(spacing) >= 2 else None,
        window=window, note=note)


def split_by_frame_group(header: Any) -> list[Any]:
    """One ``FileHeader`` per frame group of ``header`` (itself when it has none): frames,
    positions, orientation, spacing and window of the group, ``frame_indices`` and
    ``frame_group`` set, the group's note added to ``notes``."""
    groups: tuple[FrameGroup, ...] = getattr(header, "frame_groups", ())
    if not groups:
        return [header]
    out = []
    acquisition = getattr(header, "acquisition", None)
    for group in groups:
        positions = group.positions
        acq = acquisition if acquisition is None else dataclasses.replace(   # FrameType codes too
            acquisition, image_type=(*acquisition.image_type, *group.label.upper().split()))
        out.append(dataclasses.replace(
            header, acquisition=acq, frames=len(group.indices), frame_positions=positions,
            position=positions[0] if positions else header.position,
            orientation=group.orientation or header.orientation,
            pixel_spacing=group.pixel_spacing or header.pixel_spacing,
            window=group.window or header.window, frame_indices=group.indices,
            frame_group=group.label, frame_groups=(),
            notes=tuple(header.notes) + ((group.note,) if group.note else ())))
    return out


def header_for(header: Any, frame_indices: Sequence[int]) -> Any:
    """The part of ``header`` (a file's full header) with these ``frame_indices``; the header
    itself when it is not split or no part matches."""
    if not frame_indices:
        return header
    for part in split_by_frame_group(header):
        if tuple(part.frame_indices) == tuple(frame_indices):
            return part
    return header

"""Find the series under some paths: header-only reads, grouping, problems as data.

``discover`` accepts a folder (searched recursively), a single file, several paths, or a DICOMDIR.
Images are grouped by SeriesInstanceUID and split further when one UID mixes image sizes or
orientations. Everything passed over (non-DICOM, damaged, non-image objects) is listed with a
reason in ``DiscoveryResult.skipped``; one bad file never stops discovery.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from viewer.io.geometry import analyse_stack, same_orientation, series_orientation_label
from viewer.io.headers import FileHeader, NotAnImage, UnreadableFile, header_from_dataset, read_dataset
from viewer.io.media_directory import is_dicomdir, list_dicomdir
from viewer.io.multiframe import split_by_frame_group
from viewer.io.records import DiscoveryResult, SeriesInfo, SkippedFile
from viewer.io.scan import ScannedImage, scan
from viewer.io.warnings_capture import library_messages

ProgressCallback = Callable[[int, int], None]
_IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: Files scanned by GDCM in one pass (progress and cancellation are checked per file after it).
_SCAN_BATCH = 256


def _walk(folder: Path) -> list[str]:
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.join(root, f) for f in sorted(files)
                   if f not in _IGNORED_NAMES and not f.startswith("."))
    return out


def _expand(paths: Sequence[str | os.PathLike[str]], skipped: list[SkippedFile]) -> list[str]:
    files: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(_walk(p))
        elif p.is_file():
            if is_dicomdir(p):
                listing = list_dicomdir(p)
                files.extend(listing.files)
                skipped.extend(listing.skipped)
                if listing.scan_folder:
                    itself = os.path.realpath(p)
                    files.extend(f for f in _walk(p.parent) if os.path.realpath(f) != itself)
            else:
                files.append(str(p))
        else:
            skipped.append(SkippedFile(str(p), "No such file or folder"))
    seen: set[str] = set()
    unique = []
    for f in files:
        key = os.path.realpath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _split(headers: list[FileHeader]) -> list[tuple[str, list[FileHeader]]]:
    """Split one SeriesInstanceUID into parts of one frame set (of multi-frame files holding
    several), one image size and one orientation. Returns (uid suffix, members) pairs."""
    by_set: "OrderedDict[str, list[FileHeader]]" = OrderedDict()
    for h in headers:
        by_set.setdefault(h.frame_group, []).append(h)
    parts: list[tuple[str, list[FileHeader]]] = []
    for f_index, in_set in enumerate(by_set.values()):
        set_suffix = f".f{f_index + 1}" if len(by_set) > 1 else ""
        parts.extend((set_suffix + suffix, g) for suffix, g in _split_geometry(in_set))
    return parts


def _split_geometry(headers: list[FileHeader]) -> list[tuple[str, list[FileHeader]]]:
    """Split headers of one frame set into parts of one image size and one orientation."""
    by_size: "OrderedDict[tuple[int, int, int, int], list[FileHeader]]" = OrderedDict()
    for h in headers:
        by_size.setdefault((h.rows, h.columns, h.frames > 1, h.samples_per_pixel), []).append(h)
    parts: list[tuple[str, list[FileHeader]]] = []
    for s_index, members in enumerate(by_size.values()):
        size_suffix = f".s{s_index + 1}" if len(by_size) > 1 else ""
        groups: list[list[FileHeader]] = []
        for h in members:
            for g in groups:
                if same_orientation(g[0].orientation, h.orientation):
                    g.append(h)
                    break
            else:
                groups.append([h])
        for o_index, g in enumerate(groups):
            parts.append((size_suffix + (f".o{o_index + 1}" if len(groups) > 1 else ""), g))
    return parts


def _label(orientation: Sequence[float]) -> str:
    """Plane label; "unknown" without ImageOrientationPatient (never an invented "oblique")."""
    return series_orientation_label(orientation)


def _shared_patient_orientation(members: Sequence[FileHeader]) -> tuple[str, ...]:
    """PatientOrientation common to all members, () when absent or when they disagree."""
    values = {m.patient_orientation for m in members}
    return values.pop() if len(values) == 1 else ()


def _multiframe_geometry(members: list[FileHeader]) -> tuple[list[FileHeader], int, list[str]]:
    """Files (in time order), frames per file and warnings of a multi-frame part."""
    first = members[0]
    warnings: list[str] = []
    if len(members) > 1:
        same_frames = all(m.frames == first.frames for m in members)
        same_positions = same_frames and all(
            m.frame_positions == first.frame_positions for m in members)
        if same_positions:
            warnings.append(
                f"4-D series: {len(members)} time points of {first.frames} slices; "
                "Ctrl+Up / Ctrl+Down browse the time points"
            )
        else:
            warnings.append(
                f"{len(members)} multi-frame files in one series: SliceWise shows the first "
                f"file's {first.frames} frames"
            )
    if first.frame_positions and all(p is not None for p in first.frame_positions):
        geo = analyse_stack(list(first.frame_positions), first.orientation)
        warnings.extend(geo.warnings)
    elif first.frames < 3:
        warnings.append(f"Only {first.frames} slices: 3D tools are off")
    return members, first.frames, warnings


def _split_note(parts: list[tuple[str, list[FileHeader]]], index: int) -> str:
    """The note on a series that had to be split (by orientation and/or image size)."""
    firsts = [p[1][0] for p in parts]
    if len({h.frame_group for h in firsts}) > 1:
        labels = [h.frame_group for h in firsts]
        return (f"This file holds {len(parts)} image sets ({', '.join(labels)}): split into "
                f"separate series; this is part {index + 1} of {len(parts)} ({labels[index]})")
    sizes = {(h.rows, h.columns, h.frames > 1) for h in firsts}
    orientations = [_label(h.orientation) for h in firsts]
    if len(sizes) == 1:
        kind, labels = "image orientations", orientations
    else:
        labels = [f"{h.columns}x{h.rows}" + (" multi-frame" if h.frames > 1 else "")
                  for h in firsts]
        kind = "image sizes" if len(set(labels)) == len(labels) else "image sizes and orientations"
        if kind != "image sizes":
            labels = [f"{o} {lab}" for o, lab in zip(orientations, labels)]
    return (f"This series mixed {len(parts)} {kind} ({', '.join(labels)}): split into separate "
            f"series; this is part {index + 1} of {len(parts)} ({labels[index]})")


def _series_record(uid_suffix: str, members: list[FileHeader], split_note: str) -> SeriesInfo:
    first = members[0]
    warnings: list[str] = [split_note] if split_note else []
    warnings.extend(first.notes)
    step: float | None = None
    if first.frames > 1:
        members, frames, extra = _multiframe_geometry(members)
        warnings.extend(extra)
        if first.frame_positions and all(p is not None for p in first.frame_positions):
            step = analyse_stack(list(first.frame_positions), first.orientation).step
        files = tuple(m.path for m in members)
    else:
        frames = 1
        members = sorted(members, key=lambda m: (m.instance_number is None,
                                                 m.instance_number or 0, m.path))
        geo = analyse_stack([m.position for m in members], first.orientation)
        members = [members[i] for i in geo.order]
        warnings.extend(geo.warnings)
        step = geo.step
        files = tuple(m.path for m in members)
    warnings.extend(dict.fromkeys(n for m in members for n in m.notes))
    return SeriesInfo(
        uid=(first.series_instance_uid or "no-series-uid") + uid_suffix,
        series_instance_uid=first.series_instance_uid,
        study_instance_uid=first.study_instance_uid,
        modality=first.modality,
        description=(f"{first.description} ({first.frame_group})" if first.frame_group
                     else first.description),
        study_description=first.study_description,
        patient=first.patient,
        files=files,
        rows=first.rows,
        columns=first.columns,
        frames_per_file=frames,
        series_number=first.series_number,
        orientation=_label(first.orientation),
        image_orientation=first.orientation,
        pixel_spacing=first.pixel_spacing,
        slice_step=step,
        photometric=first.photometric,
        transfer_syntax=first.transfer_syntax,
        warnings=tuple(warnings),
        patient_orientation=_shared_patient_orientation(members),
        mosaic_tiles=first.mosaic_tiles,
        frame_indices=first.frame_indices,
        frame_of_reference_uid=first.frame_of_reference_uid,
        study_date=first.study_date,
        body_part=first.body_part,
        acquisition=first.acquisition,
    )


def group_headers(headers: Iterable[FileHeader]) -> list[SeriesInfo]:
    """Series records from image headers, ordered by study, series number and description."""
    by_uid: "OrderedDict[str, list[FileHeader]]" = OrderedDict()
    for h in headers:
        key = h.series_instance_uid or f"no-uid:{h.study_instance_uid}:{h.series_number}:" \
                                       f"{os.path.dirname(h.path)}"
        by_uid.setdefault(key, []).append(h)
    series: list[SeriesInfo] = []
    for members in by_uid.values():
        parts = _split(members)
        for index, (suffix, part) in enumerate(parts):
            note = _split_note(parts, index) if len(parts) > 1 else ""
            series.append(_series_record(suffix, part, note))
    series.sort(key=lambda s: (s.study_instance_uid, s.series_number is None,
                               s.series_number or 0, s.uid))
    return series


def _read_header(path: str, skipped: list[SkippedFile]) -> FileHeader | None:
    """Full pydicom header of ``path``, or None with the reason added to ``skipped``."""
    try:
        return header_from_dataset(path, read_dataset(path))
    except (UnreadableFile, NotAnImage) as exc:
        skipped.append(SkippedFile(path, str(exc.args[0])))
    except Exception as exc:  # noqa: BLE001 - one odd header must not stop discovery
        skipped.append(SkippedFile(path, f"Damaged DICOM header ({type(exc).__name__}: {exc})"))
    return None


def discover(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    progress: ProgressCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DiscoveryResult:
    """Find every series under ``paths`` (folders recursively, files, DICOMDIRs).

    Reads headers only. ``progress(done, total)`` is called after each file; when
    ``cancelled()`` returns True discovery stops early and returns what it grouped so far
    (no exception). Never raises for a bad file: it lands in ``skipped`` with a reason.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    skipped: list[SkippedFile] = []
    files = _expand(list(paths), skipped)
    headers: list[FileHeader] = []
    total = len(files)
    # First file of each series part: full pydicom header, reused for the part's descriptive
    # values; the other files take their per-file values from the GDCM scan (see viewer.io.scan).
    templates: dict[tuple, FileHeader] = {}
    scanned: dict[str, ScannedImage] = {}
    for index, path in enumerate(files):
        if cancelled is not None and cancelled():
            break
        if index % _SCAN_BATCH == 0:
            with library_messages(native=True):  # odd UIDs, GDCM's stderr: logged only
                scanned = scan(files[index:index + _SCAN_BATCH])
        image = scanned.get(path)
        template = templates.get(image.template_key) if image is not None else None
        if image is not None and template is not None:
            headers.append(image.header(template))
        else:
            header = _read_header(path, skipped)
            if header is not None:
                headers.append(header)
                if image is not None and image.header(header) == header:
                    templates[image.template_key] = header  # GDCM and pydicom agree
        if progress is not None:
            progress(index + 1, total)
    headers = [part for h in headers for part in split_by_frame_group(h)]
    return DiscoveryResult(series=tuple(group_headers(headers)), skipped=tuple(skipped))

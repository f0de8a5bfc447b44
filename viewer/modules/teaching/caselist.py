"""Case lists for teaching sessions and reader studies: JSON or CSV, hand-written or built in-app.

A case names a study (folder or file, relative paths resolved against the list's folder), an
optional series (UID, SeriesInstanceUID or a word of its description), the key slice (1-based;
0 = middle of the series) and an optional slice range the reader may scroll, the question, two to
nine answer options (answer keys 1..9), the true label, teaching notes, and optionally the model
whose result is revealed after the answer (a registered model name or a manifest ``.json`` path),
the class it explains, and a ground-truth mask (``.npy`` bool (z, y, x)) for the pointing game.

JSON: ``{"title": "...", "cases": [{"id": ..., "study": ..., "slice": 12, "range": [10, 14],
"question": ..., "options": [...], "truth": ..., "notes": ..., "model": ...}]}``.
CSV: header ``id,study,series,slice,range,question,options,truth,notes,model,target,mask`` with
``options`` separated by ``|`` and ``range`` written ``A-B``.

No Qt, no torch. Problems raise :class:`CaseListError` listing every bad row.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

MAX_OPTIONS = 9
CSV_FIELDS = ("id", "study", "series", "slice", "range", "question", "options", "truth", "notes",
              "model", "target", "mask")
OPTION_SEP = "|"
_ROW_ERROR = "__row_error__"


class CaseListError(ValueError):
    """A case list that cannot be used; ``problems`` has one line per bad row or field."""

    def __init__(self, source: str, problems: list[str] | tuple[str, ...]) -> None:
        self.source = source
        self.problems = tuple(problems)
        head = f"{source}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class Case:
    """One quiz case. ``slice`` is 1-based (0 = middle slice); ``slice_range`` 1-based inclusive
    (None = whole series). ``study``, ``mask`` and a ``.json`` ``model`` are absolute after loading."""

    case_id: str
    study: str
    question: str
    options: tuple[str, ...]
    truth: str
    series: str = ""
    slice: int = 0
    slice_range: tuple[int, int] | None = None
    notes: str = ""
    model: str = ""
    target: str = ""
    mask: str = ""

    def option_index(self, label: str) -> int:
        """Index of ``label`` among the options (case-insensitive), -1 when absent."""
        low = label.strip().lower()
        for n, opt in enumerate(self.options):
            if opt.lower() == low:
                return n
        return -1

    def to_json(self, relative_to: Path | None = None) -> dict[str, Any]:
        """The case as written to a JSON list (paths relative to ``relative_to`` when inside it)."""
        doc: dict[str, Any] = {"id": self.case_id, "study": _rel(self.study, relative_to)}
        if self.series:
            doc["series"] = self.series
        doc["slice"] = self.slice
        if self.slice_range is not None:
            doc["range"] = list(self.slice_range)
        doc.update(question=self.question, options=list(self.options), truth=self.truth)
        for key, value in (("notes", self.notes), ("model", _rel(self.model, relative_to)),
                           ("target", self.target), ("mask", _rel(self.mask, relative_to))):
            if value:
                doc[key] = value
        return doc


@dataclass(frozen=True)
class CaseList:
    """An ordered list of cases; ``source`` is the file it came from (None when built in memory)."""

    title: str
    cases: tuple[Case, ...]
    source: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cases)

    def case(self, case_id: str) -> Case:
        """The case called ``case_id`` (KeyError naming the known ids when absent)."""
        for c in self.cases:
            if c.case_id == case_id:
                return c
        raise KeyError(f"no case {case_id!r} in {self.title!r}; cases: "
                       + ", ".join(c.case_id for c in self.cases))

    def with_case(self, case: Case) -> CaseList:
        """A copy with ``case`` appended (or replacing the case with the same id)."""
        kept = [c for c in self.cases if c.case_id != case.case_id]
        if len(kept) == len(self.cases):
            return replace(self, cases=self.cases + (case,))
        return replace(self, cases=tuple(case if c.case_id == case.case_id else c
                                         for c in self.cases))


def _rel(path: str, base: Path | None) -> str:
    if not path or base is None or not Path(path).is_absolute():
        return path
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return path


def _resolve(path: str, base: Path | None) -> str:
    if not path:
        return ""
    p = Path(path).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    return str(p)


def _int(value: Any, what: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a whole number, not {value!r}") from None
    if f != int(f):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    return int(f)


def _range(value: Any) -> tuple[int, int] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("-")]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [value]
    if len(parts) != 2:
        raise ValueError(f"slice range {value!r} must be two slice numbers, e.g. 10-14")
    lo, hi = _int(parts[0], "slice range start"), _int(parts[1], "slice range end")
    if not 1 <= lo <= hi:
        raise ValueError(f"slice range {value!r} must run from slice 1 or later upwards, e.g. 10-14")
    return lo, hi


def _options(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = value.split(OPTION_SEP) if OPTION_SEP in value else value.split(";")
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = []
    return tuple(s.strip() for s in items if s.strip())


def parse_case(raw: dict[str, Any], base: Path | None = None, check_files: bool = True) -> Case:
    """One raw case (from JSON or a CSV row) -> Case; ValueError with every problem of the row."""
    problems: list[str] = []
    get = lambda k: raw.get(k) if raw.get(k) is not None else ""  # noqa: E731
    case_id = str(get("id")).strip()
    study = str(get("study")).strip()
    question = str(get("question")).strip()
    options = _options(get("options"))
    truth = str(get("truth")).strip()
    if not case_id:
        problems.append("the case has no id")
    if not study:
        problems.append("no study path is given")
    elif check_files and not Path(_resolve(study, base)).exists():
        problems.append(f"the study {_resolve(study, base)} does not exist")
    if not question:
        problems.append("the question is empty")
    if len(options) < 2:
        problems.append(f"it needs at least 2 answer options (got {len(options)}); separate them "
                        f"with '{OPTION_SEP}' in CSV")
    if len(options) > MAX_OPTIONS:
        problems.append(f"it has {len(options)} answer options; at most {MAX_OPTIONS} fit on "
                        "the answer keys 1-9")
    if len({o.lower() for o in options}) != len(options):
        problems.append("two answer options are the same")
    if not truth:
        problems.append("the true label is missing")
    elif options and truth.lower() not in {o.lower() for o in options}:
        problems.append(f"the true label {truth!r} is not one of the answer options "
                        f"({', '.join(options)})")
    else:
        truth = next((o for o in options if o.lower() == truth.lower()), truth)
    key, rng = 0, None
    try:
        key = _int(raw.get("slice"), "the slice")
        if key < 0:
            raise ValueError(f"the slice must be 1 or more (0 = middle), not {key}")
    except ValueError as exc:
        problems.append(str(exc))
    try:
        rng = _range(raw.get("range"))
    except ValueError as exc:
        problems.append(str(exc))
    if rng is not None and key and not rng[0] <= key <= rng[1]:
        problems.append(f"the slice {key} lies outside its range {rng[0]}-{rng[1]}")
    model = str(get("model")).strip()
    if model.lower().endswith(".json"):
        model = _resolve(model, base)
        if check_files and not Path(model).is_file():
            problems.append(f"the model manifest {model} does not exist")
    mask = _resolve(str(get("mask")).strip(), base)
    if mask and check_files and not Path(mask).is_file():
        problems.append(f"the mask file {mask} does not exist")
    if problems:
        raise ValueError("; ".join(problems))
    return Case(case_id, _resolve(study, base), question, options, truth,
                series=str(get("series")).strip(), slice=key, slice_range=rng,
                notes=str(get("notes")).strip(), model=model, target=str(get("target")).strip(),
                mask=mask)


def _build(rows: list[tuple[str, dict[str, Any]]], source: str, base: Path | None, title: str,
           check_files: bool, meta: dict[str, Any] | None = None) -> CaseList:
    problems: list[str] = []
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for where, raw in rows:
        label = f"{where}" + (f" (case {raw.get('id')!r})" if raw.get("id") else "")
        try:
            if raw.get(_ROW_ERROR):
                raise ValueError(raw[_ROW_ERROR])
            case = parse_case(raw, base, check_files)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
            continue
        if case.case_id in seen:
            problems.append(f"{label}: the id {case.case_id!r} is already used by {seen[case.case_id]}")
            continue
        seen[case.case_id] = where
        cases.append(case)
    if not rows:
        problems.append("the list has no cases")
    if problems:
        raise CaseListError(source, problems)
    return CaseList(title, tuple(cases), Path(source) if base is not None else None, meta or {})


def parse_json(text: str, source: str = "case list", base: Path | None = None,
               check_files: bool = True) -> CaseList:
    """A JSON case list (see module docstring)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseListError(source, [f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                                     f"column {exc.colno}"]) from None
    if isinstance(doc, list):
        doc = {"cases": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        raise CaseListError(source, ['expected an object with a "cases" list'])
    rows = []
    for n, raw in enumerate(doc["cases"], start=1):
        if not isinstance(raw, dict):
            raise CaseListError(source, [f"case {n}: expected an object, got {type(raw).__name__}"])
        rows.append((f"case {n}", raw))
    title = str(doc.get("title") or (Path(source).stem if base else "Case list"))
    meta = {k: v for k, v in doc.items() if k not in ("cases", "title")}
    return _build(rows, source, base, title, check_files, meta)


def parse_csv(text: str, source: str = "case list", base: Path | None = None,
              check_files: bool = True) -> CaseList:
    """A CSV case list with a header row (see module docstring); row numbers count the header."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [f for f in ("id", "study", "question", "options", "truth") if f not in header]
    if missing:
        raise CaseListError(source, [f"the header row lacks the column(s) {', '.join(missing)}; "
                                     f"expected {','.join(CSV_FIELDS)}"])
    unknown = [h for h in header if h and h not in CSV_FIELDS]
    if unknown:
        raise CaseListError(source, [f"unknown column(s) {', '.join(unknown)}; "
                                     f"known: {','.join(CSV_FIELDS)}"])
    rows = []
    for n, raw in enumerate(reader, start=2):
        extra = raw.pop(None, None)
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()) and not extra:
            continue  # blank line
        if extra:
            row[_ROW_ERROR] = (f"it has {len(extra)} more field(s) than the header; put text "
                               "containing commas in double quotes")
        rows.append((f"row {n}", row))
    return _build(rows, source, base, Path(source).stem if base else "Case list", check_files)


def load_case_list(path: str | Path, check_files: bool = True) -> CaseList:
    """Read a ``.json`` or ``.csv`` case list; CaseListError lists every unusable row."""
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseListError(str(path), [f"cannot be read ({exc.strerror or exc})"]) from None
    if path.suffix.lower() == ".csv":
        return parse_csv(text, str(path), path.parent, check_files)
    return parse_json(text, str(path), path.parent, check_files)


def case_list_csv(cases: CaseList, relative_to: Path | None = None) -> str:
    """The list as CSV text (header + one row per case)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for c in cases.cases:
        writer.writerow({
            "id": c.case_id, "study": _rel(c.study, relative_to), "series": c.series,
            "slice": c.slice or "", "range": f"{c.slice_range[0]}-{c.slice_range[1]}"
            if c.slice_range else "", "question": c.question,
            "options": OPTION_SEP.join(c.options), "truth": c.truth, "notes": c.notes,
            "model": _rel(c.model, relative_to), "target": c.target,
            "mask": _rel(c.mask, relative_to)})
    return out.getvalue()


def save_case_list(cases: CaseList, path: str | Path) -> Path:
    """Write ``cases`` as JSON or CSV (by suffix); paths inside the list's folder become relative."""
    path = Path(path).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.parent
    if path.suffix.lower() == ".csv":
        text = case_list_csv(cases, base)
    else:
        doc = {"title": cases.title, **cases.meta,
               "cases": [c.to_json(base) for c in cases.cases]}
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def append_case(path: str | Path, case: Case, title: str = "") -> CaseList:
    """Add ``case`` to the list at ``path`` (created when absent) and save it; returns the list."""
    path = Path(path).expanduser().resolve()
    if path.exists():
        current = load_case_list(path, check_files=False)
    else:
        current = CaseList(title or path.stem, (), path)
    updated = current.with_case(case)
    save_case_list(updated, path)
    return replace(updated, source=path)

"""Batch outputs: the journal (resume state), the tables and the summary, written atomically.

Layout of an output folder, per model NAME:

- ``NAME.journal.jsonl``: one JSON record per finished (or failed) series, appended, flushed and
  fsync'ed as each series ends: the resume state. A re-run skips the series whose last record
  for the same model sha256 is ``ok`` and retries the others; a run killed mid-write leaves at
  most one partial last line, which is ignored.
- ``NAME.parquet`` and ``NAME.csv``: one row per series (``level`` = "series") and one per slice
  (``level`` = "slice"), rebuilt from the journal (latest record per series for the current
  sha256) by streaming, in row groups, into a temporary file that replaces the old one
  (``os.replace``): the tables are never half-written.
- ``NAME.summary.json``: counts per class, header disagreements, out-of-domain series, failures,
  series classified without some of the maps or result files asked for (``outputs_missing``)
  and skipped files with reasons, timings.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

#: Fixed columns of the tables, in order, with their Arrow type names; ``p_<class>`` float
#: columns (calibrated probabilities) follow ``predicted``.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("level", "string"), ("model", "string"), ("model_sha256", "string"),
    ("study_uid", "string"), ("series_uid", "string"), ("series_key", "string"),
    ("slice", "int32"), ("sop_uid", "string"), ("file", "string"),
    ("description", "string"), ("modality", "string"), ("orientation", "string"),
    ("status", "string"), ("error", "string"), ("predicted", "string"),
)
TAIL: tuple[tuple[str, str], ...] = (
    ("applicable", "bool"), ("reasons", "string"), ("header_contrast", "string"),
    ("acquisition", "string"), ("disagrees", "bool"), ("n_slices", "int32"), ("slices_ok", "int32"),
    ("slices_applicable", "int32"), ("warnings", "string"), ("map_max", "float64"),
    ("map_file", "string"), ("dicom_dir", "string"), ("read_s", "float64"),
    ("preprocess_s", "float64"), ("infer_s", "float64"), ("explain_s", "float64"),
    ("outputs_missing", "string"),
)
ROW_GROUP = 8192
LIST_CAP = 1000


def schema(classes: Sequence[str]) -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "int32": pa.int32(), "bool": pa.bool_(), "float64": pa.float64()}
    fields = [pa.field(n, types[t]) for n, t in COLUMNS]
    fields += [pa.field(f"p_{c}", pa.float64()) for c in classes]
    fields += [pa.field(n, types[t]) for n, t in TAIL]
    return pa.schema(fields)


class Journal:
    """Append-only JSONL of series records for one model (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike[str], model: str) -> None:
        from viewer.modules.batch.infer import safe_name

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.stem = safe_name(model)
        self.path = self.folder / f"{self.stem}.journal.jsonl"
        self._fh: Any = None

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete record in file order (a partial or damaged line is passed over)."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    return
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue

    def done(self, sha256: str) -> set[str]:
        """Series keys whose latest record for ``sha256`` is ok (a re-run skips them)."""
        last: dict[str, str] = {}
        for rec in self.records():
            if rec.get("sha256") == sha256:
                last[rec["uid"]] = rec.get("status", "")
        return {uid for uid, status in last.items() if status == "ok"}

    def append(self, record: dict[str, Any]) -> None:
        """Write one record durably (flush + fsync) before the next series is counted done."""
        if self._fh is None:
            if self.path.exists() and self.path.stat().st_size:
                with open(self.path, "rb") as fh:
                    fh.seek(-1, os.SEEK_END)
                    torn = fh.read(1) != b"\n"
            else:
                torn = False
            self._fh = open(self.path, "a", encoding="utf-8")
            if torn:  # the previous run died mid-line: end it so the next record stays whole
                self._fh.write("\n")
        self._fh.write(json.dumps(record, default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def latest(self, sha256: str) -> Iterator[dict[str, Any]]:
        """The latest record per series for ``sha256`` (two passes; memory: one int per series)."""
        last: dict[str, int] = {}
        for i, rec in enumerate(self.records()):
            if rec.get("sha256") == sha256:
                last[rec["uid"]] = i
        keep = set(last.values())
        for i, rec in enumerate(self.records()):
            if i in keep:
                yield rec


def _atomic_target(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def write_tables(journal: Journal, sha256: str, classes: Sequence[str]) -> tuple[Path, Path, dict]:
    """Rebuild ``NAME.parquet`` and ``NAME.csv`` from the journal; returns their paths and the
    aggregates the summary needs. Streams records in row groups of ``ROW_GROUP`` rows."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    sch = schema(classes)
    parquet = journal.folder / f"{journal.stem}.parquet"
    csv = journal.folder / f"{journal.stem}.csv"
    tmp_pq, tmp_csv = _atomic_target(parquet), _atomic_target(csv)
    agg = Aggregate()
    buffer: list[dict[str, Any]] = []
    names = set(sch.names)
    with pq.ParquetWriter(tmp_pq, sch) as pw, pacsv.CSVWriter(str(tmp_csv), sch) as cw:
        def flush() -> None:
            if buffer:
                table = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in buffer], schema=sch)
                pw.write_table(table)
                cw.write_table(table)
                buffer.clear()
        for rec in journal.latest(sha256):
            agg.add(rec)
            buffer.extend(rec["rows"])
            if len(buffer) >= ROW_GROUP:
                flush()
        flush()
    for tmp, final in ((tmp_pq, parquet), (tmp_csv, csv)):
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    return parquet, csv, agg.as_dict()


class Aggregate:
    """Counts and lists of the summary, gathered from series rows one record at a time."""

    def __init__(self) -> None:
        self.series = Counter()
        self.slices = Counter()
        self.classes = Counter()
        self.disagreements: list[dict[str, Any]] = []
        self.out_of_domain: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.missing: list[dict[str, Any]] = []
        self.n_disagree = self.n_ood = self.n_missing = 0

    def add(self, rec: dict[str, Any]) -> None:
        series = rec["rows"][0]
        self.series["total"] += 1
        self.series[rec["status"]] += 1
        for row in rec["rows"][1:]:
            self.slices["total"] += 1
            self.slices[row.get("status") or "ok"] += 1
        ident = {"series_uid": series.get("series_uid"), "series_key": series.get("series_key"),
                 "description": series.get("description")}
        if series.get("outputs_missing"):
            self.n_missing += 1
            if len(self.missing) < LIST_CAP:
                self.missing.append({**ident, "reason": series["outputs_missing"]})
        if rec["status"] != "ok":
            if len(self.failures) < LIST_CAP:
                self.failures.append({**ident, "reason": rec.get("error") or series.get("error")})
            return
        if not series.get("applicable"):
            self.n_ood += 1
            self.classes["(not applicable)"] += 1
            if len(self.out_of_domain) < LIST_CAP:
                self.out_of_domain.append({**ident, "model_output": series.get("predicted"),
                                           "reasons": series.get("reasons")})
            return
        self.classes[series.get("predicted")] += 1
        if series.get("disagrees"):
            self.n_disagree += 1
            if len(self.disagreements) < LIST_CAP:
                self.disagreements.append({**ident, "header": series.get("header_contrast"),
                                           "model": series.get("predicted")})

    def as_dict(self) -> dict[str, Any]:
        return {"series": dict(self.series), "slices": dict(self.slices),
                "counts_per_class": dict(self.classes),
                "header_disagreements": {"count": self.n_disagree, "series": self.disagreements},
                "out_of_domain": {"count": self.n_ood, "series": self.out_of_domain},
                "failures": {"count": self.series.get("failed", 0), "series": self.failures},
                "outputs_missing": {"count": self.n_missing, "series": self.missing}}


def write_json_atomic(path: Path, doc: dict[str, Any]) -> Path:
    tmp = _atomic_target(path)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path

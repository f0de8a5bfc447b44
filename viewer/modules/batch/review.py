"""Reading a ``slicewise batch`` output folder back for review in the viewer (no Qt): per series
its call, applicability, header disagreement and per-slice probabilities, from the CSV table
(readable without pyarrow); flagged series (out of domain, disagreeing with the header, failed)
first, so a reader looks at those before the rest."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SeriesReview:
    """One series of a batch run: ``label`` (predicted class or "?"), ``probability`` of it
    (series mean), per-slice ``probs`` (n_slices, n_classes) NaN where not computed, ``classes``,
    and why it is flagged (``flags``: "outside the model's domain: …", "header says T2", ...)."""

    series_uid: str
    model: str
    label: str
    probability: float
    classes: tuple[str, ...]
    probs: np.ndarray
    flags: tuple[str, ...] = ()
    applicable: bool = True

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    def note(self) -> str:
        """The series list's line: "batch (demo) contrast: T1 (93%)" or "... ?"."""
        call = "?" if not self.applicable else f"{self.label} ({self.probability:.0%})"
        return f"batch {self.model}: {call}"


@dataclass(frozen=True)
class BatchReview:
    """All series of one batch table, by SeriesInstanceUID; ``order`` puts flagged first."""

    table: Path
    series: dict[str, SeriesReview] = field(default_factory=dict)

    def order(self) -> list[str]:
        return sorted(self.series, key=lambda uid: (not self.series[uid].flagged, uid))


def _float(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def read_batch_folder(folder: str | Path) -> BatchReview:
    """The batch table in ``folder`` (the newest ``*.csv`` beside a ``*.summary.json``).
    Raises ValueError with a reason when there is none."""
    folder = Path(folder)
    tables = sorted((p for p in folder.glob("*.csv")
                     if p.with_name(p.stem + ".summary.json").is_file()),
                    key=lambda p: p.stat().st_mtime)
    if not tables:
        raise ValueError(f"{folder}: no batch results here (a NAME.csv beside NAME.summary.json "
                         "written by 'slicewise batch')")
    table = tables[-1]
    with table.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    classes = tuple(c[2:] for c in (rows[0].keys() if rows else ()) if c.startswith("p_"))
    slices: dict[str, list[dict[str, str]]] = {}
    series_rows: dict[str, dict[str, str]] = {}
    for row in rows:
        uid = row.get("series_uid", "")
        if row.get("level") == "series":
            series_rows[uid] = row
        else:
            slices.setdefault(uid, []).append(row)
    out: dict[str, SeriesReview] = {}
    for uid, row in series_rows.items():
        n = int(_float(row.get("n_slices", "0")) or 0) or len(slices.get(uid, []))
        probs = np.full((max(n, 1), len(classes)), np.nan, np.float32)
        for s in slices.get(uid, []):
            k = int(_float(s.get("slice", "-1")))
            if 0 <= k < probs.shape[0]:
                probs[k] = [_float(s.get(f"p_{c}", "")) for c in classes]
        applicable = row.get("applicable", "").lower() == "true"
        flags = []
        if row.get("status", "ok") not in ("ok", ""):
            flags.append(f"failed: {row.get('error', '')}")
        if not applicable:
            flags.append(f"outside the model's domain: {row.get('reasons', '')}".rstrip(": "))
        if row.get("disagrees", "").lower() == "true":
            flags.append(f"header says {row.get('header_contrast', '')}")
        label = row.get("predicted", "")
        out[uid] = SeriesReview(uid, row.get("model", ""), label,
                                _float(row.get(f"p_{label}", "")), classes, probs, tuple(flags),
                                applicable)
    return BatchReview(table, out)

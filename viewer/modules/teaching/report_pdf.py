"""The reading-session report as a printable PDF: the same content as the HTML report
(:func:`viewer.modules.teaching.report.html_report`) on A4 pages.

Page 1: title, date, demo note and the reader-study table; page 2: accuracy before / after the
AI with Wilson 95 % intervals and the helpfulness ratings split by whether the AI was right;
then one page per confusion matrix and the cases, :data:`CASES_PER_PAGE` to a page. Drawn with
matplotlib's PDF backend (``Figure`` + ``PdfPages``, never pyplot: safe in a worker thread).
No Qt, no torch.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

from viewer.modules.teaching.session import HELPFULNESS, CaseRecord
from viewer.modules.teaching.summary import Confusion, Summary

A4 = (8.27, 11.69)  # inches, portrait
CASES_PER_PAGE = 30
_CASE_COLUMNS = ("Case", "Truth", "Reader before", "AI", "Reader after", "Helpful", "s answer",
                 "s total")


def _mark(v: bool | None) -> str:
    return "" if v is None else (" (right)" if v else " (wrong)")


def _table_page(title: str, lines: list[str], rows: list[tuple[str, str]], note: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=A4)
    fig.text(0.08, 0.95, title, fontsize=16, weight="bold", va="top")
    y = 0.915
    for line in lines:
        fig.text(0.08, y, line, fontsize=9, va="top")
        y -= 0.02
    if note:
        fig.text(0.08, y, note, fontsize=9, va="top", color="#8a5a00")
        y -= 0.02
    ax = fig.add_axes((0.08, 0.06, 0.84, y - 0.08))
    ax.set_axis_off()
    ax.set_title("Reader-study table", loc="left", fontsize=11)
    table = ax.table(cellText=[list(r) for r in rows], colLabels=["Measure", "Value"],
                     loc="upper left", cellLoc="left", colWidths=[0.45, 0.55])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.3)
    return fig


def _plots_page(summary: Summary):
    from matplotlib.figure import Figure

    fig = Figure(figsize=A4)
    ax, bx = fig.add_axes((0.12, 0.56, 0.8, 0.36)), fig.add_axes((0.2, 0.1, 0.72, 0.34))
    bars = [("Reader before AI", summary.accuracy_before, "#4c78a8"),
            ("Reader after AI", summary.accuracy_after, "#f58518"),
            ("AI", summary.ai_accuracy, "#54a24b")]
    for n, (_label, rate, colour) in enumerate(bars):
        if rate.value is None:
            ax.text(n, 0.02, "n/a", ha="center")
            continue
        lo, hi = rate.interval  # type: ignore[misc]
        ax.bar(n, 100 * rate.value, color=colour, width=0.6,
               yerr=[[100 * (rate.value - lo)], [100 * (hi - rate.value)]], capsize=6)
        ax.text(n, 100 * rate.value + 2, f"{100 * rate.value:.0f} %", ha="center", weight="bold")
    ax.set_xticks(range(len(bars)), [b[0] for b in bars])
    ax.set_ylim(0, 110)
    ax.set_ylabel("%")
    ax.set_title("Accuracy on the revealed cases (bars: 95 % Wilson intervals)", fontsize=10)
    levels = (*HELPFULNESS, "unrated")
    right = summary.helpfulness_by_ai.get("ai correct", {})
    wrong = summary.helpfulness_by_ai.get("ai wrong", {})
    r = [right.get(lvl, 0) for lvl in levels]
    w = [wrong.get(lvl, 0) for lvl in levels]
    bx.barh(levels, r, color="#54a24b", label="AI right")
    bx.barh(levels, w, left=r, color="#e45756", label="AI wrong")
    bx.invert_yaxis()
    bx.set_xlabel("cases")
    bx.legend(loc="lower right", fontsize=8)
    bx.set_title("Helpfulness ratings of the heat maps", fontsize=10)
    return fig


def _confusion_page(cm: Confusion):
    from matplotlib.figure import Figure

    fig = Figure(figsize=A4)
    ax = fig.add_axes((0.2, 0.45, 0.65, 0.45))
    n = len(cm.labels)
    ax.imshow([list(row) for row in cm.counts], cmap="Greens")
    for t in range(n):
        for a in range(n):
            ax.text(a, t, str(cm.counts[t][a]), ha="center", va="center", fontsize=11)
    ax.set_xticks(range(n), cm.labels, rotation=30, ha="right")
    ax.set_yticks(range(n), cm.labels)
    ax.set_xlabel("answer")
    ax.set_ylabel("truth")
    ax.set_title(f"Confusion matrix: {cm.name} (n = {cm.total})", fontsize=11)
    return fig


def _cases_page(records: Sequence[CaseRecord], first: int, total: int):
    from matplotlib.figure import Figure

    fig = Figure(figsize=A4)
    ax = fig.add_axes((0.05, 0.05, 0.9, 0.88))
    ax.set_axis_off()
    ax.set_title(f"Cases {first + 1}-{first + len(records)} of {total}", loc="left", fontsize=11)
    rows = [[r.case_id, r.truth, r.answer_before + _mark(r.correct_before),
             (r.ai_answer or r.ai_error) + _mark(r.ai_correct),
             (r.answer_after if r.revealed else "") + _mark(r.correct_after), r.helpfulness,
             f"{r.seconds_to_answer:.1f}", f"{r.seconds_total:.1f}"] for r in records]
    table = ax.table(cellText=rows, colLabels=list(_CASE_COLUMNS), loc="upper left",
                     cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.3)
    return fig


def write_pdf_report(summary: Summary, records: Sequence[CaseRecord], path: str | Path,
                     title: str = "Reading session", demo_note: str = "") -> Path:
    """Write the session report as a PDF at ``path`` (see the module docstring)."""
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    tmp = path.with_name(path.name + ".tmp")
    with PdfPages(tmp, metadata={"Title": title, "Creator": "SliceWise"}) as pdf:
        pdf.savefig(_table_page(title, [f"SliceWise reading session, report written {when}."],
                                summary.table(), demo_note))
        pdf.savefig(_plots_page(summary))
        for cm in summary.confusions:
            pdf.savefig(_confusion_page(cm))
        for first in range(0, len(records), CASES_PER_PAGE):
            pdf.savefig(_cases_page(records[first:first + CASES_PER_PAGE], first, len(records)))
    tmp.replace(path)
    return path

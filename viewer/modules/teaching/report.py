"""Session files: the per-case CSV, the summary CSV and a self-contained HTML report whose plots
are inline SVG (no plotting library, no external files). No Qt, no torch.

``write_session(records, summary, out_csv)`` writes ``SESSION.csv`` plus, beside it,
``SESSION-summary.csv``, ``SESSION-report.html``, the same report as ``SESSION-report.pdf``
(:mod:`viewer.modules.teaching.report_pdf`) and ``SESSION-answers.json`` (the reader's
inputs, replayable with ``slicewise teach LIST --replay SESSION-answers.json``).
"""
from __future__ import annotations

import csv
import datetime as _dt
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from viewer.modules.teaching.session import HELPFULNESS, CaseRecord
from viewer.modules.teaching.summary import Confusion, Rate, Summary

SESSION_FIELDS = ("case", "question", "truth", "answer_before", "confidence_before",
                  "correct_before", "ai_model", "ai_answer", "ai_probability", "ai_correct",
                  "revealed", "helpfulness", "answer_after", "confidence_after", "correct_after",
                  "changed", "seconds_to_answer", "seconds_after_reveal", "seconds_total",
                  "ai_error")
DEMO_NOTE = ("AI results come from demo weights trained on synthetic phantoms; "
             "not for clinical use.")


def _flag(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def session_rows(records: Sequence[CaseRecord]) -> list[dict[str, Any]]:
    """One CSV row per case, in :data:`SESSION_FIELDS` order."""
    rows = []
    for r in records:
        rows.append({
            "case": r.case_id, "question": r.question, "truth": r.truth,
            "answer_before": r.answer_before, "confidence_before": r.confidence_before or "",
            "correct_before": _flag(r.correct_before), "ai_model": r.ai_model,
            "ai_answer": r.ai_answer,
            "ai_probability": "" if r.ai_probability is None else f"{r.ai_probability:.4f}",
            "ai_correct": _flag(r.ai_correct), "revealed": _flag(r.revealed),
            "helpfulness": r.helpfulness, "answer_after": r.answer_after if r.revealed else "",
            "confidence_after": r.confidence_after or "" if r.revealed else "",
            "correct_after": _flag(r.correct_after), "changed": _flag(r.changed) if r.revealed else "",
            "seconds_to_answer": f"{r.seconds_to_answer:.2f}" if r.answered else "",
            "seconds_after_reveal": f"{r.seconds_after_reveal:.2f}" if r.revealed else "",
            "seconds_total": f"{r.seconds_total:.2f}", "ai_error": r.ai_error})
    return rows


def _write_csv(path: Path, fields: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def write_session_csv(records: Sequence[CaseRecord], path: str | Path) -> Path:
    """The per-case session CSV."""
    return _write_csv(Path(path), SESSION_FIELDS, session_rows(records))


def write_summary_csv(summary: Summary, path: str | Path) -> Path:
    """The reader-study table as CSV (measure, value), then the confusion matrices."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["measure", "value"])
        w.writerows(summary.table())
        for cm in summary.confusions:
            w.writerow([])
            w.writerow([f"Confusion matrix: {cm.name} (rows truth, columns answer)"])
            w.writerow(["truth \\ answer", *cm.labels])
            for label, row in zip(cm.labels, cm.counts):
                w.writerow([label, *row])
    return path


# -- SVG plots -------------------------------------------------------------------------------
def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}" '
            f'font-family="sans-serif" font-size="12">' + "".join(body) + "</svg>")


def accuracy_svg(summary: Summary) -> str:
    """Bars of reader accuracy before and after the AI and of the AI, with 95 % intervals."""
    bars: list[tuple[str, Rate, str]] = [
        ("Reader before AI", summary.accuracy_before, "#4c78a8"),
        ("Reader after AI", summary.accuracy_after, "#f58518"),
        ("AI", summary.ai_accuracy, "#54a24b")]
    w, h, left, top, plot_h, bar_w, gap = 420, 250, 50, 20, 180, 80, 40
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{w - 10}" y2="{top + plot_h}" stroke="#333"/>']
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        body.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{w - 10}" y2="{y:.1f}" '
                    f'stroke="#ddd"/><text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">'
                    f'{tick} %</text>')
    for n, (label, rate, colour) in enumerate(bars):
        x = left + gap / 2 + n * (bar_w + gap)
        v = rate.value
        if v is not None:
            bh = plot_h * v
            body.append(f'<rect x="{x:.1f}" y="{top + plot_h - bh:.1f}" width="{bar_w}" '
                        f'height="{bh:.1f}" fill="{colour}"><title>{html.escape(label)}: '
                        f'{html.escape(rate.text())}</title></rect>')
            lo, hi = rate.interval  # type: ignore[misc]
            cx = x + bar_w / 2
            y1, y2 = top + plot_h * (1 - lo), top + plot_h * (1 - hi)
            body.append(f'<line x1="{cx:.1f}" y1="{y1:.1f}" x2="{cx:.1f}" y2="{y2:.1f}" '
                        f'stroke="#222" stroke-width="1.5"/>')
            body.append(f'<text x="{cx:.1f}" y="{top + plot_h - bh - 6:.1f}" text-anchor="middle" '
                        f'font-weight="bold">{100 * v:.0f} %</text>')
        else:
            body.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - 6}" '
                        f'text-anchor="middle">n/a</text>')
        body.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 18}" '
                    f'text-anchor="middle">{html.escape(label)}</text>')
    return _svg(w, h, body, "Accuracy before and after the AI")


def helpfulness_svg(summary: Summary) -> str:
    """Horizontal bars of the helpfulness ratings, split by whether the AI was right."""
    levels = (*HELPFULNESS, "unrated")
    right = summary.helpfulness_by_ai.get("ai correct", {})
    wrong = summary.helpfulness_by_ai.get("ai wrong", {})
    top_n = max([summary.helpfulness.get(lvl, 0) for lvl in levels] + [1])
    w, left, row_h, plot_w = 420, 90, 34, 280
    h = 30 + row_h * len(levels) + 30
    body = []
    for n, lvl in enumerate(levels):
        y = 20 + n * row_h
        x = left
        for count, colour, what in ((right.get(lvl, 0), "#54a24b", "AI right"),
                                    (wrong.get(lvl, 0), "#e45756", "AI wrong")):
            bw = plot_w * count / top_n
            if count:
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{bw:.1f}" height="{row_h - 10}" '
                            f'fill="{colour}"><title>{lvl}, {what}: {count}</title></rect>')
            x += bw
        total = summary.helpfulness.get(lvl, 0)
        body.append(f'<text x="{left - 8}" y="{y + row_h / 2}" text-anchor="end">{lvl}</text>'
                    f'<text x="{x + 6:.1f}" y="{y + row_h / 2}">{total}</text>')
    y = 20 + row_h * len(levels) + 8
    body.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="#54a24b"/>'
                f'<text x="{left + 16}" y="{y + 10}">AI right</text>'
                f'<rect x="{left + 90}" y="{y}" width="12" height="12" fill="#e45756"/>'
                f'<text x="{left + 106}" y="{y + 10}">AI wrong</text>')
    return _svg(w, h, body, "Helpfulness of the heat maps")


def confusion_html(cm: Confusion) -> str:
    """A confusion matrix as an HTML table shaded by count (diagonal green, off-diagonal red)."""
    top = max([max(row) for row in cm.counts] + [1])
    head = "".join(f"<th>{html.escape(lab)}</th>" for lab in cm.labels)
    rows = []
    for t, (label, row) in enumerate(zip(cm.labels, cm.counts)):
        cells = []
        for a, n in enumerate(row):
            alpha = 0.15 + 0.6 * n / top if n else 0.0
            colour = f"rgba(84,162,75,{alpha:.2f})" if t == a else f"rgba(228,87,86,{alpha:.2f})"
            cells.append(f'<td style="background:{colour}">{n}</td>')
        rows.append(f"<tr><th>{html.escape(label)}</th>{''.join(cells)}</tr>")
    return (f'<table class="cm"><caption>{html.escape(cm.name)} '
            f'(rows: truth, columns: answer; n = {cm.total})</caption>'
            f'<tr><th>truth \\ answer</th>{head}</tr>{"".join(rows)}</table>')


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}
table.cm td{text-align:center;min-width:4em}caption{text-align:left;font-weight:bold;margin-bottom:4px}
.plots{display:flex;flex-wrap:wrap;gap:2em}.note{color:#8a5a00;background:#fff6e0;padding:6px 10px}
.ok{color:#2a7a2a}.bad{color:#b22}"""


def html_report(summary: Summary, records: Sequence[CaseRecord], title: str = "Reading session",
                demo: bool = True) -> str:
    """A self-contained HTML page: the reader-study table, plots, confusion matrices, cases."""
    esc = html.escape
    table = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary.table())

    def mark(v: bool | None) -> str:
        return "" if v is None else ('<span class="ok">✔</span>' if v else '<span class="bad">✘</span>')

    case_rows = "".join(
        f"<tr><td>{esc(r.case_id)}</td><td>{esc(r.truth)}</td><td>{esc(r.answer_before)} "
        f"{mark(r.correct_before)}</td><td>{esc(r.ai_answer or r.ai_error)} {mark(r.ai_correct)}"
        f"</td><td>{esc(r.answer_after if r.revealed else '')} {mark(r.correct_after)}</td>"
        f"<td>{esc(r.helpfulness)}</td><td>{r.seconds_to_answer:.1f}</td>"
        f"<td>{r.seconds_total:.1f}</td></tr>" for r in records)
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    note = f'<p class="note">{esc(DEMO_NOTE)}</p>' if demo else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1><p>SliceWise reading session, "
            f"report written {when}.</p>{note}<h2>Reader-study table</h2><table>{table}</table>"
            f"<h2>Plots</h2><div class='plots'><figure>{accuracy_svg(summary)}<figcaption>Accuracy "
            f"on the revealed cases (bars: 95 % Wilson intervals)</figcaption></figure><figure>"
            f"{helpfulness_svg(summary)}<figcaption>Helpfulness ratings of the heat maps"
            f"</figcaption></figure></div><h2>Confusion matrices</h2>"
            + "".join(confusion_html(cm) for cm in summary.confusions)
            + "<h2>Cases</h2><table><tr><th>Case</th><th>Truth</th><th>Reader before</th>"
            "<th>AI</th><th>Reader after</th><th>Helpful</th><th>s to answer</th><th>s total</th>"
            f"</tr>{case_rows}</table></body></html>\n")


def session_paths(out_csv: str | Path) -> dict[str, Path]:
    """The files of a session written at ``out_csv``: session, summary, report, answers."""
    out = Path(out_csv)
    stem = out.with_suffix("") if out.suffix.lower() == ".csv" else out
    return {"session": stem.with_suffix(".csv") if out.suffix.lower() != ".csv" else out,
            "summary": stem.with_name(stem.name + "-summary.csv"),
            "report": stem.with_name(stem.name + "-report.html"),
            "report_pdf": stem.with_name(stem.name + "-report.pdf"),
            "answers": stem.with_name(stem.name + "-answers.json")}


def write_session(records: Sequence[CaseRecord], summary: Summary, out_csv: str | Path, *,
                  answers: dict[str, Any] | None = None, title: str = "Reading session",
                  demo: bool = True, pdf: bool = True) -> dict[str, Path]:
    """Write the session CSV, summary CSV, HTML report, PDF report (unless ``pdf`` is False)
    and answers JSON (when given); returns their paths."""
    paths = session_paths(out_csv)
    write_session_csv(records, paths["session"])
    write_summary_csv(summary, paths["summary"])
    paths["report"].write_text(html_report(summary, records, title, demo), encoding="utf-8")
    if pdf:
        from viewer.modules.teaching.report_pdf import write_pdf_report

        write_pdf_report(summary, records, paths["report_pdf"], title, DEMO_NOTE if demo else "")
    else:
        paths.pop("report_pdf")
    if answers is not None:
        paths["answers"].write_text(json.dumps(answers, indent=2) + "\n", encoding="utf-8")
    else:
        paths.pop("answers")
    return paths


def format_table(summary: Summary) -> str:
    """The reader-study table as aligned plain text (for the terminal)."""
    rows = summary.table()
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)

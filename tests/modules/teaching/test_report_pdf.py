"""The session report as PDF: opened with pypdf, it has the expected pages and says what the
HTML report says (table values, demo note, confusion matrices, cases)."""
from __future__ import annotations

from pypdf import PdfReader

from tests.modules.teaching.test_summary import RECORDS
from viewer.modules.teaching.report import write_session
from viewer.modules.teaching.report_pdf import CASES_PER_PAGE, write_pdf_report
from viewer.modules.teaching.summary import summarise


def test_pdf_report_pages_and_content(tmp_path):
    s = summarise(RECORDS, "Dr A", [("no tumour", "tumour")] * 6)
    paths = write_session(RECORDS, s, tmp_path / "s.csv")
    reader = PdfReader(str(paths["report_pdf"]))
    # table, plots, one page per confusion matrix, one page of cases
    assert len(reader.pages) == 2 + len(s.confusions) + 1
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Dr A" in text and "demo weights" in text
    assert "66.7 % (4/6; 95 % CI 30.0-90.3)" in text
    assert all(f"Confusion matrix: {cm.name}" in text for cm in s.confusions)
    assert all(r.case_id in text for r in RECORDS)


def test_many_cases_span_pages_and_pdf_can_be_left_out(tmp_path):
    records = list(RECORDS) * 12  # 72 cases
    s = summarise(records, "", [("no tumour", "tumour")] * len(records))
    path = write_pdf_report(s, records, tmp_path / "r.pdf")
    pages = len(PdfReader(str(path)).pages)
    assert pages == 2 + len(s.confusions) + -(-len(records) // CASES_PER_PAGE)
    assert "report_pdf" not in write_session(RECORDS, s, tmp_path / "n.csv", pdf=False)
    assert not (tmp_path / "n-report.pdf").exists()

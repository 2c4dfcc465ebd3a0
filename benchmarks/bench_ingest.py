"""Ingest benchmark: `kb ingest --dry-run` on a 100-page report PDF, in pages per second.

    .venv/bin/python benchmarks/bench_ingest.py [--pages 100] [--rounds 3]

The PDF (reportlab, ~40 lines a page) mixes prose with the statistics,
citations and findings a report carries, so every stage has work to do.
Timed in the same process, interleaved, best of N:
  - the whole ingest (read, segment, propose, parse statistics, match citations,
    suggest topics, embed every candidate and compare it with the built KB);
  - the same without the near-duplicate search (the data layer alone);
  - the baseline: bare pypdfium2 text extraction of every page.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench_readers import bare_pdfium, prose_pages
from common import ROOT, real_db, report, timed

sys.path.insert(0, str(ROOT / "tests"))
from documents import write_pdf  # noqa: E402

from ingest.intake import plan_ingest  # noqa: E402
from kb.ingest_document import ingest_document  # noqa: E402

FINDINGS = [
    "In a cluster randomised trial of 1,240 nurses, compassion training reduced burnout by 18% (OR 0.82, 95% CI 0.71 to 0.95).",
    "Staff engagement was associated with lower patient mortality (r = -0.32, p < 0.001) (West & Dawson, 2012).",
    "Teams with clear shared objectives reported 25% fewer errors than other teams.",
    "Patients of empathic physicians had 41% lower odds of complications (Del Canale et al., 2012).",
]


def report_pages(pages: int) -> list[list[str]]:
    out = []
    for i, lines in enumerate(prose_pages(pages)):
        lines = list(lines)
        for j, finding in enumerate(FINDINGS):
            lines[5 + 8 * j] = finding.replace("18%", f"{10 + i % 20}%")
        out.append(lines)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    db = real_db()
    with tempfile.TemporaryDirectory(prefix="kb-bench-ingest-") as tmp:
        tmp = Path(tmp)
        project = tmp / "project"
        shutil.copytree(ROOT / "evidence", project / "evidence")
        shutil.copy2(ROOT / "citations.bib", project / "citations.bib")
        path = write_pdf(tmp / "report.pdf", report_pages(args.pages), font_size=8)
        full_s, data_s, base_s = [], [], []
        for _ in range(args.rounds):
            seconds, plan = timed(ingest_document, path, project, db, dry_run=True)
            full_s.append(seconds)
            seconds, _ = timed(plan_ingest, path, project)
            data_s.append(seconds)
            seconds, _ = timed(bare_pdfium, path)
            base_s.append(seconds)
    full, data, base = min(full_s), min(data_s), min(base_s)
    summary = plan.summary()
    report(
        f"kb ingest --dry-run, {args.pages}-page report PDF, best of {args.rounds}",
        [
            ("whole ingest", f"{full:.2f} s  {args.pages / full:,.1f} pages/s  ({summary['candidates']} candidates)"),
            ("without near-duplicate search", f"{data:.2f} s  {args.pages / data:,.1f} pages/s"),
            ("bare pypdfium2 extraction", f"{base * 1000:.0f} ms  {args.pages / base:,.0f} pages/s"),
            ("ratio", f"the whole ingest takes {full / base:.0f}x the bare text extraction"),
        ],
    )


if __name__ == "__main__":
    main()

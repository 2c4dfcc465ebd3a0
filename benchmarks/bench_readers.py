"""Reader benchmark: read_document on a 100-page PDF against bare pypdfium2 text extraction.

    .venv/bin/python benchmarks/bench_readers.py [--pages 100] [--rounds 5]

The PDF is made with reportlab (~40 lines of prose per page, one drawString
per line). Both sides are timed in the same process, best of N rounds:
read_document (hashing, page text, section map, metadata) and the baseline
of PdfDocument(path) plus page.get_textpage().get_text_range() for every page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pypdfium2 as pdfium
from common import ROOT, report, timed

sys.path.insert(0, str(ROOT / "tests"))
from documents import write_pdf  # noqa: E402

from ingest.readers import read_document  # noqa: E402

WORDS = (
    "compassionate leadership improves staff engagement and patient satisfaction while high work pressure "
    "reduces compassion for patients and teams with shared objectives report lower stress and fewer errors"
).split()
LINES_PER_PAGE = 40


def prose_pages(pages: int) -> list[list[str]]:
    lines, n = [], 0
    for _ in range(pages * LINES_PER_PAGE):
        words = [WORDS[(n + k) % len(WORDS)] for k in range(12)]
        n += 7
        lines.append(" ".join(words).capitalize() + ".")
    return [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]


def bare_pdfium(path: Path) -> int:
    pdf = pdfium.PdfDocument(path)
    chars = 0
    for page in pdf:
        chars += len(page.get_textpage().get_text_range())
    pdf.close()
    return chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-bench-readers-") as tmp:
        path = write_pdf(Path(tmp) / "prose.pdf", prose_pages(args.pages), font_size=9)
        size_kb = path.stat().st_size / 1024
        reader_s, baseline_s = [], []
        for _ in range(args.rounds):  # alternate, so both sides see the same machine load
            seconds, doc = timed(read_document, path)
            reader_s.append(seconds)
            seconds, chars = timed(bare_pdfium, path)
            baseline_s.append(seconds)
    pages = len([s for s in doc.sections if s.kind == "page"])
    assert pages == args.pages, pages
    best_reader, best_baseline = min(reader_s), min(baseline_s)
    report(
        f"read_document vs bare pypdfium2 ({pages} pages, {size_kb:.0f} KiB, best of {args.rounds})",
        [
            (
                "read_document",
                f"{best_reader * 1000:.1f} ms  {pages / best_reader:,.0f} pages/s  {len(doc.text):,} chars",
            ),
            ("bare pypdfium2", f"{best_baseline * 1000:.1f} ms  {pages / best_baseline:,.0f} pages/s  {chars:,} chars"),
            ("ratio", f"read_document takes {best_reader / best_baseline:.2f}x the bare extraction time"),
        ],
    )


if __name__ == "__main__":
    main()

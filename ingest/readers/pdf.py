"""PDF with pypdfium2 (Apache-2.0/BSD; PyMuPDF would be AGPL).

One `page` section per page; pages are joined by a blank line ("\n\n"), so a
page always starts on a line of its own. The text is PDFium's, quirks and all
("Direct ly", bullets): a later step repairs the statement, never the quote.
Two things are undone because PDFium adds them, not the PDF: CRLF line ends,
and U+FFFE, which PDFium puts in place of a hyphen that ends a line (dropping
the line break with it); it becomes "-" plus the line break, as printed.
PDFium keeps a line's own trailing space and adds none, so lines are not stripped.
"""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .base import ExtractedDocument, ReaderError, Section, TextBuilder, clean_text, meaningful, sha256_of, year_of

PAGE_SEPARATOR = "\n\n"
# What reportlab writes when the caller sets nothing: not the author's data.
_PLACEHOLDERS = frozenset({"untitled", "anonymous", "unspecified"})
_LINE_END_HYPHEN = re.compile("\ufffe(\r\n|\r|\n)?")


def read_pdf(path, data: bytes) -> ExtractedDocument:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise ReaderError(path, "encrypted PDF: remove the password and try again") from None
        raise ReaderError(path, f"not a readable PDF: {_reason(exc)}") from None
    try:
        builder, sections, landscape = TextBuilder(), [], 0
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                page_text = page_text_of(page)
                landscape += _is_landscape(page)
            finally:
                page.close()
            if index:
                builder.add(PAGE_SEPARATOR)
            start, end = builder.add(page_text)
            sections.append(Section("page", index + 1, None, start, end))
        meta = pdf.get_metadata_dict()
    except pdfium.PdfiumError as exc:
        raise ReaderError(path, f"not a readable PDF: {_reason(exc)}", page=len(sections) + 1) from None
    finally:
        pdf.close()
    if sections and all(s.char_start == s.char_end for s in sections):
        raise ReaderError(path, "no text layer (scanned?): OCR is not supported", page=1)
    return ExtractedDocument(
        text=builder.text(),
        format="pdf",
        kind="slide_deck" if landscape * 2 > len(sections) else "report",
        file_sha256=sha256_of(data),
        title=meaningful(meta.get("Title"), _PLACEHOLDERS),
        author=meaningful(meta.get("Author"), _PLACEHOLDERS),
        year=year_of(meta.get("CreationDate") or None),
        sections=sections,
    )


def page_text_of(page) -> str:
    """One page's text as PDFium extracts it, with PDFium's own artefacts undone (see the module docstring)."""
    textpage = page.get_textpage()
    try:
        raw = textpage.get_text_range()
    finally:
        textpage.close()
    raw = _LINE_END_HYPHEN.sub(lambda m: "-\n" if m.group(1) is not None or m.end() < len(m.string) else "-", raw)
    return clean_text(raw)


def _is_landscape(page) -> bool:
    width, height = page.get_size()
    if page.get_rotation() in (90, 270):
        width, height = height, width
    return width > height


def _reason(exc: Exception) -> str:
    # PdfiumError reads "Failed to load document (PDFium: Data format error)."; the part in brackets is the reason.
    match = re.search(r"PDFium: ([^)]*)", str(exc))
    return match.group(1).lower() if match else str(exc)

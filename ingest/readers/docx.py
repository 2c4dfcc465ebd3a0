"""Word (.docx) with python-docx.

The body in document order: one line per paragraph, tables row by row (one
line per row, cells joined by " | "). Paragraphs styled Title or Heading 1-9
(or a style based on one) become `heading` sections: Title is the top level,
then Heading 1, 2, …; each section runs until the next heading of the same or
a higher level. Headers, footers, footnotes, comments and text boxes are not read.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from docx import Document
from docx.table import Table

from .base import ExtractedDocument, clean_text, heading_sections, meaningful, sha256_of

# python-docx's default template and default core properties: not the user's data.
_PLACEHOLDERS = frozenset({"python-docx", "Word Document"})
_TEMPLATE_CREATED = dt.datetime(2013, 12, 23, 23, 15)
_HEADING_STYLE = re.compile(r"heading ([1-9])", re.IGNORECASE)
_STYLE_DEPTH = 10  # how far to follow "based on" links; guards against a cycle in a broken styles part


def read_docx(path, data: bytes) -> ExtractedDocument:
    document = Document(io.BytesIO(data))
    lines: list[str] = []
    headings = []
    offset = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            block_lines = table_lines(block)
            level = None
        else:
            block_lines = [clean_text(block.text)]
            level = heading_level(block.style)
        if level is not None and block_lines[0].strip():
            headings.append((level, " ".join(block_lines[0].split()), offset))
        for line in block_lines:
            lines.append(line)
            offset += len(line) + 1
    text = "\n".join(lines)
    props = document.core_properties
    created = props.created
    return ExtractedDocument(
        text=text,
        format="docx",
        kind="report",
        file_sha256=sha256_of(data),
        title=meaningful(props.title, _PLACEHOLDERS),
        author=meaningful(props.author, _PLACEHOLDERS),
        year=created.year if created and created.replace(tzinfo=None) != _TEMPLATE_CREATED else None,
        sections=heading_sections(headings, len(text)),
    )


def heading_level(style) -> int | None:
    """0 for Title, n for Heading n, following "based on" so a custom heading style counts; None otherwise."""
    for _ in range(_STYLE_DEPTH):
        if style is None:
            return None
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 0
        match = _HEADING_STYLE.fullmatch(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


def table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            # python-docx repeats a merged cell once per grid column it spans: show it once.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(clean_text(cell.text).split("\n")))
        lines.append(" | ".join(cells))
    return lines

"""PowerPoint (.pptx) with python-pptx.

Per slide: the title first, then every other shape's text in reading order
(top to bottom, then left to right; group shapes recursed, tables row by row
with cells joined by " | "), one line per paragraph, bullets as typed. One
`slide` section per slide (label = its title), then the speaker notes, if
any, as a `notes` section of the same number. Slides are joined by "\n\n".
Charts, SmartArt and pictures hold no text python-pptx can read: skipped.
"""

from __future__ import annotations

import datetime as dt
import io

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from .base import ExtractedDocument, Section, TextBuilder, clean_text, meaningful, sha256_of

SLIDE_SEPARATOR = "\n\n"
NOTES_SEPARATOR = "\n\n"
# python-pptx's default template and default core properties: not the user's data.
_PLACEHOLDERS = frozenset({"PowerPoint Presentation", "python-pptx", "Steve Canny"})
_TEMPLATE_CREATED = dt.datetime(2013, 1, 27, 9, 14, 16)


def read_pptx(path, data: bytes) -> ExtractedDocument:
    deck = Presentation(io.BytesIO(data))
    builder, sections = TextBuilder(), []
    for number, slide in enumerate(deck.slides, start=1):
        if number > 1:
            builder.add(SLIDE_SEPARATOR)
        title_shape = slide.shapes.title
        title = frame_text(title_shape) if title_shape is not None and title_shape.has_text_frame else ""
        others = [s for s in slide.shapes if title_shape is None or s.shape_id != title_shape.shape_id]
        lines = [title] if title.strip() else []
        lines += [text for text in (shape_text(s) for s in reading_order(others)) if text.strip()]
        label = " ".join(title.split()) or None
        start, end = builder.add("\n".join(lines))
        sections.append(Section("slide", number, label, start, end))
        notes = _notes_text(slide)
        if notes.strip():
            builder.add(NOTES_SEPARATOR)
            start, end = builder.add(notes)
            sections.append(Section("notes", number, label, start, end))
    props = deck.core_properties
    created = props.created
    return ExtractedDocument(
        text=builder.text(),
        format="pptx",
        kind="slide_deck",
        file_sha256=sha256_of(data),
        title=meaningful(props.title, _PLACEHOLDERS),
        author=meaningful(props.author, _PLACEHOLDERS),
        year=created.year if created and created.replace(tzinfo=None) != _TEMPLATE_CREATED else None,
        sections=sections,
    )


def reading_order(shapes) -> list:
    # Shapes without a position (rare: a placeholder whose layout has none) sort first.
    return sorted(shapes, key=lambda s: (s.top or 0, s.left or 0))


def shape_text(shape) -> str:
    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return "\n".join(t for t in (shape_text(s) for s in reading_order(shape.shapes)) if t.strip())
    if getattr(shape, "has_table", False) and shape.has_table:
        return table_text(shape.table)
    if shape.has_text_frame:
        return frame_text(shape)
    return ""


def table_text(table) -> str:
    rows = []
    for row in table.rows:
        # A merged cell's spanned neighbours are empty copies: one " | " per visible cell.
        cells = [" ".join(clean_text(c.text.replace("\v", "\n")).split("\n")) for c in row.cells if not c.is_spanned]
        rows.append(" | ".join(cells))
    return "\n".join(rows)


def frame_text(shape) -> str:
    # python-pptx reports a line break (<a:br>) inside a paragraph as "\v": it is a line end here.
    return clean_text(shape.text_frame.text.replace("\v", "\n"))


def _notes_text(slide) -> str:
    if not slide.has_notes_slide:  # asking for notes_slide would create one
        return ""
    frame = slide.notes_slide.notes_text_frame
    return clean_text(frame.text.replace("\v", "\n")) if frame is not None else ""

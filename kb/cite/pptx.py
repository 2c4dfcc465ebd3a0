"""Evidence cards as a PowerPoint deck: the evidence map of the selection, one slide per claim, then the references.

The first slide is the bubble map of the selected claims (kb.charts.slides, the web map's placement rules),
present only when at least one selected claim has a place on it (an intervention or outcome). Each card
shows the statement (as the slide title, so it appears in outlines and to screen readers), the effect with
a small chart of its figure beside it (only when the figure the card leads with is a number a bar or dot
can show), the certainty and the in-text citation; the speaker notes hold the verbatim quote from the
source document. Sizes are chosen from the text length because python-pptx cannot measure text; the text
boxes also ask the viewer to shrink text that still overflows.
"""

from __future__ import annotations

import datetime
import io
import math
import re
from collections.abc import Iterable, Mapping

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from ingest.schema import json_list
from kb.charts import slides as chart_slides
from search.results import headline_effect

from .apa import Bibliography, html_to_runs
from .csl import safe_url
from .markdown import certainty_label, discrepancy_note
from .select import cited_keys

INK = RGBColor(0x1F, 0x29, 0x37)
MUTED = RGBColor(0x6B, 0x72, 0x80)
ACCENT = RGBColor(0x0F, 0x76, 0x6E)
CERTAINTY_COLOURS = {
    "high": RGBColor(0x15, 0x80, 0x3D),
    "moderate": RGBColor(0xB4, 0x53, 0x09),
    "low": RGBColor(0xB9, 0x1C, 0x1C),
    "very_low": RGBColor(0xB9, 0x1C, 0x1C),
}
FONT = "Calibri"

# The standard 16:9 size exactly (Inches(13.333) rounds to 12,191,695 EMU).
SLIDE_W, SLIDE_H = Emu(12_192_000), Emu(6_858_000)
MARGIN = Inches(0.7)
BODY_W = SLIDE_W - 2 * MARGIN
TITLE_ONLY_LAYOUT = 5
REFERENCE_BOX_H = Inches(5.6)
EFFECT_W = Inches(7.6)
EFFECT_BOX_H = Inches(1.55)
# The card's chart sits at the right of the effect column; the figure's text keeps the rest.
CHART_W, CHART_H, CHART_GAP = Inches(2.7), Inches(1.45), Inches(0.2)
# The map fills the slide below its title; a small selection's map is not blown up past this many EMU per
# Vega pixel (its bubbles would be huge and its text larger than the title).
MAP_TOP, MAP_BOX_H = Inches(1.45), Inches(4.95)
MAP_MAX_EMU_PER_PX = 15_000


def _size_for(text: str, steps: list[tuple[int, int]], smallest: int) -> int:
    for limit, size in steps:
        if len(text) <= limit:
            return size
    return smallest


def _paragraph(frame, text: str, *, size: int, colour=INK, bold=False, italic=False, first=False, align=None):
    paragraph = frame.paragraphs[0] if first else frame.add_paragraph()
    run = paragraph.add_run()
    run.text = text
    font = run.font
    font.size, font.bold, font.italic, font.name = Pt(size), bold, italic, FONT
    font.color.rgb = colour
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _text_box(slide, name, left, top, width, height, *, anchor=MSO_ANCHOR.TOP):
    shape = slide.shapes.add_textbox(left, top, width, height)
    shape.name = name  # shown in PowerPoint's selection pane; tests find shapes by it
    frame = shape.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = 0
    return frame


def _accent_bar(slide):
    bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, Inches(0.18), SLIDE_H)
    bar.name = "Accent bar"
    bar.fill.solid()
    bar.fill.fore_color.rgb = ACCENT
    bar.line.fill.background()


def _set_title(slide, text: str, size: int, top=Inches(0.9), height=Inches(2.5)):
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = MARGIN, top, BODY_W, height
    frame = title.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.TOP
    frame.margin_left = frame.margin_right = 0  # line up with the text boxes
    frame.text = ""
    paragraph = _paragraph(frame, text, size=size, first=True, align=PP_ALIGN.LEFT)
    paragraph.runs[0].font.bold = True


def _label_and_value(slide, left, width, label, value, *, size, colour):
    frame = _text_box(slide, label, left, Inches(3.75), width, EFFECT_BOX_H)
    _paragraph(frame, label.upper(), size=13, colour=MUTED, bold=True, first=True)
    _paragraph(frame, value, size=size, colour=colour, bold=True)
    return frame


def _notes(claim: Mapping, bibliography: Bibliography, keys: list[str]) -> str:
    where = []
    if claim.get("slide_number") is not None:
        heading = f" \u201c{claim['slide_heading']}\u201d" if claim.get("slide_heading") else ""
        where.append(f"slide {claim['slide_number']}{heading}")
    if claim.get("line_start") is not None:
        end = claim.get("line_end") or claim["line_start"]
        where.append(
            f"line {claim['line_start']}" if end == claim["line_start"] else f"lines {claim['line_start']}\u2013{end}"
        )
    lines = [
        f"Verbatim from {claim.get('document_id') or 'the source document'}"
        + (f" ({', '.join(where)})" if where else "")
        + ":"
    ]
    lines.append(claim.get("quote") or "")
    if claim.get("certainty_note"):
        lines += ["", f"Certainty: {' '.join(claim['certainty_note'].split())}"]
    note = discrepancy_note(claim, bibliography, markup="plain")
    if note:
        lines += ["", f"Deck vs source: {note}"]
    references = [r.text for r in bibliography.references("plain") if r.key in keys]
    if references:
        lines += ["", "Source" + ("s" if len(references) > 1 else "") + ":", *references]
    return "\n".join(lines)


def add_evidence_card(prs, claim: Mapping, bibliography: Bibliography, number: int, total: int):
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    _accent_bar(slide)
    header = _text_box(slide, "Header", MARGIN, Inches(0.35), BODY_W, Inches(0.45))
    kind = (claim.get("kind") or "evidence").capitalize()
    _paragraph(header, f"{kind} \u00b7 {number} of {total}", size=14, colour=MUTED, first=True)

    statement = " ".join(claim["statement"].split())
    _set_title(slide, statement, _size_for(statement, [(90, 34), (150, 30), (220, 26), (320, 22)], 18))

    effect, qualifier = headline_effect(claim)
    discrepant = claim.get("effect_status") == "discrepant" and qualifier
    # The same test headline_effect leads with the source's figure by: the chart leads with the same figure.
    chart = chart_slides.effect_chart_png(
        claim, source_first=claim.get("effect_status") == "discrepant" and bool(claim.get("source_effect_text"))
    )
    width = EFFECT_W - CHART_W - CHART_GAP if chart else EFFECT_W
    size = _size_for(effect, [(18, 40), (30, 32), (90, 24)], 18) if effect else 20
    if chart and effect:
        size = _fitting_size(effect, qualifier, width, size)
    label = "Source figure" if discrepant else "Effect"
    frame = _label_and_value(
        slide,
        MARGIN,
        width,
        label,
        effect or "No effect size stated",
        size=size,
        colour=ACCENT if effect else MUTED,
    )
    if chart:
        _add_effect_chart(slide, chart, claim)
    if qualifier:
        # At least 18 pt: the deck's own figure must stay readable (issue 10.3).
        _paragraph(frame, qualifier[0].upper() + qualifier[1:], size=18, colour=INK, italic=True)
    certainty = claim.get("certainty")
    certainty_frame = _label_and_value(
        slide,
        MARGIN + Inches(8.1),
        Inches(4.0),
        "Certainty",
        certainty_label(certainty) or "Not stated",
        size=28,
        colour=CERTAINTY_COLOURS.get(certainty, MUTED),
    )
    if claim.get("certainty_note"):
        _paragraph(certainty_frame, " ".join(claim["certainty_note"].split()), size=14, colour=MUTED)

    keys = cited_keys(claim)
    citation = bibliography.cite(keys) or "No source identified"
    frame = _text_box(slide, "Citation", MARGIN, Inches(5.55), BODY_W, Inches(0.6))
    _paragraph(frame, citation, size=20, colour=INK if keys else MUTED, first=True)

    note = discrepancy_note(claim, bibliography, markup="plain")
    if note:
        frame = _text_box(slide, "Discrepancy", MARGIN, Inches(6.25), BODY_W, Inches(0.95))
        _paragraph(
            frame,
            f"Note: {note}",
            size=_size_for(note, [(160, 14), (300, 12)], 10),
            colour=MUTED,
            italic=True,
            first=True,
        )

    referenced = keys + ([claim["source_effect_source"]] if note and claim.get("source_effect_source") else [])
    slide.notes_slide.notes_text_frame.text = _notes(claim, bibliography, referenced)
    return slide


def _lines(text: str, size: float, width: int) -> int:
    chars_per_line = (width / 914400) * 72 / (size * 0.47)
    return max(1, math.ceil(len(text) / chars_per_line))


def _fitting_size(effect: str, qualifier: str | None, width: int, size: int) -> int:
    """The largest size up to `size` at which the label, the figure and the 18 pt qualifier fit the effect box
    `width` wide; only a long verbatim source passage goes below 18 pt, so the viewer never has to shrink the
    box and with it the deck's figure below 18 pt."""
    room = (EFFECT_BOX_H - Inches(0.1)) / 12700  # points, less the frame's top and bottom insets
    fixed = 13 * 1.2 + (_lines(qualifier, 18, width) * 18 * 1.2 if qualifier else 0)
    for candidate in [s for s in (40, 32, 28, 24, 20, 18, 16, 14, 13, 12) if s <= size]:
        if fixed + _lines(effect, candidate, width) * candidate * 1.2 <= room:
            return candidate
    return 12


def _picture_fit(image: bytes, max_w: int, max_h: int, max_emu_per_px: float | None = None) -> tuple[int, int]:
    from PIL import Image  # python-pptx's own dependency

    with Image.open(io.BytesIO(image)) as im:
        px_w, px_h = im.size
    scale = min(max_w / px_w, max_h / px_h, max_emu_per_px or float("inf"))
    return int(px_w * scale), int(px_h * scale)


def _describe(picture, text: str) -> None:
    # Alt text for screen readers; python-pptx has no API for it.
    picture._element.nvPicPr.cNvPr.set("descr", text)


def _add_effect_chart(slide, png: bytes, claim: Mapping):
    width, height = _picture_fit(png, CHART_W, CHART_H)
    left = MARGIN + EFFECT_W - CHART_W
    top = Inches(3.75) + (EFFECT_BOX_H - height) // 2
    picture = slide.shapes.add_picture(io.BytesIO(png), left, top, width, height)
    picture.name = "effect-chart"  # tests and PowerPoint's selection pane find it by name
    rows = chart_slides.card_figures(
        claim, source_first=claim.get("effect_status") == "discrepant" and bool(claim.get("source_effect_text"))
    )
    _describe(picture, "Chart of the figure: " + "; ".join(f"{label} {f.text}" for label, f in rows))
    return picture


def add_map_slide(prs, claims: list[Mapping], topic_labels: Mapping[str, str] | None = None):
    """The evidence map of the selected claims, or None (no slide) when none of them has a place on it."""
    selection = chart_slides.selection_map(claims, topic_labels)
    if selection is None:
        return None
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    _accent_bar(slide)
    _set_title(slide, selection.title, 30, top=Inches(0.45), height=Inches(0.9))
    png = selection.png()
    width, height = _picture_fit(png, BODY_W, MAP_BOX_H, MAP_MAX_EMU_PER_PX / chart_slides.MAP_SCALE)
    picture = slide.shapes.add_picture(io.BytesIO(png), MARGIN + (BODY_W - width) // 2, MAP_TOP, width, height)
    picture.name = "evidence-map"
    n, mapped = selection.n_claims, selection.n_mapped
    caption = f"The {n} claim{'s' if n != 1 else ''} in this deck: {mapped} on the map, placed by their topics"
    if n > mapped:
        caption += f"; {n - mapped} with no intervention or outcome {'are' if n - mapped > 1 else 'is'} not shown"
    caption += "."
    _describe(picture, f"{selection.title}. {caption}")
    frame = _text_box(slide, "Map caption", MARGIN, MAP_TOP + MAP_BOX_H + Inches(0.15), BODY_W, Inches(0.5))
    _paragraph(frame, caption, size=16, colour=MUTED, first=True)
    slide.notes_slide.notes_text_frame.text = _map_notes(selection)
    return slide


def _map_notes(selection) -> str:
    """Each cell's claims by certainty, for the presenter (the picture's numbers as text)."""
    cells: dict[tuple[str, str], list[str]] = {}
    for row in selection.counts:
        level = certainty_label(row["certainty"]) or "certainty not stated"
        cells.setdefault((row["exposure"], row["outcome"]), []).append(f"{row['n_claims']} {level.lower()}")
    lines = ["Claims per cell (intervention or exposure \u2192 outcome), by certainty:"]
    for (exposure, outcome), parts in cells.items():
        lines.append(f"{selection.labels[exposure]} \u2192 {selection.labels[outcome]}: {', '.join(parts)}")
    return "\n".join(lines)


def _estimated_height(texts: list[str], size: int) -> int:
    """EMU needed for these references at `size` points in the body width."""
    chars_per_line = (BODY_W / 914400) * 72 / (size * 0.47)
    lines = sum(math.ceil(len(t) / chars_per_line) for t in texts)
    return int((lines * size * 1.2 + len(texts) * size * 0.6) / 72 * 914400)


def _reference_pages(texts: list[str]) -> list[tuple[list[int], int]]:
    """Split the references over as few slides as fit: [(indexes, font size)]."""
    sizes = [20, 18, 16, 14, 12]
    for size in sizes:
        if _estimated_height(texts, size) <= REFERENCE_BOX_H:
            return [(list(range(len(texts))), size)]
    size = sizes[-1]
    pages, current = [], []
    for i, text in enumerate(texts):
        if current and _estimated_height([texts[j] for j in current] + [text], size) > REFERENCE_BOX_H:
            pages.append((current, size))
            current = []
        current.append(i)
    pages.append((current, size))
    return pages


def _hanging_indent(paragraph, indent=Inches(0.5)):
    # APA reference lists hang by half an inch; python-pptx has no API for it.
    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.set("marL", str(Emu(indent)))
    p_pr.set("indent", str(-Emu(indent)))


def add_reference_slides(prs, bibliography: Bibliography) -> list:
    references = bibliography.references("html")
    texts = [" ".join(t for t, _ in html_to_runs(r.text)) for r in references]
    slides = []
    pages = _reference_pages(texts) if references else [([], 20)]
    for n, (indexes, size) in enumerate(pages):
        slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
        _accent_bar(slide)
        _set_title(
            slide, "References" if n == 0 else "References (continued)", 32, top=Inches(0.45), height=Inches(0.9)
        )
        frame = _text_box(slide, "References", MARGIN, Inches(1.5), BODY_W, REFERENCE_BOX_H)
        if not indexes:
            _paragraph(frame, "No sources cited.", size=size, colour=MUTED, first=True)
        for j, i in enumerate(indexes):
            paragraph = frame.paragraphs[0] if j == 0 else frame.add_paragraph()
            _hanging_indent(paragraph)
            paragraph.space_after = Pt(size * 0.6)
            for text, italic in html_to_runs(references[i].text):
                run = paragraph.add_run()
                run.text = text
                run.font.size, run.font.italic, run.font.name = Pt(size), italic, FONT
                run.font.color.rgb = INK
        slides.append(slide)
    return slides


def _core_properties(prs, claims: list[Mapping], bibliography: Bibliography) -> None:
    # python-pptx's default template carries its own author ("Steve Canny"),
    # dates from 2013 and a thumbnail; a trainer's deck must describe itself.
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    props = prs.core_properties
    topics = sorted({t for c in claims for t in json_list(c.get("topics"))})
    props.title = f"Evidence cards: {len(claims)} claim{'s' if len(claims) != 1 else ''}"
    props.subject = _fit("; ".join(" ".join(c["statement"].split()) for c in claims[:3]) or "References")
    props.author = props.last_modified_by = "Evidence KB"
    props.keywords = _fit(", ".join(topics))
    props.comments = f"{len(bibliography.keys)} sources, APA 7"
    props.created = props.modified = now
    props.revision = 1
    props.category = props.content_status = props.identifier = props.language = props.version = ""
    props.last_printed = now
    _drop_thumbnail(prs)


def _fit(text: str, limit: int = 255) -> str:
    # OOXML core properties hold at most 255 characters.
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _drop_thumbnail(prs) -> None:
    # The template's thumbnail shows python-pptx's sample slide; PowerPoint
    # makes a fresh one on save, and no thumbnail is valid OOXML.
    rels = prs.part.package._rels  # python-pptx has no public API for package rels
    for r_id in [r_id for r_id, rel in rels.items() if rel.reltype.endswith("/thumbnail")]:
        rels.pop(r_id)


def _hyperlink_urls(prs) -> None:
    """DOIs and URLs in the reference and notes text become clickable links."""
    for slide in prs.slides:
        for shape in slide.shapes:
            if not shape.has_text_frame:
                continue
            for paragraph in shape.text_frame.paragraphs:
                _link_runs(paragraph)


def _link_runs(paragraph) -> None:
    import copy

    for run in list(paragraph.runs):
        parts = re.split(r"(https?://\S+?)(?=\.?(?:\s|$))", run.text)
        if len(parts) == 1:
            continue
        run.text = parts[0]
        anchor = run
        for part in parts[1:]:
            if not part:
                continue
            new_r = copy.deepcopy(run._r)
            anchor._r.addnext(new_r)
            from pptx.text.text import _Run

            new_run = _Run(new_r, paragraph)
            new_run.text = part
            if re.match(r"https?://", part) and safe_url(part):
                new_run.hyperlink.address = part
            anchor = new_run


def build_presentation(
    claims: Iterable[Mapping], sources: Iterable[Mapping], *, topic_labels: Mapping[str, str] | None = None
) -> Presentation:
    """The deck: the evidence map (when any claim has a place on it), the cards in the order given, the references.

    topic_labels (topic id -> label, as in the topics table) name the map's rows and columns; without them a
    topic's id is spelt out ("staff-wellbeing" -> "Staff wellbeing").
    """
    claims = list(claims)
    bibliography = Bibliography(sources)
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    _core_properties(prs, claims, bibliography)
    add_map_slide(prs, claims, topic_labels)
    for number, claim in enumerate(claims, 1):
        add_evidence_card(prs, claim, bibliography, number, len(claims))
    add_reference_slides(prs, bibliography)
    _hyperlink_urls(prs)
    return prs


def format_pptx(
    claims: Iterable[Mapping], sources: Iterable[Mapping], topic_labels: Mapping[str, str] | None = None
) -> bytes:
    """The deck as .pptx bytes."""
    buffer = io.BytesIO()
    build_presentation(claims, sources, topic_labels=topic_labels).save(buffer)
    return buffer.getvalue()

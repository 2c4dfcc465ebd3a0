"""A Word handout of the selected claims and their references (issue 12.2).

A trainer prints it or mails it after a session: the title and date, then per
claim the statement as a heading, the headline figure (the same rules as the
Markdown and PowerPoint cards, from kb.cite.markdown), the certainty with its
reason, the verbatim quote and the in-text citation; then the APA 7 reference
list with italics, a hanging indent and clickable DOIs/URLs.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser

from docx import Document
from docx.enum.text import WD_UNDERLINE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Inches, Pt, RGBColor

from ingest.schema import json_list
from search.results import headline_effect

from .apa import Bibliography
from .csl import safe_url
from .markdown import certainty_line, discrepancy_note
from .select import cited_keys

MUTED = RGBColor(0x6B, 0x72, 0x80)
LINK = RGBColor(0x05, 0x63, 0xC1)  # Word's own hyperlink blue
TITLE = "Evidence handout"

# XML 1.0 cannot hold most C0 controls, U+FFFE/U+FFFF or lone surrogates, and
# lxml refuses them with a ValueError mid-export. C1 controls and DEL are legal
# but invisible and upset some readers. Each becomes U+FFFD, so the reader
# sees that the data held something here rather than silently losing it.
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text) -> str:
    return _NOT_XML_TEXT.sub("\ufffd", str(text))


def _one_line(text) -> str:
    return " ".join(xml_safe(text).split())


# -- runs from kb.cite's HTML -----------------------------------------------------------


class _Runs(HTMLParser):
    """kb.cite's HTML (<i>, <b>, <a href>) as (text, italic, href) runs.

    The markup is ours (data inside it is escaped by kb.cite.apa), so only
    these tags mean anything; any other tag is dropped and its text kept.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.runs: list[tuple[str, bool, str | None]] = []
        self._italic = 0
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "i":
            self._italic += 1
        elif tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag):
        if tag == "i":
            self._italic = max(0, self._italic - 1)
        elif tag == "a":
            self._href = None

    def handle_data(self, data):
        if data:
            self.runs.append((data, self._italic > 0, self._href))


def html_runs(html_text: str) -> list[tuple[str, bool, str | None]]:
    parser = _Runs()
    parser.feed(html_text)
    parser.close()
    return parser.runs


def _linkable(url: str | None) -> bool:
    # Relative links (which safe_url allows for the web pages) mean nothing in a file.
    return bool(url) and re.match(r"(?i)(?:https?://|doi:)", url) is not None and safe_url(url) and url == xml_safe(url)


def add_hyperlink(paragraph, url: str, text: str, *, italic: bool = False):
    """An external hyperlink around one run.

    python-docx has no public API for writing hyperlinks (it only reads them),
    so the relationship to the URL and the w:hyperlink element are made here.
    """
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), r_id)
    run = paragraph.add_run(xml_safe(text))
    run.italic = italic or None
    # The default template has no "Hyperlink" character style to point at.
    run.font.color.rgb = LINK
    run.font.underline = WD_UNDERLINE.SINGLE
    hyperlink.append(run._r)  # moves the run from the paragraph into the link
    paragraph._p.append(hyperlink)
    return hyperlink


def add_html(paragraph, html_text: str, *, bold: bool = False) -> None:
    for text, italic, href in html_runs(html_text):
        if _linkable(href):
            add_hyperlink(paragraph, href, text, italic=italic)
        else:
            run = paragraph.add_run(xml_safe(text))
            run.italic = italic or None
            run.bold = bold or None


def _text(paragraph, text: str, *, bold=False, italic=False, colour=None, size=None):
    run = paragraph.add_run(xml_safe(text))
    run.bold = bold or None
    run.italic = italic or None
    if colour is not None:
        run.font.color.rgb = colour
    if size is not None:
        run.font.size = Pt(size)
    return run


# -- the handout --------------------------------------------------------------------------


def _where(claim: Mapping) -> str:
    """ "deck, slide 7 “Compassion …”, lines 1–3": where a trainer finds the quote."""
    parts = [_one_line(claim.get("document_id") or "the source document")]
    if claim.get("slide_number") is not None:
        heading = f" \u201c{_one_line(claim['slide_heading'])}\u201d" if claim.get("slide_heading") else ""
        parts.append(f"slide {claim['slide_number']}{heading}")
    if claim.get("line_start") is not None:
        start, end = claim["line_start"], claim.get("line_end") or claim["line_start"]
        parts.append(f"line {start}" if end == start else f"lines {start}\u2013{end}")
    return ", ".join(parts)


def add_claim(document, claim: Mapping, bibliography: Bibliography) -> None:
    paragraphs = [document.add_heading(_one_line(claim["statement"]), level=1)]

    def paragraph(text: str | None = None, style: str | None = None):
        paragraphs.append(document.add_paragraph(text, style=style))
        return paragraphs[-1]

    figure, qualifier = headline_effect(claim)
    if figure:
        label = "Source figure" if claim.get("effect_status") == "discrepant" and qualifier else "Effect"
        line = paragraph()
        _text(line, f"{label}: ", bold=True)
        _text(line, _one_line(figure), bold=True)
        if qualifier:
            _text(line, f" ({_one_line(qualifier)})", italic=True)

    certainty = certainty_line(claim)
    line = paragraph()
    _text(line, "Certainty: ", bold=True)
    _text(line, xml_safe(certainty) if certainty else "not stated")

    if claim.get("quote"):
        # Verbatim, extraction line breaks included: it is what the document says.
        paragraph(f"\u201c{xml_safe(claim['quote'])}\u201d", style="Quote")
        _text(paragraph(), f"Verbatim from {_where(claim)}", colour=MUTED, size=9)

    line = paragraph()
    _text(line, "Source: ", bold=True)
    citation = bibliography.cite(cited_keys(claim), "html")
    if citation:
        add_html(line, citation)
    else:
        # Said in the handout itself, so an unsourced claim is not mistaken for a sourced one.
        _text(line, "none identified", italic=True)

    note = discrepancy_note(claim, bibliography, markup="plain")
    if note:
        line = paragraph()
        _text(line, "Deck vs source: ", bold=True, colour=MUTED, size=10)
        _text(line, _one_line(note), italic=True, colour=MUTED, size=10)

    # A claim is read as one card: keep it on one page where it fits.
    for p in paragraphs[:-1]:
        p.paragraph_format.keep_with_next = True


def add_references(document, bibliography: Bibliography) -> None:
    document.add_heading("References", level=1)
    references = bibliography.references("html")
    if not references:
        _text(document.add_paragraph(), "No sources cited.", italic=True, colour=MUTED)
    for reference in references:
        paragraph = document.add_paragraph()
        # APA 7 (2.24): a half-inch hanging indent.
        paragraph.paragraph_format.left_indent = Inches(0.5)
        paragraph.paragraph_format.first_line_indent = Inches(-0.5)
        add_html(paragraph, reference.text)


def _fit(text: str, limit: int = 255) -> str:
    # OOXML core properties hold at most 255 characters; python-docx raises past it.
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _long_date(day: datetime.date) -> str:
    months = "January February March April May June July August September October November December".split()
    return f"{day.day} {months[day.month - 1]} {day.year}"  # not %B: that follows the locale


def _core_properties(
    document, claims: list[Mapping], bibliography: Bibliography, now: datetime.datetime, day: datetime.date
) -> None:
    # python-docx's default template says author "python-docx", comments
    # "generated by python-docx" and dates from 2013; the handout describes itself.
    props = document.core_properties
    topics = sorted({t for c in claims for t in json_list(c.get("topics")) if isinstance(t, str)})
    props.title = f"{TITLE}, {_long_date(day)}"
    props.subject = _fit(
        xml_safe(f"{len(claims)} claim{'s' if len(claims) != 1 else ''} and their references: ")
        + "; ".join(_one_line(c["statement"]) for c in claims[:3])
    )
    props.author = props.last_modified_by = "Evidence KB"
    props.keywords = _fit(xml_safe(", ".join(topics)))
    props.comments = f"{len(bibliography.keys)} sources, APA 7"
    props.created = props.modified = now
    props.revision = 1
    props.category = props.content_status = props.identifier = props.language = props.version = ""
    _drop_template_parts(document)


def _drop_template_parts(document) -> None:
    # The template's thumbnail shows python-docx's sample page and its app.xml
    # claims "Microsoft Macintosh Word" with zero words; both parts are optional
    # in OOXML and Word writes fresh ones on save.
    rels = document.part.package.rels  # python-docx has no API to remove a package part
    for r_id in [r_id for r_id, rel in rels.items() if rel.reltype in (RT.THUMBNAIL, RT.EXTENDED_PROPERTIES)]:
        rels.pop(r_id)
        rels.related_parts.pop(r_id, None)


def build_handout(claims: Iterable[Mapping], sources: Iterable[Mapping], *, now: datetime.datetime | None = None):
    claims = list(claims)
    bibliography = Bibliography(sources)
    now = now or datetime.datetime.now(datetime.UTC)
    # The date printed is the trainer's; the stored times are UTC (OOXML's W3CDTF "Z").
    day = now.astimezone().date() if now.tzinfo else now.date()
    if now.tzinfo:
        now = now.astimezone(datetime.UTC)
    now = now.replace(tzinfo=None, microsecond=0)
    document = Document()
    section = document.sections[0]
    # A4 with 2.5 cm margins: the handouts are printed in the UK (the template is US Letter).
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2.5)
    _core_properties(document, claims, bibliography, now, day)

    document.add_heading(TITLE, level=0)
    n_sources = len(bibliography.keys)
    subtitle = (
        f"{_long_date(day)} \u00b7 {len(claims)} claim{'s' if len(claims) != 1 else ''} \u00b7 "
        f"{n_sources} source{'s' if n_sources != 1 else ''}"
    )
    document.add_paragraph(subtitle, style="Subtitle")
    for claim in claims:
        add_claim(document, claim, bibliography)
    add_references(document, bibliography)
    return document


def format_docx(
    claims: Iterable[Mapping], sources: Iterable[Mapping], *, now: datetime.datetime | None = None
) -> bytes:
    """The handout as .docx bytes."""
    buffer = io.BytesIO()
    build_handout(claims, sources, now=now).save(buffer)
    return buffer.getvalue()

"""The document readers of `kb ingest`, on real files made by tests/documents.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil

import pytest
from documents import (
    DECK_DIR,
    DECK_ID,
    deck_slides,
    pdf_bytes,
    write_deck_renderings,
    write_docx,
    write_encrypted_pdf,
    write_html,
    write_pdf,
    write_pptx,
    write_pptx_shapes,
    write_scanned_pdf,
)

from ingest.readers import MAX_BYTES, SUPPORTED_EXTENSIONS, ReaderError, read_document


def section_text(doc, section) -> str:
    return doc.text[section.char_start : section.char_end]


def sections_of(doc, kind: str) -> list:
    return [s for s in doc.sections if s.kind == kind]


def collapsed(text: str) -> str:
    return " ".join(text.split())


# --- dispatch, limits, common errors -----------------------------------------------------------------------------


def test_supported_extensions_and_limit():
    assert set(SUPPORTED_EXTENSIONS) == {".pdf", ".pptx", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"}
    assert MAX_BYTES == 50 * 1024 * 1024


def test_unsupported_extension_lists_the_supported_ones(tmp_path):
    path = tmp_path / "notes.rtf"
    path.write_text("{\\rtf1 hello}")
    with pytest.raises(ReaderError) as err:
        read_document(path)
    assert "unsupported file type '.rtf'" in str(err.value)
    assert all(ext in err.value.message for ext in SUPPORTED_EXTENSIONS)


def test_extension_is_case_insensitive(tmp_path):
    path = tmp_path / "NOTES.TXT"
    path.write_text("Upper-case extension.\n")
    assert read_document(path).text == "Upper-case extension.\n"


def test_missing_file(tmp_path):
    with pytest.raises(ReaderError, match="file not found"):
        read_document(tmp_path / "absent.pdf")


@pytest.mark.parametrize("name", ["big.txt", "big.pdf"])
def test_oversize_file_names_size_and_limit(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"x" * 2048)
    with pytest.raises(ReaderError) as err:
        read_document(path, max_bytes=1000)
    assert "file too large" in err.value.message
    assert "2,048 bytes" in err.value.message and "1,000 bytes" in err.value.message


def test_file_at_the_limit_is_read(tmp_path):
    path = tmp_path / "exact.txt"
    path.write_bytes(b"x" * 100)
    assert read_document(path, max_bytes=100).text == "x" * 100


# --- plain text --------------------------------------------------------------------------------------------------


def test_txt_is_the_file_itself_with_line_ends_and_controls_cleaned(tmp_path):
    data = b"\xef\xbb\xbfFirst line \r\nSecond\rThird\x00 with\x0c\ttab\n\nLast\xe2\x80\x99s line\n"
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    doc = read_document(path)
    assert doc.text == "First line \nSecond\nThird with\ttab\n\nLast\u2019s line\n"
    assert (doc.format, doc.kind, doc.sections) == ("txt", "other", [])
    assert doc.file_sha256 == hashlib.sha256(data).hexdigest()
    assert (doc.title, doc.author, doc.year) == (None, None, None)
    assert doc.location(doc.text.index("Third"))["line"] == 3
    assert doc.location(doc.text.index("Last"))["line"] == 5


def test_txt_invalid_utf8_names_the_byte_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("ok line\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(ReaderError) as err:
        read_document(path)
    assert "not valid UTF-8" in err.value.message
    assert "byte offset 11" in err.value.message and "line 2" in err.value.message


def test_txt_invalid_utf8_offset_counts_the_bom(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfab\xff")
    with pytest.raises(ReaderError, match="byte offset 5"):
        read_document(path)


@pytest.mark.parametrize("name", ["blank.txt", "blank.md"])
def test_whitespace_only_text_is_empty(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b" \r\n\t\n\x00\n")
    with pytest.raises(ReaderError, match="empty document: no text found"):
        read_document(path)


# --- Markdown ----------------------------------------------------------------------------------------------------

MARKDOWN = """# Staff wellbeing

Intro paragraph.

## Stress

Stress text.

```
# not a heading: inside a code block
```

## Retention **and** `turnover`

Retention text.

# Patient outcomes

Setext below
------------

Setext body.
"""


def test_markdown_text_is_exact_and_headings_are_sections(tmp_path):
    path = tmp_path / "notes.md"
    path.write_bytes(MARKDOWN.replace("\n", "\r\n").encode())
    doc = read_document(path)
    assert doc.text == MARKDOWN
    assert (doc.format, doc.kind) == ("md", "other")
    headings = sections_of(doc, "heading")
    assert [h.label for h in headings] == [
        "Staff wellbeing",
        "Stress",
        "Retention and turnover",
        "Patient outcomes",
        "Setext below",
    ]
    assert [h.heading_path for h in headings] == [
        ("Staff wellbeing",),
        ("Staff wellbeing", "Stress"),
        ("Staff wellbeing", "Retention and turnover"),
        ("Patient outcomes",),
        ("Patient outcomes", "Setext below"),
    ]
    stress, retention, top = headings[1], headings[2], headings[0]
    assert section_text(doc, stress).startswith("## Stress\n")
    assert "# not a heading" in section_text(doc, stress)
    assert "Retention text." not in section_text(doc, stress)
    assert section_text(doc, top).endswith("Retention text.\n\n")
    assert section_text(doc, retention).startswith("## Retention **and** `turnover`")
    assert headings[-1].char_end == len(doc.text)
    where = doc.location(doc.text.index("Retention text."))
    assert where["heading_path"] == ["Staff wellbeing", "Retention and turnover"]
    assert where["line"] == 15 and where["page"] is None


def test_markdown_front_matter_is_metadata_not_a_heading(tmp_path):
    text = "---\ntitle: Teams that work\nauthor: [A. Writer, B. Writer]\ndate: 2021-06-30\n---\n\n# Body heading\n\nText.\n"
    path = tmp_path / "fm.markdown"
    path.write_text(text, encoding="utf-8")
    doc = read_document(path)
    assert doc.text == text
    assert (doc.title, doc.author, doc.year) == ("Teams that work", "A. Writer; B. Writer", 2021)
    assert [s.label for s in doc.sections] == ["Body heading"]
    assert section_text(doc, doc.sections[0]).startswith("# Body heading")


def test_markdown_without_front_matter_has_no_metadata(tmp_path):
    path = tmp_path / "plain.md"
    path.write_text("# Heading is not a title\n\nText.\n", encoding="utf-8")
    doc = read_document(path)
    assert (doc.title, doc.author, doc.year) == (None, None, None)


# --- PDF ---------------------------------------------------------------------------------------------------------

PAGE_ONE = [
    "Compassionate leadership matters.",
    "• Staff engagement rose by 12%",
    "Direct ly address the work-",
    "force crisis",
]
PAGE_TWO = ["Second page text.", "Patients\u2019 \u201csatisfaction\u201d \u2013 higher "]


def test_pdf_pages_text_and_locations(tmp_path):
    doc = read_document(write_pdf(tmp_path / "report.pdf", [PAGE_ONE, PAGE_TWO]))
    assert (doc.format, doc.kind) == ("pdf", "report")
    pages = sections_of(doc, "page")
    assert [p.number for p in pages] == [1, 2]
    assert section_text(doc, pages[0]) == "\n".join(PAGE_ONE)
    assert section_text(doc, pages[1]) == "\n".join(PAGE_TWO)
    assert doc.text == "\n".join(PAGE_ONE) + "\n\n" + "\n".join(PAGE_TWO)
    where = doc.location(doc.text.index("satisfaction"))
    assert where["page"] == 2 and where["line"] == len(PAGE_ONE) + 3
    assert doc.location(doc.text.index("force crisis"))["page"] == 1


def test_pdf_landscape_is_a_slide_deck(tmp_path):
    doc = read_document(write_pdf(tmp_path / "deck.pdf", [["Slide one"], ["Slide two"]], landscape=True))
    assert doc.kind == "slide_deck"


def test_pdf_metadata_present_when_the_file_says_so(tmp_path):
    path = write_pdf(
        tmp_path / "m.pdf", [["text"]], title="NHS Staff Survey", author="Jane Doe", created=dt.datetime(2019, 5, 1)
    )
    doc = read_document(path)
    assert (doc.title, doc.author, doc.year) == ("NHS Staff Survey", "Jane Doe", 2019)
    assert doc.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pdf_metadata_absent_when_the_file_is_silent(tmp_path):
    doc = read_document(write_pdf(tmp_path / "n.pdf", [["text"]]))
    assert (doc.title, doc.author, doc.year) == (None, None, None)


def test_pdf_reportlab_placeholders_are_not_metadata(tmp_path):
    path = tmp_path / "rl.pdf"
    path.write_bytes(pdf_bytes([["text"]], reportlab_info=True))  # Title "untitled", Author "anonymous"
    doc = read_document(path)
    assert (doc.title, doc.author) == (None, None)


ROUND_TRIP_LINES = [
    "Compassionate leadership improves staff engagement and the quality of care. ",
    "\u2022 Staff who feel supported are less likely to quit \u2013 and more likely to ",
    "recommend their organisation as a place to work; \u201cpsychological safety\u201d matters.",
    "Teams with clear shared objectives report lower stress and fewer errors in evidence-",
    "based practice, across boundaries and over the longer term (West, 2021).",
    "",
    "A second paragraph follows a blank line: 50% lower, 33% higher, 5.6% difference.",
]


def _round_trip(tmp_path, lines: list[str], per_page: int):
    txt = tmp_path / "source.txt"
    txt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    txt_doc = read_document(txt)
    source_lines = txt_doc.text.split("\n")
    pages = [source_lines[i : i + per_page] for i in range(0, len(source_lines), per_page)]
    pdf_doc = read_document(write_pdf(tmp_path / "source.pdf", pages, font_size=9))
    return txt_doc, pdf_doc, len(pages)


def test_txt_rendered_to_pdf_reads_back_with_the_same_lines(tmp_path):
    lines = [f"{n:03d} {line}" if line else "" for n in range(6) for line in ROUND_TRIP_LINES]
    txt_doc, pdf_doc, n_pages = _round_trip(tmp_path, lines, per_page=15)
    assert n_pages >= 3 and len(sections_of(pdf_doc, "page")) == n_pages
    # A PDF has no blank lines to draw, so only the lines with text can come back.
    assert [line for line in pdf_doc.text.split("\n") if line] == [line for line in txt_doc.text.split("\n") if line]
    for line in filter(None, txt_doc.text.split("\n")):
        assert line in pdf_doc.text


def test_curated_deck_text_rendered_to_pdf_keeps_its_lines(tmp_path):
    lines = (DECK_DIR / f"{DECK_ID}.txt").read_text(encoding="utf-8").split("\n")
    txt_doc, pdf_doc, _ = _round_trip(tmp_path, lines, per_page=60)
    # PDFium keeps one space of a run of spaces ("m et  now"), and Helvetica has no "→" glyph to space after:
    # compare with runs of spaces collapsed.
    back = [collapsed(line) for line in pdf_doc.text.split("\n") if line.strip()]
    assert back == [collapsed(line) for line in txt_doc.text.split("\n") if line.strip()]


def test_pdf_encrypted(tmp_path):
    with pytest.raises(ReaderError) as err:
        read_document(write_encrypted_pdf(tmp_path / "locked.pdf"))
    assert err.value.message == "encrypted PDF: remove the password and try again"


def test_pdf_scanned_has_no_text_layer(tmp_path):
    with pytest.raises(ReaderError) as err:
        read_document(write_scanned_pdf(tmp_path / "scan.pdf"))
    assert err.value.message == "no text layer (scanned?): OCR is not supported"
    assert err.value.page == 1 and "page 1" in str(err.value)


def test_pdf_with_some_empty_pages_is_read(tmp_path):
    doc = read_document(write_pdf(tmp_path / "sparse.pdf", [[], ["Only this page has text."], [], []]))
    pages = sections_of(doc, "page")
    assert [p.number for p in pages] == [1, 2, 3, 4]
    assert section_text(doc, pages[0]) == "" and section_text(doc, pages[1]) == "Only this page has text."
    assert doc.location(doc.text.index("Only"))["page"] == 2


def test_pdf_whitespace_only_is_empty(tmp_path):
    with pytest.raises(ReaderError, match="empty document: no text found"):
        read_document(write_pdf(tmp_path / "spaces.pdf", [["   "], ["  "]]))


def test_pdf_corrupt(tmp_path):
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not really a PDF\n")
    with pytest.raises(ReaderError, match="not a readable PDF: "):
        read_document(path)


def test_pdf_truncated(tmp_path):
    data = write_pdf(tmp_path / "whole.pdf", [PAGE_ONE, PAGE_TWO]).read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderError, match="not a readable PDF: "):
        read_document(path)


# --- PowerPoint --------------------------------------------------------------------------------------------------

SLIDES = [
    ("Why compassion", ["• Lower staff stress", "Better patient outcomes"], None),
    ("The evidence", ["21 RCTs: large improvements", "Cost savings of 5.6%"], "Say where the 21 RCTs come from."),
    ("Next steps", ["Listen with fascination"], None),
]


def test_pptx_slides_notes_and_locations(tmp_path):
    doc = read_document(write_pptx(tmp_path / "deck.pptx", SLIDES))
    assert (doc.format, doc.kind) == ("pptx", "slide_deck")
    slides, notes = sections_of(doc, "slide"), sections_of(doc, "notes")
    assert [(s.number, s.label) for s in slides] == [(1, "Why compassion"), (2, "The evidence"), (3, "Next steps")]
    assert section_text(doc, slides[0]) == "Why compassion\n• Lower staff stress\nBetter patient outcomes"
    assert section_text(doc, slides[1]).startswith("The evidence\n21 RCTs: large improvements")
    assert "Say where" not in section_text(doc, slides[1])
    assert [(n.number, section_text(doc, n)) for n in notes] == [(2, "Say where the 21 RCTs come from.")]
    assert doc.text.startswith(section_text(doc, slides[0]) + "\n\n" + "The evidence")
    assert doc.location(doc.text.index("Cost savings")) | {"line": 0} == {
        "page": None,
        "slide": 2,
        "notes": False,
        "heading_path": [],
        "line": 0,
    }
    in_notes = doc.location(doc.text.index("Say where"))
    assert in_notes["slide"] == 2 and in_notes["notes"] is True
    assert doc.location(doc.text.index("Listen"))["slide"] == 3


def test_pptx_shapes_in_reading_order_with_groups_tables_and_breaks(tmp_path):
    doc = read_document(write_pptx_shapes(tmp_path / "shapes.pptx"))
    assert doc.text.split("\n") == [
        "Shapes in reading order",
        "Top left box",
        "second line after a break",
        "Top right box",
        "Grouped above",
        "Grouped first",
        "Outcome | Effect | n",
        "Stress | -0.3 | 120",
        "Bottom box",
    ]


def test_pptx_metadata_present_when_the_file_says_so(tmp_path):
    path = write_pptx(
        tmp_path / "m.pptx", SLIDES, title="Compassionate teams", author="M. West", created=dt.datetime(2022, 3, 1)
    )
    doc = read_document(path)
    assert (doc.title, doc.author, doc.year) == ("Compassionate teams", "M. West", 2022)
    assert doc.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pptx_python_pptx_defaults_are_not_metadata(tmp_path):
    # The template's own core properties (Steve Canny, 2013) ...
    doc = read_document(write_pptx(tmp_path / "template.pptx", SLIDES))
    assert (doc.title, doc.author, doc.year) == (None, None, None)
    # ... and the values python-pptx writes when a file has none.
    doc = read_document(write_pptx(tmp_path / "d.pptx", SLIDES, title="PowerPoint Presentation", author="python-pptx"))
    assert (doc.title, doc.author) == (None, None)


def test_pptx_empty(tmp_path):
    with pytest.raises(ReaderError, match="empty document: no text found"):
        read_document(write_pptx(tmp_path / "empty.pptx", [("", [], None), (" ", [" "], None)]))


def _corrupt_and_truncated(tmp_path, whole, suffix):
    corrupt = tmp_path / f"corrupt{suffix}"
    corrupt.write_bytes(b"PK\x03\x04 not a zip archive at all")
    data = whole.read_bytes()
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(data[: len(data) // 2])
    return [corrupt, truncated]


def test_pptx_corrupt_and_truncated(tmp_path):
    whole = write_pptx(tmp_path / "whole.pptx", SLIDES)
    for path in _corrupt_and_truncated(tmp_path, whole, ".pptx"):
        with pytest.raises(ReaderError, match="not a readable PowerPoint file: "):
            read_document(path)


def test_word_file_named_pptx_is_not_readable(tmp_path):
    path = tmp_path / "wrong.pptx"
    shutil.copy(write_docx(tmp_path / "real.docx", ["A paragraph."]), path)
    with pytest.raises(ReaderError, match="not a readable PowerPoint file: "):
        read_document(path)


# --- Word --------------------------------------------------------------------------------------------------------

BLOCKS = [
    ("heading", 0, "Annual staff report"),
    "Introduction paragraph.",
    ("heading", 1, "Methods"),
    "We surveyed staff.",
    ("heading", 2, "Sample"),
    "1,200 nurses took part.",
    ("table", [["Group", "n"], ["Nurses", "1,200"]]),
    ("heading", 1, "Results"),
    "Stress fell by 10%.",
]


def test_docx_body_order_tables_and_heading_sections(tmp_path):
    doc = read_document(write_docx(tmp_path / "report.docx", BLOCKS))
    assert (doc.format, doc.kind) == ("docx", "report")
    assert doc.text.split("\n") == [
        "Annual staff report",
        "Introduction paragraph.",
        "Methods",
        "We surveyed staff.",
        "Sample",
        "1,200 nurses took part.",
        "Group | n",
        "Nurses | 1,200",
        "Results",
        "Stress fell by 10%.",
    ]
    by_label = {s.label: s for s in sections_of(doc, "heading")}
    assert list(by_label) == ["Annual staff report", "Methods", "Sample", "Results"]
    assert by_label["Sample"].heading_path == ("Annual staff report", "Methods", "Sample")
    assert by_label["Results"].heading_path == ("Annual staff report", "Results")
    assert (
        section_text(doc, by_label["Methods"])
        == "Methods\nWe surveyed staff.\nSample\n1,200 nurses took part.\nGroup | n\nNurses | 1,200\n"
    )
    assert section_text(doc, by_label["Sample"]).startswith("Sample\n") and "Results" not in section_text(
        doc, by_label["Sample"]
    )
    assert section_text(doc, by_label["Annual staff report"]) == doc.text
    where = doc.location(doc.text.index("Nurses |"))
    assert where["heading_path"] == ["Annual staff report", "Methods", "Sample"] and where["line"] == 8
    assert doc.location(doc.text.index("Stress fell"))["heading_path"] == ["Annual staff report", "Results"]


def test_docx_metadata_present_when_the_file_says_so(tmp_path):
    path = write_docx(
        tmp_path / "m.docx", BLOCKS, title="Staff report", author="A. Analyst", created=dt.datetime(2020, 1, 2)
    )
    doc = read_document(path)
    assert (doc.title, doc.author, doc.year) == ("Staff report", "A. Analyst", 2020)
    assert doc.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_docx_python_docx_defaults_are_not_metadata(tmp_path):
    doc = read_document(write_docx(tmp_path / "d.docx", BLOCKS))  # author "python-docx", created 2013-12-23
    assert (doc.title, doc.author, doc.year) == (None, None, None)
    doc = read_document(write_docx(tmp_path / "w.docx", BLOCKS, title="Word Document"))
    assert doc.title is None


def test_docx_empty(tmp_path):
    with pytest.raises(ReaderError, match="empty document: no text found"):
        read_document(write_docx(tmp_path / "empty.docx", ["", "   "]))


def test_docx_corrupt_and_truncated(tmp_path):
    whole = write_docx(tmp_path / "whole.docx", BLOCKS)
    for path in _corrupt_and_truncated(tmp_path, whole, ".docx"):
        with pytest.raises(ReaderError, match="not a readable Word file: "):
            read_document(path)


# --- HTML --------------------------------------------------------------------------------------------------------

HTML_HEAD = (
    '<meta name="author" content="Ann Author">'
    '<meta name="citation_publication_date" content="2018/04/01">'
    "<style>p { color: red }</style><script>var hidden = 'script text';</script>"
)
HTML_BODY = """
<nav>Home | About | Navigation text</nav>
<header>Site banner</header>
<main>
  <h1>Compassion   in
      care</h1>
  <p>First <b>bold</b> paragraph
     spread over lines.</p>
  <div hidden>Hidden text</div>
  <div style="display: none">Invisible text</div>
  <ul><li>One item</li><li>Two <em>items</em></li></ul>
  <h2>Numbers</h2>
  <table><tr><th>Outcome</th><th>Effect</th></tr><tr><td>Stress</td><td>-10%</td></tr></table>
  <p>Line one<br>Line two</p>
  <form><label>Search</label><input value="form text"></form>
  <aside>Related links</aside>
  <h2>Conclusion</h2>
  <blockquote>Quoted words.</blockquote>
  <noscript>Enable JavaScript</noscript>
</main>
<footer>Footer text</footer>
"""


def test_html_main_content_lines_and_headings(tmp_path):
    doc = read_document(write_html(tmp_path / "page.html", HTML_BODY, title="Compassion | Site", head=HTML_HEAD))
    assert (doc.format, doc.kind) == ("html", "web_page")
    assert doc.text.split("\n") == [
        "Compassion in care",
        "First bold paragraph spread over lines.",
        "• One item",
        "• Two items",
        "Numbers",
        "Outcome | Effect",
        "Stress | -10%",
        "Line one",
        "Line two",
        "Conclusion",
        "Quoted words.",
    ]
    headings = sections_of(doc, "heading")
    assert [(h.label, h.heading_path) for h in headings] == [
        ("Compassion in care", ("Compassion in care",)),
        ("Numbers", ("Compassion in care", "Numbers")),
        ("Conclusion", ("Compassion in care", "Conclusion")),
    ]
    assert section_text(doc, headings[1]) == "Numbers\nOutcome | Effect\nStress | -10%\nLine one\nLine two\n"
    assert doc.location(doc.text.index("Stress |"))["heading_path"] == ["Compassion in care", "Numbers"]
    assert (doc.title, doc.author, doc.year) == ("Compassion | Site", "Ann Author", 2018)


def test_html_article_preferred_and_og_title_citation_authors(tmp_path):
    head = (
        '<meta property="og:title" content="The OG title">'
        '<meta name="citation_author" content="West, Michael">'
        '<meta name="citation_author" content="Chowla, Rachna">'
        '<meta property="article:published_time" content="2017-09-12T10:00:00Z">'
    )
    body = "<div>Outside the article</div><article><h2>Inside</h2><p>Article text.</p></article>"
    doc = read_document(write_html(tmp_path / "a.htm", body, title="Page title", head=head))
    assert doc.text == "Inside\nArticle text."
    assert (doc.title, doc.author, doc.year) == ("The OG title", "West, Michael; Chowla, Rachna", 2017)


def test_html_metadata_absent_when_the_page_is_silent(tmp_path):
    doc = read_document(write_html(tmp_path / "bare.html", "<p>Just text.</p>"))
    assert doc.text == "Just text."
    assert (doc.title, doc.author, doc.year) == (None, None, None)


def test_html_declared_charset_is_used(tmp_path):
    body = "<p>Caf\u00e9 staff \u2013 na\u00efve \u201cquotes\u201d</p>"
    doc = read_document(write_html(tmp_path / "cp.html", body, title="R\u00e9sum\u00e9", encoding="windows-1252"))
    assert doc.text == "Caf\u00e9 staff \u2013 na\u00efve \u201cquotes\u201d"
    assert doc.title == "R\u00e9sum\u00e9"


def test_html_dc_date(tmp_path):
    doc = read_document(write_html(tmp_path / "dc.html", "<p>x</p>", head='<meta name="DC.date" content="2015-02-03">'))
    assert doc.year == 2015


def test_html_empty(tmp_path):
    body = "<nav>Only navigation</nav><script>alert(1)</script><div>   </div>"
    with pytest.raises(ReaderError, match="empty document: no text found"):
        read_document(write_html(tmp_path / "empty.html", body, title="Has a title but no text"))


# --- the curated deck rendered as PowerPoint and as LibreOffice PDF ----------------------------------------------


@pytest.fixture(scope="module")
def deck_renderings(tmp_path_factory):
    """(pptx, pdf | None): LibreOffice runs once for the module."""
    return write_deck_renderings(tmp_path_factory.mktemp("deck"))


def _check_deck_text(doc):
    text = collapsed(doc.text)
    for heading, body in deck_slides():
        # Bracketed headings describe an untitled slide: its first line of text stands in for the heading.
        wanted = heading or body[0]
        assert collapsed(wanted) in text, wanted


def test_deck_pptx_has_every_slide_heading(deck_renderings):
    pptx_path, _ = deck_renderings
    doc = read_document(pptx_path)
    expected = deck_slides()
    slides = sections_of(doc, "slide")
    assert len(slides) == len(expected)
    assert [s.label for s in slides] == [heading or None for heading, _ in expected]
    _check_deck_text(doc)
    for section, (_, body) in zip(slides, expected):
        assert all(collapsed(line) in collapsed(section_text(doc, section)) for line in body)


def test_deck_libreoffice_pdf_has_every_slide_heading(deck_renderings):
    _, pdf_path = deck_renderings
    if pdf_path is None:
        pytest.skip("LibreOffice (soffice) is not on PATH: cannot convert the deck to PDF")
    doc = read_document(pdf_path)
    assert doc.kind == "slide_deck"
    pages = sections_of(doc, "page")
    assert len(pages) == len(deck_slides())
    _check_deck_text(doc)
    for page, (heading, body) in zip(pages, deck_slides()):
        assert collapsed(heading or body[0]) in collapsed(section_text(doc, page))

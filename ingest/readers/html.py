"""HTML (.html, .htm) with BeautifulSoup and lxml.

The readable part only: scripts, styles, navigation, footers, asides, forms
and hidden elements are dropped, and <main> (else the <article>s) is preferred
to the whole <body>. Block elements end lines; whitespace collapses as a
browser collapses it (except inside <pre>); list items get "• "; table rows
are lines with cells joined by " | "; h1-h6 become `heading` sections.
BeautifulSoup decodes with the charset the page declares (BOM, <meta>).
The walk is hand-written, not `get_text()`, because the heading offsets,
line breaks and bullets have to be known while the text is assembled.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

from .base import ExtractedDocument, clean_text, heading_sections, meaningful, sha256_of, year_of

DROPPED_TAGS = ("script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "form", "head")
BLOCK_TAGS = frozenset(
    "p li h1 h2 h3 h4 h5 h6 tr div section article blockquote figcaption dt dd br "
    "ul ol dl table thead tbody tfoot caption header main figure pre hr address details summary".split()
)
HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}
BULLET = "• "
_NOT_TEXT = (Comment, CData, Declaration, Doctype, ProcessingInstruction)
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's collapsible whitespace; a no-break space is not one
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TITLE_KEYS = ("og:title",)
_AUTHOR_KEYS = ("author", "citation_author", "dc.creator")
_DATE_KEYS = (
    "citation_publication_date",
    "citation_date",
    "article:published_time",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
)


def read_html(path, data: bytes) -> ExtractedDocument:
    soup = BeautifulSoup(data, "lxml")
    meta = _meta_values(soup)
    page_title = soup.title.get_text() if soup.title else None
    _drop_unread(soup)
    roots = _content_roots(soup)
    lines = _LineWriter()
    for root in roots:
        lines.walk(root)
    lines.end_line()
    text = "\n".join(lines.lines)
    return ExtractedDocument(
        text=text,
        format="html",
        kind="web_page",
        file_sha256=sha256_of(data),
        title=meaningful(_first(meta, _TITLE_KEYS) or page_title),
        author=meaningful(_authors(meta)),
        year=year_of(_first(meta, _DATE_KEYS)),
        sections=heading_sections(lines.headings, len(text)),
    )


def _meta_values(soup) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for tag in soup.find_all("meta"):
        key = (tag.get("name") or tag.get("property") or "").strip().lower()
        content = (tag.get("content") or "").strip()
        if key and content:
            values.setdefault(key, []).append(content)
    return values


def _first(meta: dict[str, list[str]], keys) -> str | None:
    return next((meta[key][0] for key in keys if key in meta), None)


def _authors(meta: dict[str, list[str]]) -> str | None:
    for key in _AUTHOR_KEYS:
        if key in meta:
            return "; ".join(dict.fromkeys(meta[key]))  # citation_author is repeated once per author
    return None


def _drop_unread(soup) -> None:
    doomed = list(soup.find_all(DROPPED_TAGS)) + [t for t in soup.find_all(True) if _is_hidden(t)]
    for tag in doomed:
        if not tag.decomposed:  # already gone with an ancestor
            tag.decompose()


def _is_hidden(tag: Tag) -> bool:
    return (
        tag.has_attr("hidden")
        or (tag.get("aria-hidden") or "").lower() == "true"
        or bool(_HIDDEN_STYLE.search(tag.get("style") or ""))
        or (tag.name == "input" and (tag.get("type") or "").lower() == "hidden")
    )


def _content_roots(soup) -> list:
    main = soup.find("main")
    if main is not None:
        return [main]
    articles = [a for a in soup.find_all("article") if a.find_parent("article") is None]
    return articles or [soup.body or soup]


class _LineWriter:
    """Turns the element tree into lines, noting where each heading starts."""

    def __init__(self):
        self.lines: list[str] = []
        self.headings: list[tuple[int, str, int]] = []  # (level, label, char_start)
        self._offset = 0  # where the next line will start in the joined text
        self._pieces: list[str] = []
        self._preformatted = False
        self._pre_depth = 0
        self._cells: list[int] = []  # cells seen so far in each open table row
        self._open_headings: dict[int, tuple[int, int]] = {}  # id(tag) -> (char_start, index of its first line)

    def walk(self, root) -> None:
        # An explicit stack, not recursion: deeply nested pages must not hit Python's recursion limit.
        stack = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self._leave(node)
                continue
            if isinstance(node, NavigableString):
                if not isinstance(node, _NOT_TEXT):
                    self._write_text(str(node))
                continue
            if not isinstance(node, Tag):
                continue
            self._enter(node)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))

    def _enter(self, tag: Tag) -> None:
        name = tag.name
        if name in BLOCK_TAGS:
            self.end_line()
        if name in HEADING_TAGS:
            self._open_headings[id(tag)] = (self._offset, len(self.lines))
        elif name == "li":
            self._pieces.append(BULLET)
        elif name == "tr":
            self._cells.append(0)
        elif name in ("td", "th") and self._cells:
            if self._cells[-1]:
                self._pieces.append(" | ")
            self._cells[-1] += 1
        elif name == "pre":
            self._pre_depth += 1

    def _leave(self, tag: Tag) -> None:
        name = tag.name
        if name == "br":
            return
        if name in BLOCK_TAGS:
            self.end_line()
        if name in HEADING_TAGS:
            start, first_line = self._open_headings.pop(id(tag))
            label = " ".join(" ".join(self.lines[first_line:]).split())
            if label:
                self.headings.append((HEADING_TAGS[name], label, start))
        elif name == "tr" and self._cells:
            self._cells.pop()
        elif name == "pre":
            self._pre_depth -= 1

    def _write_text(self, text: str) -> None:
        text = clean_text(text)
        if not self._pre_depth:
            self._pieces.append(text)
            return
        self._preformatted = True
        first, *rest = text.split("\n")
        self._pieces.append(first)
        for segment in rest:
            self.end_line()
            self._preformatted = True
            self._pieces.append(segment)

    def end_line(self) -> None:
        joined = "".join(self._pieces)
        line = joined.rstrip() if self._preformatted else _HTML_SPACE.sub(" ", joined).strip()
        self._pieces, self._preformatted = [], False
        if line and line != BULLET.strip():
            self.lines.append(line)
            self._offset += len(line) + 1

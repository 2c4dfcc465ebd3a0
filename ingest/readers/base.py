"""What every reader returns: the document's text and where each part of it stands.

A reader turns a file into one string (`text`, `\n` line ends) plus the
sections that map offsets back to the file: pages of a PDF, slides and
speaker notes of a PPTX, headings of a DOCX, HTML or Markdown file. Offsets
are Python string offsets into `text`, end exclusive; lines are 1-based, as
everywhere in the KB, so a candidate's quote is `text[char_start:char_end]`.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field


class ReaderError(Exception):
    """A file that cannot be read, with the place to show the user: file, page (where it applies), message."""

    def __init__(self, path, message: str, page: int | None = None):
        self.path, self.message, self.page = str(path), message, page
        super().__init__(str(self))

    def __str__(self) -> str:
        place = self.path if self.page is None else f"{self.path}: page {self.page}"
        return f"{place}: {self.message}"


# Section kinds, and which JSON field of a candidate each fills.
SECTION_KINDS = ("page", "slide", "notes", "heading")


@dataclass
class Section:
    kind: str  # one of SECTION_KINDS
    number: int | None  # page or slide number, 1-based; None for headings
    label: str | None  # the slide title or heading text
    char_start: int
    char_end: int
    heading_path: tuple[str, ...] = ()  # for "heading": the headings from the top down to this one


@dataclass
class ExtractedDocument:
    text: str
    format: str  # "pdf", "pptx", "docx", "html", "md", "txt"
    kind: str  # one of ingest.vocabulary.DOCUMENT_KINDS: slide_deck, report, article, web_page, other
    file_sha256: str  # of the original file's bytes
    title: str | None = None  # only what the file itself says; never guessed
    author: str | None = None
    year: int | None = None
    sections: list[Section] = field(default_factory=list)
    line_starts: list[int] = field(default_factory=list)

    def __post_init__(self):
        if not self.line_starts:
            self.line_starts = line_starts(self.text)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def location(self, offset: int) -> dict:
        """page / slide / notes / heading_path / line of the character at `offset` (None where the format has none)."""
        where = {"page": None, "slide": None, "notes": False, "heading_path": [], "line": self.line_of(offset)}
        for section in self.sections:
            if section.char_start <= offset < section.char_end:
                if section.kind == "page":
                    where["page"] = section.number
                elif section.kind in ("slide", "notes"):
                    where["slide"] = section.number
                    where["notes"] = section.kind == "notes"
                elif section.kind == "heading" and len(section.heading_path) >= len(where["heading_path"]):
                    where["heading_path"] = list(section.heading_path)
        return where


def line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n" and i + 1 < len(text):
            starts.append(i + 1)
    return starts


# --- Helpers shared by the readers -------------------------------------------------------------------------------

# C0 controls other than tab and newline: NUL, form feeds, vertical tabs... never part of a quotable sentence.
_C0_CONTROLS = {code: None for code in range(0x20) if chr(code) not in "\t\n"}
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|2\d\d\d)(?!\d)")


def clean_text(text: str) -> str:
    """`\n` line ends and no C0 controls except tab and newline; nothing else changes, so quotes stay verbatim."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_C0_CONTROLS)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def year_of(value) -> int | None:
    """The year in a date the file states about itself (a datetime, "D:20240131…", "2017/05/01", "2019-03-04T…")."""
    if value is None:
        return None
    if hasattr(value, "year"):
        return value.year
    value = str(value).strip()
    if value.startswith("D:"):  # PDF date string: D:YYYYMMDDHHmmSS…
        value = value[2:6]
    match = _YEAR.search(value)
    return int(match.group(1)) if match else None


def meaningful(value: str | None, placeholders: frozenset[str] = frozenset()) -> str | None:
    """A metadata string, or None when it is empty or a tool's placeholder rather than the author's own data."""
    value = " ".join((value or "").split())
    return value if value and value not in placeholders else None


class TextBuilder:
    """Concatenates extracted pieces into one text and reports where each lands, so sections get exact offsets."""

    def __init__(self):
        self._parts: list[str] = []
        self.length = 0

    def add(self, piece: str) -> tuple[int, int]:
        start = self.length
        self._parts.append(piece)
        self.length += len(piece)
        return start, self.length

    def text(self) -> str:
        return "".join(self._parts)


def heading_sections(headings: list[tuple[int, str, int]], text_end: int) -> list[Section]:
    """`heading` sections from (level, label, char_start) in document order.

    Each spans until the next heading of the same or a higher level (a smaller
    number), and its path holds the enclosing headings from the top down.
    """
    sections: list[Section] = []
    open_stack: list[tuple[int, Section]] = []  # (level, section) of the headings enclosing the current position
    for level, label, start in headings:
        while open_stack and open_stack[-1][0] >= level:
            open_stack.pop()[1].char_end = start
        path = tuple(s.label for _, s in open_stack) + (label,)
        section = Section("heading", None, label, start, text_end, heading_path=path)
        sections.append(section)
        open_stack.append((level, section))
    return sections

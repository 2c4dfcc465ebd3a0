"""citations.bib → source records, with names split, LaTeX decoded and CSL-JSON made.

bibtexparser 2 does the parsing. Its `LatexDecodingMiddleware` decodes plain
fields but leaves split names alone, so name parts are decoded here with the
same library it uses (pylatexenc). A name wrapped in braces with no given part,
`{NHS England}`, is an institution and becomes a CSL `literal`.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser import middlewares as mw
from bibtexparser.library import Library
from pylatexenc.latex2text import LatexNodes2Text

from .errors import Problems
from .text_files import TextFileError, read_text_exactly

_latex = LatexNodes2Text()

DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")

# Co-authors who exist but could not be confirmed are one institutional name
# with this text, in citations.bib and in CSL. It is valid CSL and BibTeX, every
# processor prints it as written, and it invents no one; BibTeX's "and others"
# is read as the same marker ("others" is printed as a surname by pandoc and
# dropped by most CSL and RIS tools). docs/citations.md explains the convention.
UNCONFIRMED_COAUTHORS = "[co-authors not confirmed]"

# An eLocator (PLoS "e94207") is an article number, not a page (APA 9.29); CSL
# carries it in `number` so that every processor prints "Article e94207".
ELOCATOR_RE = re.compile(r"^e\d+$")

# Markup has no place in a name or title, and in an HTML or Markdown export it
# would be a script (issue 13.2): rejected at ingest, with the field named.
MARKUP_RE = re.compile(r"<\s*/?\s*[a-z!][^>]*>|\bon[a-z]+\s*=|javascript\s*:|data\s*:\s*text/html", re.IGNORECASE)
MARKUP_CHECKED_FIELDS = (
    "title",
    "journal",
    "booktitle",
    "publisher",
    "institution",
    "type",
    "note",
    "address",
    "howpublished",
    "organization",
    "school",
    "series",
)

# LaTeX decoding costs about 10 µs a character and a 1 MB field took seconds
# (issue 13.8), so sizes are checked on the raw text, before any decoding.
# A file is bounded too: decoding runs at 10-40 µs a character, so 1 MiB
# (some 2,000 ordinary entries) decodes in seconds, and the LaTeX commands and
# groups, the costly part, are capped for the whole file.
MAX_FIELD_CHARS = 10_000
MAX_FILE_BYTES = 1024 * 1024
MAX_LATEX_MARKUP = 50_000
# pylatexenc recurses once per brace level and overflows the stack at a few
# thousand; no real title needs more than a handful.
MAX_BRACE_DEPTH = 8

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.+/-]*$")
# BibTeX's predefined macros; any other bare word must be an @string.
MONTH_MACROS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# Nothing was on the web to be accessed before 1990.
EARLIEST_URLDATE = datetime.date(1990, 1, 1)

CSL_TYPES = {
    "article": "article-journal",
    "book": "book",
    "incollection": "chapter",
    "inbook": "chapter",
    "techreport": "report",
    "report": "report",
    "online": "webpage",
    "misc": "webpage",
    "inproceedings": "paper-conference",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "software": "software",
}

# What each type must have to be citable at all (missing → error), and what a
# complete record usually has (missing → listed in missing_fields, never invented).
REQUIRED = {
    "article": ("author", "title", "journal", "year"),
    "book": ("title", "year", "publisher"),
    "incollection": ("author", "title", "booktitle", "year", "publisher"),
    "inbook": ("author", "title", "booktitle", "year", "publisher"),
    # Reports are often issued by an institution with no named author or date.
    "techreport": ("title",),
    "report": ("title",),
    "online": ("title", "url"),
    "misc": ("title",),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "phdthesis": ("author", "title", "school", "year"),
    "mastersthesis": ("author", "title", "school", "year"),
    "software": ("title",),
}
RECOMMENDED = {
    "article": ("volume", "number", "pages", "doi"),
    "book": ("author", "address"),
    "incollection": ("editor", "pages"),
    "inbook": ("editor", "pages"),
    "techreport": ("author", "year", "institution", "url"),
    "report": ("author", "year", "institution", "url"),
    "online": ("author", "year", "urldate"),
    "misc": ("author", "year"),
    "software": ("author", "year", "urldate"),
}


@dataclass
class Person:
    family: str | None = None
    given: str | None = None
    literal: str | None = None

    @property
    def display(self) -> str:
        if self.literal:
            return self.literal
        return f"{self.family}, {self.given}" if self.given else (self.family or "")

    @property
    def slug(self) -> str:
        if self.literal:
            base = self.literal
        else:
            # Authors are merged on family name + first initial: the deck and
            # its sources spell Michael A. West as "West, M." and "West, Michael A.".
            initial = (self.given or "").strip()[:1]
            base = f"{self.family} {initial}"
        return re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")

    def csl(self) -> dict:
        if self.literal:
            return {"literal": self.literal}
        item = {"family": self.family}
        if self.given:
            item["given"] = self.given
        return item


@dataclass
class Source:
    key: str
    entry_type: str
    fields: dict[str, str]
    authors: list[Person]
    editors: list[Person]
    line: int
    file: str
    raw_bibtex: str = ""
    missing: list[str] = field(default_factory=list)
    # The co-authors exist but were not confirmed (UNCONFIRMED_COAUTHORS).
    authors_incomplete: bool = False
    # `verified = {yes}`: a person checked every field against an authoritative
    # record. Kept out of `fields` because it describes our curation, not the work,
    # so it never reaches CSL-JSON or the source columns.
    verified: bool = False
    # Where each field starts in citations.bib, so a problem names the field's own line.
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line)

    @property
    def year(self) -> int | None:
        match = re.match(r"\d{4}", self.fields.get("year", ""))
        return int(match.group(0)) if match else None

    @property
    def csl_type(self) -> str:
        # A @misc is a web page only if it has a URL; otherwise it is a work
        # whose venue we could not confirm, and must not be dressed as a page.
        if self.entry_type == "misc" and "url" not in self.fields:
            return "document"
        return CSL_TYPES.get(self.entry_type, "document")

    def to_csl(self) -> dict:
        f = self.fields
        item: dict = {"id": self.key, "type": self.csl_type}
        if self.authors:
            item["author"] = [p.csl() for p in self.authors]
        elif self.entry_type in ("techreport", "report") and f.get("institution"):
            # APA 9.11: a report with no personal author is authored by the
            # institution that issued it. CSL has no such fallback, so without
            # this the official style files it under its title.
            item["author"] = [{"literal": f["institution"]}]
        if self.editors:
            item["editor"] = [p.csl() for p in self.editors]
        if "title" in f:
            item["title"] = f["title"]
        container = f.get("journal") or f.get("booktitle")
        if container:
            item["container-title"] = container
        if self.year:
            item["issued"] = {"date-parts": [[self.year]]}
        for bib_name, csl_name in (
            ("volume", "volume"),
            ("number", "issue"),
            ("edition", "edition"),
            ("doi", "DOI"),
            ("url", "URL"),
            ("isbn", "ISBN"),
            ("address", "publisher-place"),
            ("note", "note"),
        ):
            if bib_name in f:
                item[csl_name] = f[bib_name]
        if self.entry_type in ("techreport", "report") and "number" in f:
            item.pop("issue", None)
            item["number"] = f["number"]
        if "pages" in f:
            page = f["pages"].replace("–", "-").replace("--", "-")
            if self.entry_type == "article" and ELOCATOR_RE.match(page) and "eid" not in f:
                item["number"] = page
            else:
                item["page"] = page
        if "eid" in f:
            item["number"] = f["eid"]
        publisher = f.get("publisher") or f.get("institution") or f.get("organization") or f.get("school")
        authors = item.get("author") or []
        sole_group = authors[0].get("literal") if len(authors) == 1 else None
        # APA 9.24: a publisher that is also the (group) author is not repeated.
        if publisher and not (sole_group and _same_name(sole_group, publisher)):
            item["publisher"] = publisher
        if "urldate" in f:
            parts = [int(p) for p in re.findall(r"\d+", f["urldate"])[:3]]
            if parts:
                item["accessed"] = {"date-parts": [parts]}
        if "type" in f:
            item["genre"] = f["type"]
        return item


def _same_name(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"^the\s+", "", re.sub(r"\s+", " ", s.strip()).casefold())

    return norm(a) == norm(b)


def _decode(text: str) -> str:
    if "\\" not in text and "{" not in text and "$" not in text:
        return text
    return _latex.latex_to_text(text).strip()


def _person(parts: mw.NameParts) -> Person:
    first, von, last, jr = parts.first, parts.von, parts.last, parts.jr
    if not first and not von and not jr and len(last) == 1 and last[0].startswith("{") and last[0].endswith("}"):
        return Person(literal=_decode(last[0][1:-1]))
    family = " ".join(von + last)
    if jr:
        family = f"{family}, {' '.join(jr)}"
    given = " ".join(first) or None
    return Person(family=_decode(family), given=_decode(given) if given else None)


def _unconfirmed_if_others(person: Person) -> Person:
    if person.family == "others" and not person.given:
        return Person(literal=UNCONFIRMED_COAUTHORS)
    return person


def parse_bibliography(path: Path, problems: Problems) -> dict[str, Source]:
    path = Path(path)
    if not path.exists():
        problems.add(path, None, None, "bibliography file not found")
        return {}
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_text_exactly names the problem
    if size > MAX_FILE_BYTES:
        problems.add(path, None, None, f"is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes (1 MiB)")
        return {}
    try:
        text = read_text_exactly(path)
    except TextFileError as exc:
        problems.add(path, exc.line, None, exc.message)
        return {}
    markup = text.count("\\") + text.count("{")
    if markup > MAX_LATEX_MARKUP:
        problems.add(
            path,
            None,
            None,
            f"holds {markup:,} LaTeX commands and braces; the limit is {MAX_LATEX_MARKUP:,} for the file",
        )
        return {}
    split = _split(text, path, problems)
    if split is None:
        return {}
    _check_raw_blocks(split, text, path, problems)
    raw_library = _apply(split, bibtexparser.middlewares.parsestack.default_parse_stack())
    library = _apply(
        raw_library,
        [mw.SeparateCoAuthors(), mw.SplitNameParts(), mw.LatexDecodingMiddleware()],
    )
    raw_by_key = {entry.key: entry for entry in raw_library.entries}

    for block in library.failed_blocks:
        line = block.start_line + 1
        if isinstance(block, bibtexparser.model.DuplicateBlockKeyBlock):
            first = raw_by_key.get(block.key)
            where = f" (first defined on line {first.start_line + 1})" if first else ""
            problems.add(path, line, "key", f"duplicate citation key {block.key!r}{where}", record=block.key)
        elif isinstance(block, bibtexparser.model.DuplicateFieldKeyBlock):
            names = ", ".join(sorted(block.duplicate_keys))
            entry = block.ignore_error_block
            key = getattr(entry, "key", None) or None
            problems.add(path, line, names, "the field is given twice in one entry", record=key)
        else:
            error = getattr(block, "error", None)
            message = getattr(error, "abort_reason", None) or str(error or "") or "could not be parsed"
            problems.add(
                path, line, "entry", f"malformed BibTeX: {message.splitlines()[0]} (check braces, quotes and commas)"
            )

    sources: dict[str, Source] = {}
    for entry in library.entries:
        line = entry.start_line + 1
        fields: dict[str, str] = {}
        incomplete = False
        authors: list[Person] = []
        editors: list[Person] = []
        verified = False
        field_lines: dict[str, int] = {}
        for name, fld in entry.fields_dict.items():
            name = name.lower()
            field_lines[name] = _line(fld, line)
            if name == "verified":
                verified = _verified_flag(fld, path, problems, entry.key)
            elif name in ("author", "editor"):
                _check_names(fld, name, path, problems, entry.key)
                people = [_unconfirmed_if_others(_person(p)) for p in fld.value]
                incomplete = incomplete or any(p.literal == UNCONFIRMED_COAUTHORS for p in people)
                (authors if name == "author" else editors).extend(people)
            else:
                fields[name] = re.sub(r"\s+", " ", str(fld.value)).strip()
                if not fields[name]:
                    problems.add(
                        path, _line(fld, line), name, "is empty; leave out a field that has no value", record=entry.key
                    )
        source = Source(
            key=entry.key,
            entry_type=entry.entry_type.lower(),
            fields=fields,
            authors=authors,
            editors=editors,
            line=line,
            file=problems.rel(path),
            authors_incomplete=incomplete,
            verified=verified,
            field_lines=field_lines,
        )
        raw = raw_by_key.get(entry.key)
        if raw is not None:
            # `verified` is the curators' bookkeeping, not bibliographic data: exports leave it out.
            if "verified" in raw.fields_dict:
                raw = copy.deepcopy(raw)
                raw.pop("verified")
            single = Library([raw])
            source.raw_bibtex = bibtexparser.write_string(single).strip() + "\n"
        _validate_source(source, path, problems)
        sources[entry.key] = source
    return sources


@contextmanager
def _quiet_bibtexparser():
    """bibtexparser logs each failed block to stderr; the same problem is reported once, with its place."""
    names = ["bibtexparser"] + [name for name in logging.root.manager.loggerDict if name.startswith("bibtexparser.")]
    loggers = [logging.getLogger(name) for name in names]
    was = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        yield
    finally:
        for logger, disabled in zip(loggers, was):
            logger.disabled = disabled


def _split(text: str, path: Path, problems: Problems) -> Library | None:
    with _quiet_bibtexparser():
        try:
            return bibtexparser.parse_string(text, parse_stack=[])
        except Exception as exc:  # noqa: BLE001 - the splitter raises on states it calls its own bugs
            problems.add(path, None, None, f"could not be parsed as BibTeX: {type(exc).__name__}: {exc}")
            return None


def _apply(library: Library, middlewares) -> Library:
    library = copy.deepcopy(library)
    with _quiet_bibtexparser():
        for middleware in middlewares:
            library = middleware.transform(library=library)
    return library


def _line(fld, default: int) -> int:
    start = getattr(fld, "start_line", None)
    return start + 1 if start is not None else default


def _check_raw_blocks(library: Library, text: str, path: Path, problems: Problems) -> None:
    """Check the text of every field as written, before strings are resolved or LaTeX decoded.

    An entry with a problem here is removed from the library, so nothing slow
    or unsafe is ever decoded; its problems say why it is missing.
    """
    macros = {s.key.lower() for s in library.strings} | MONTH_MACROS
    seen_keys: dict[str, int] = {}
    nul_reported = False
    for block in list(library.strings) + list(library.entries):
        is_entry = isinstance(block, bibtexparser.model.Entry)
        line = block.start_line + 1
        key = block.key
        bad = False
        if is_entry:
            if not key.strip():
                problems.add(path, line, "key", "the entry has no citation key (write @type{key, ...})")
                bad = True
            elif not KEY_RE.match(key):
                problems.add(
                    path,
                    line,
                    "key",
                    f"{key!r} is not a citation key (letters, digits and _ : . + / -, starting with a letter or digit)",
                    record=key,
                )
                bad = True
            else:
                folded = key.casefold()
                if folded in seen_keys:  # exact duplicates are bibtexparser's failed blocks, never here
                    problems.add(
                        path,
                        line,
                        "key",
                        f"citation key {key!r} differs only in case from the entry on line {seen_keys[folded]}; "
                        "BibTeX treats them as one",
                        record=key,
                    )
                    bad = True
                seen_keys.setdefault(folded, line)
            fields = [(f.key.lower(), f.value, _line(f, line)) for f in block.fields]
        else:
            fields = [("@string " + key, block.value, line)]
        for name, value, field_line in fields:
            problem = _raw_value_problem(value, macros)
            if problem:
                nul_reported = nul_reported or "NUL" in problem
                problems.add(path, field_line, name, problem, record=key if is_entry and key else None)
                bad = True
        if bad:
            library.remove(block)
    if "\x00" in text and not nul_reported:
        offset = text.index("\x00")
        problems.add(path, text.count("\n", 0, offset) + 1, None, f"contains a NUL byte at character offset {offset}")


def _raw_value_problem(value, macros: set[str]) -> str | None:
    """Why a field's text as written (with its braces or quotes) cannot be used, or None."""
    if not isinstance(value, str):
        return None
    if len(value) > MAX_FIELD_CHARS:
        return f"{len(value):,} characters; the limit is {MAX_FIELD_CHARS:,} per field (checked before LaTeX decoding)"
    control = CONTROL_RE.search(value)
    if control:
        char = control.group(0)
        what = "a NUL byte" if char == "\x00" else f"the control character U+{ord(char):04X}"
        return f"contains {what}"
    stripped = value.strip()
    enclosed = (stripped.startswith("{") and stripped.endswith("}")) or (
        len(stripped) >= 2 and stripped.startswith('"') and stripped.endswith('"')
    )
    if not enclosed:
        if "#" in stripped:
            return f"{stripped!r}: string concatenation with # is not supported; write the whole value in braces"
        if stripped.isdigit():
            return None
        if stripped.lower() in macros:
            return None
        return f"undefined @string macro {stripped!r}; define it with @string or write the value in braces"
    return _latex_problem(stripped[1:-1])


def _latex_problem(text: str) -> str | None:
    """Unbalanced braces, unclosed math or environments: found in one linear pass, before pylatexenc sees them."""
    depth = 0
    math = False
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            if i + 1 >= n:
                return "ends with a lone backslash"
            if text.startswith("verb", i + 1):
                return "\\verb is not supported in BibTeX fields"
            i += 2
            continue
        if char == "{":
            depth += 1
            if depth > MAX_BRACE_DEPTH:
                return f"braces nested more than {MAX_BRACE_DEPTH} deep"
        elif char == "}":
            depth -= 1
            if depth < 0:
                return f"unbalanced LaTeX: a closing brace at character {i} has no opening brace"
        elif char == "$":
            math = not math
        i += 1
    if depth > 0:
        return f"unclosed LaTeX: {depth} opening brace{'s' if depth > 1 else ''} never closed"
    if math:
        return "unclosed LaTeX: math started with $ is never closed"
    begins = re.findall(r"\\begin\s*\{([^{}]*)\}", text)
    ends = re.findall(r"\\end\s*\{([^{}]*)\}", text)
    if sorted(begins) != sorted(ends):
        return "unclosed LaTeX: \\begin{...} without a matching \\end{...}"
    return None


def _check_names(fld, role: str, path: Path, problems: Problems, key: str) -> None:
    """An empty name or a doubled `and` (`{} and and Chowla, R.`) would print as "( & and Chowla, 2017)"."""
    line = _line(fld, None)
    for position, parts in enumerate(fld.value, start=1):
        tokens = parts.first + parts.von + parts.last + parts.jr
        words = [t.strip("{}").strip() for t in tokens]
        if not any(words):
            problems.add(path, line, role, f"name {position} is empty (a doubled or dangling 'and'?)", record=key)
        elif "and" in tokens:
            problems.add(
                path,
                line,
                role,
                f"name {position} contains the word 'and' (a doubled 'and' between names?)",
                record=key,
            )


VERIFIED_VALUES = {"yes": True, "no": False}


def _verified_flag(fld, path: Path, problems: Problems, key: str) -> bool:
    value = str(fld.value).strip().lower()
    if value not in VERIFIED_VALUES:
        line = fld.start_line + 1 if getattr(fld, "start_line", None) is not None else None
        problems.add(path, line, "verified", f"{fld.value!r} is not yes or no", record=key)
        return False
    return VERIFIED_VALUES[value]


def _validate_source(source: Source, path: Path, problems: Problems) -> None:
    f = source.fields
    if source.entry_type not in REQUIRED:
        problems.add(
            path,
            source.line,
            "entry_type",
            f"unsupported entry type @{source.entry_type} (supported: {', '.join(sorted(REQUIRED))})",
            record=source.key,
        )
        return
    have = set(f) | ({"author"} if source.authors else set()) | ({"editor"} if source.editors else set())
    for name in REQUIRED[source.entry_type]:
        if name not in have:
            # A book may be credited to its editors rather than authors.
            if name == "author" and source.entry_type == "book" and source.editors:
                continue
            problems.add(
                path, source.line, name, f"required field for @{source.entry_type} is missing", record=source.key
            )
    if source.entry_type in ("techreport", "report") and not source.authors and "institution" not in f:
        problems.add(
            path, source.line, "author", f"a @{source.entry_type} needs an author or an institution", record=source.key
        )
    if source.entry_type == "book" and not source.authors and not source.editors:
        problems.add(path, source.line, "author", "a @book needs an author or an editor", record=source.key)
    if "doi" in f and not DOI_RE.match(f["doi"]):
        problems.add(
            path,
            source.line_of("doi"),
            "doi",
            f"{f['doi']!r} is not a bare DOI like 10.1000/xyz (no https://doi.org/ prefix)",
            record=source.key,
        )
    if "url" in f and not re.match(r"^https?://[^\s<>\"\\\\]+$", f["url"]):
        problems.add(path, source.line_of("url"), "url", f"{f['url']!r} is not an http(s) URL", record=source.key)
    if "urldate" in f:
        _check_urldate(source, path, problems)
    if "year" in f and not re.fullmatch(r"\d{4}", f["year"]):
        problems.add(path, source.line_of("year"), "year", f"{f['year']!r} is not a four-digit year", record=source.key)
    if "pages" in f and not re.fullmatch(r"[A-Za-z]?\d+(?:\s*(?:-|--|–)\s*[A-Za-z]?\d+)?", f["pages"]):
        problems.add(
            path,
            source.line_of("pages"),
            "pages",
            f"{f['pages']!r} is not a page or page range like 365--380",
            record=source.key,
        )
    source.missing = [name for name in RECOMMENDED.get(source.entry_type, ()) if name not in have]
    if source.entry_type in ("techreport", "report") and len(source.authors) == 1 and source.authors[0].literal:
        # An organisation that authors its own report is also its publisher (APA 9.24).
        source.missing = [name for name in source.missing if name != "institution"]
    if source.entry_type == "misc" and "url" not in f:
        source.missing.append("venue (journal or publisher)")
    if source.authors_incomplete:
        source.missing.append("author (co-authors unconfirmed)")
    _reject_markup(source, path, problems)


def _check_urldate(source: Source, path: Path, problems: Problems) -> None:
    value = source.fields["urldate"]
    match = ISO_DATE_RE.match(value)
    date = None
    if match:
        try:
            date = datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    if date is None:
        message = f"{value!r} is not a date written yyyy-mm-dd"
    elif date > datetime.date.today():
        message = f"{value!r} is in the future"
    elif date < EARLIEST_URLDATE:
        message = f"{value!r} is before {EARLIEST_URLDATE.year}, when nothing could be accessed on the web"
    else:
        return
    problems.add(path, source.line_of("urldate"), "urldate", message, record=source.key)


def _reject_markup(source: Source, path: Path, problems: Problems) -> None:
    for role, people in (("author", source.authors), ("editor", source.editors)):
        for person in people:
            if MARKUP_RE.search(person.display):
                problems.add(
                    path,
                    source.line_of(role),
                    role,
                    f"{person.display!r} contains markup or a script",
                    record=source.key,
                )
    for name in MARKUP_CHECKED_FIELDS:
        value = source.fields.get(name)
        if value and MARKUP_RE.search(value):
            problems.add(path, source.line_of(name), name, f"{value!r} contains markup or a script", record=source.key)


def csl_json(source: Source) -> str:
    return json.dumps(source.to_csl(), ensure_ascii=False, sort_keys=True)

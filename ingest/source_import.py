"""Merge a reference manager's export (BibTeX, RIS, CSL-JSON) into citations.bib without touching what is there.

Readers turn each format into one shape, `IncomingSource`: BibTeX field names and values plus people.
`plan_import` decides what is new, what duplicates an existing entry (by DOI, or by fuzzy title + year +
first author) and which fields of a duplicate disagree; it never edits an existing entry, only appends.
`import_sources` writes the result atomically after `parse_bibliography` has accepted it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
import rispy
from bibtexparser import middlewares as mw
from rapidfuzz import fuzz

from .bibliography import Person, Source, _person, parse_bibliography
from .citation_strings import normalise_doi
from .errors import Problems

FORMATS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csl-json"}
TITLE_SIMILARITY_MIN = 90

# The fields citations.bib holds, in the order new entries are written. Reference managers add more
# (abstract, keywords, file paths, timestamps); those describe a user's library, not the work, and a
# `file` path would leak a local directory into the repository, so they are dropped.
FIELD_ORDER = (
    "author",
    "editor",
    "title",
    "journal",
    "booktitle",
    "type",
    "institution",
    "school",
    "publisher",
    "address",
    "edition",
    "year",
    "month",
    "volume",
    "number",
    "pages",
    "doi",
    "isbn",
    "issn",
    "url",
    "urldate",
    "note",
    "verified",
)
KEPT_FIELDS = set(FIELD_ORDER) - {"author", "editor", "verified"}
COMPARED_FIELDS = ("title", "journal", "booktitle", "year", "volume", "number", "pages", "doi", "url", "publisher")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

RIS_TYPES = {
    "JOUR": "article",
    "JFULL": "article",
    "EJOUR": "article",
    "MGZN": "article",
    "NEWS": "article",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CHAP": "incollection",
    "ECHAP": "incollection",
    "RPRT": "techreport",
    "GOVDOC": "techreport",
    "ELEC": "online",
    "WEB": "online",
    "BLOG": "online",
    "CONF": "inproceedings",
    "CPAPER": "inproceedings",
    "THES": "phdthesis",
    "COMP": "software",
}
CSL_TYPES = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "article": "article",
    "book": "book",
    "chapter": "incollection",
    "report": "techreport",
    "webpage": "online",
    "post-weblog": "online",
    "paper-conference": "inproceedings",
    "thesis": "phdthesis",
    "software": "software",
}
# Key style of citations.bib (Better BibTeX's default): family + year + first title word that is not one
# of these. Hand-written because Better BibTeX is a Zotero plug-in, not a Python library.
KEY_SKIPWORDS = set(
    "a an and as at but by for from in into is nor of on onto or over per since so than the to toward towards "
    "under until up upon versus via with within without yet do de der des die du el en et il la le les los un una "
    "une von zu".split()
)


class SourceImportError(Exception):
    def __init__(self, path, line: int | None, field: str | None, message: str):
        self.path, self.line, self.field, self.message = str(path), line, field, message
        place = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{place}{f' {field}:' if field else ''} {message}")


@dataclass
class IncomingSource:
    label: str  # how the report names it: the export's key, or file:line
    entry_type: str
    fields: dict[str, str]
    authors: list[Person] = field(default_factory=list)
    editors: list[Person] = field(default_factory=list)
    line: int | None = None

    @property
    def year(self) -> int | None:
        match = re.match(r"\d{4}", self.fields.get("year", ""))
        return int(match.group(0)) if match else None


@dataclass
class ImportPlan:
    added: list[tuple[str, str]]  # (new key, BibTeX entry text)
    duplicates: list[tuple[str, str, str]]  # (incoming label, existing key, "doi" | "title+year+first author")
    conflicts: list[tuple[str, str, str | None, str | None]]  # (existing key, field, ours, theirs)
    new_text: str
    # What each added key was made from, to check that the written entry reads back the same.
    made_from: dict[str, IncomingSource] = field(default_factory=dict, repr=False, compare=False)


# ----- readers -----------------------------------------------------------------------------------------


def read_sources(path: Path | str) -> list[IncomingSource]:
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SourceImportError(
            path, None, None, f"unknown file type {path.suffix or '(none)'!r}: expected .bib, .ris or .json"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")  # EndNote writes a byte-order mark
    except (OSError, UnicodeDecodeError) as error:
        raise SourceImportError(path, None, None, f"cannot read the file: {error}") from None
    reader = {"bibtex": _read_bibtex, "ris": _read_ris, "csl-json": _read_csl_json}[kind]
    incoming = reader(path, text)
    for item in incoming:
        if not item.fields.get("title"):
            raise SourceImportError(path, item.line, "title", f"{item.label}: entry has no title")
        _normalise(item)
    return incoming


def _read_bibtex(path: Path, text: str) -> list[IncomingSource]:
    library = bibtexparser.parse_string(
        text, append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts(), mw.LatexDecodingMiddleware()]
    )
    for block in library.failed_blocks:
        raise SourceImportError(path, block.start_line + 1, None, "malformed BibTeX block")
    if not library.entries and text.strip() and "@" in text:
        raise SourceImportError(path, None, None, "no BibTeX entry could be read")
    incoming = []
    for entry in library.entries:
        fields: dict[str, str] = {}
        authors: list[Person] = []
        editors: list[Person] = []
        for name, fld in entry.fields_dict.items():
            name = name.lower()
            if name in ("author", "editor"):
                people = [_person(p) for p in fld.value if not (p.last == ["others"] and not p.first)]
                (authors if name == "author" else editors).extend(people)
            else:
                fields[name] = re.sub(r"\s+", " ", str(fld.value)).strip()
        if "journal" not in fields and "journaltitle" in fields:  # biblatex, as Zotero writes it
            fields["journal"] = fields["journaltitle"]
        if "year" not in fields and "date" in fields:
            _set_date(fields, re.findall(r"\d+", fields["date"]))
        incoming.append(
            IncomingSource(entry.key, entry.entry_type.lower(), fields, authors, editors, entry.start_line + 1)
        )
    return incoming


def _ris_record_lines(path: Path, text: str) -> list[int]:
    """Line of each record's TY tag; a record that starts with any other tag is an error (rispy skips it)."""
    starts = []
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        tag = re.match(r"^([A-Z][A-Z0-9])  -", line)
        if not tag:
            continue
        if tag.group(1) == "TY":
            starts.append(number)
            inside = True
        elif tag.group(1) == "ER":
            inside = False
        elif not inside:
            raise SourceImportError(path, number, tag.group(1), "RIS record does not start with a TY line")
    if not starts:
        raise SourceImportError(path, None, "TY", "no RIS record (no TY line)")
    return starts


def _read_ris(path: Path, text: str) -> list[IncomingSource]:
    lines = _ris_record_lines(path, text)
    try:
        records = rispy.loads(text)
    except Exception as error:  # rispy raises bare IOError/ValueError/KeyError for malformed files
        raise SourceImportError(path, None, None, f"invalid RIS: {error}") from None
    if len(records) != len(lines):
        raise SourceImportError(path, None, None, "invalid RIS: a record is not closed with ER")
    incoming = []
    for record, line in zip(records, lines):
        ris_type = record.get("type_of_reference", "GEN")
        entry_type = RIS_TYPES.get(ris_type, "misc")
        fields: dict[str, str] = {}
        title = record.get("title") or record.get("primary_title")
        if title:
            fields["title"] = title
        container = (
            record.get("alternate_title3")  # JF: full journal name (Mendeley, EndNote)
            or record.get("secondary_title")  # T2: journal or book title (Zotero, EndNote)
            or record.get("journal_name")  # JO: often an abbreviation
        )
        if container:
            fields["booktitle" if entry_type in ("incollection", "inproceedings") else "journal"] = container
        if entry_type not in ("article", "incollection", "inproceedings"):
            fields.pop("journal", None)
        date = record.get("date") or ""
        year = record.get("year") or record.get("publication_year") or ""
        _set_date(
            fields, re.findall(r"\d+", year)[:1] + re.findall(r"\d+", date)[1:2] if year else re.findall(r"\d+", date)
        )
        for ris_name, bib_name in (
            ("volume", "volume"),
            ("number", "number"),
            ("doi", "doi"),
            ("publisher", "publisher"),
            ("place_published", "address"),
            ("edition", "edition"),
        ):
            if record.get(ris_name):
                fields[bib_name] = str(record[ris_name])
        if record.get("start_page"):
            pages = record["start_page"]
            if record.get("end_page"):
                pages = f"{pages}--{record['end_page']}"
            fields["pages"] = pages
        if record.get("issn"):
            # RIS puts ISBNs and ISSNs in the same SN tag; an ISSN is eight characters with a hyphen.
            kind = "issn" if re.fullmatch(r"\d{4}-\d{3}[\dXx]", record["issn"].split()[0]) else "isbn"
            fields[kind] = record["issn"].split()[0]
        if record.get("urls"):
            fields["url"] = record["urls"][0]
        notes = [n for n in record.get("notes", []) if n and not n.lstrip().startswith("<")]
        if notes:
            fields["note"] = "; ".join(notes)
        if entry_type == "techreport" and fields.get("publisher"):
            fields["institution"] = fields.pop("publisher")
        authors = [_ris_person(name) for name in record.get("authors", []) or record.get("first_authors", [])]
        editors = [_ris_person(name) for name in record.get("secondary_authors", [])] if entry_type != "article" else []
        incoming.append(IncomingSource(f"{path.name}:{line}", entry_type, fields, authors, editors, line))
    return incoming


def _ris_person(name: str) -> Person:
    if "," not in name:
        return Person(literal=name.strip())
    family, given = (part.strip() for part in name.split(",", 1))
    return Person(family=family, given=given or None)


def _json_items(path: Path, text: str) -> list[tuple[int, object]]:
    """Each top-level item with its line: json.loads gives no positions, so decode the list one item at a time."""
    decoder = json.JSONDecoder()
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as error:
        raise SourceImportError(path, error.lineno, None, f"invalid JSON: {error.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise SourceImportError(path, 1, None, "CSL-JSON must be a list of items")
    items = []
    position = text.index("[") + 1
    for item in data:
        position = len(text) - len(text[position:].lstrip(" \t\r\n,"))
        _, end = decoder.raw_decode(text, position)
        items.append((text.count("\n", 0, position) + 1, item))
        position = end
    return items


def _read_csl_json(path: Path, text: str) -> list[IncomingSource]:
    incoming = []
    for line, item in _json_items(path, text):
        if not isinstance(item, dict):
            raise SourceImportError(path, line, None, "CSL-JSON item is not an object")
        entry_type = CSL_TYPES.get(str(item.get("type", "")), "misc")
        fields: dict[str, str] = {}
        if item.get("title"):
            fields["title"] = str(item["title"])
        if item.get("container-title"):
            container = "booktitle" if entry_type in ("incollection", "inproceedings") else "journal"
            if entry_type in ("article", "incollection", "inproceedings"):
                fields[container] = str(item["container-title"])
        issued = item.get("issued") or {}
        parts = (issued.get("date-parts") or [[]])[0] if isinstance(issued, dict) else []
        if not parts and isinstance(issued, dict):
            parts = re.findall(r"\d+", str(issued.get("raw") or issued.get("literal") or ""))
        _set_date(fields, [str(p) for p in parts or []])
        for csl_name, bib_name in (
            ("volume", "volume"),
            ("issue", "number"),
            ("page", "pages"),
            ("DOI", "doi"),
            ("URL", "url"),
            ("ISBN", "isbn"),
            ("ISSN", "issn"),
            ("publisher-place", "address"),
            ("edition", "edition"),
            ("note", "note"),
            ("genre", "type"),
        ):
            if item.get(csl_name):
                fields[bib_name] = str(item[csl_name])
        if item.get("publisher"):
            fields["institution" if entry_type == "techreport" else "publisher"] = str(item["publisher"])
        authors = [_csl_person(p) for p in item.get("author", []) if isinstance(p, dict)]
        editors = [_csl_person(p) for p in item.get("editor", []) if isinstance(p, dict)]
        label = str(item.get("id") or f"{path.name}:{line}")
        incoming.append(IncomingSource(label, entry_type, fields, authors, editors, line))
    return incoming


def _csl_person(data: dict) -> Person:
    if data.get("literal"):
        return Person(literal=str(data["literal"]))
    family = " ".join(str(data[k]) for k in ("non-dropping-particle", "family") if data.get(k))
    return Person(family=family or None, given=str(data["given"]) if data.get("given") else None)


def _set_date(fields: dict[str, str], parts: list[str]) -> None:
    if parts and re.fullmatch(r"\d{4}", parts[0]):
        fields["year"] = parts[0]
        if len(parts) > 1 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
            fields["month"] = MONTHS[int(parts[1]) - 1]


def _normalise(item: IncomingSource) -> None:
    f = item.fields
    if "date" in f and "year" not in f:
        _set_date(f, re.findall(r"\d+", f["date"]))
    if "month" in f:
        month = f["month"].strip().lower()[:3]
        if month.isdigit() and 1 <= int(month) <= 12:
            month = MONTHS[int(month) - 1]
        if month in MONTHS:
            f["month"] = month
        else:
            del f["month"]
    if "doi" in f:
        f["doi"] = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", f["doi"].strip(), flags=re.I)
    if "pages" in f:
        f["pages"] = re.sub(r"\s*(?:--|-|–|—)\s*", "--", f["pages"].strip())
    if "isbn" in f:
        f["isbn"] = re.sub(r"[\s-]", "", f["isbn"].split()[0])
    item.fields = {name: value.strip() for name, value in f.items() if name in KEPT_FIELDS and value.strip()}


# ----- planning ------------------------------------------------------------------------------------------


def _fold_title(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _fold_name(text: str | None) -> str:
    return re.sub(r"[^a-z]", "", _fold_title(text or ""))


def _first_family(people: list[Person]) -> str:
    return _fold_name(people[0].literal or people[0].family) if people else ""


def _parse_existing(text: str) -> tuple[dict[str, Source], list]:
    # parse_bibliography reads a path; a private temporary copy keeps one parser for existing and new text.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "citations.bib"
        path.write_text(text, encoding="utf-8")
        problems = Problems(Path(folder))
        sources = parse_bibliography(path, problems)
    return sources, problems.items


def _duplicate_of(item: IncomingSource, existing: dict[str, Source | IncomingSource]) -> tuple[str, str] | None:
    doi = normalise_doi(item.fields["doi"]) if item.fields.get("doi") else None
    if doi:
        for key, source in existing.items():
            if source.fields.get("doi") and normalise_doi(source.fields["doi"]) == doi:
                return key, "doi"
    title = _fold_title(item.fields.get("title", ""))
    for key, source in existing.items():
        if (
            item.year is not None
            and source.year == item.year
            and _first_family(item.authors) == _first_family(source.authors)
            and fuzz.token_sort_ratio(title, _fold_title(source.fields.get("title", ""))) >= TITLE_SIMILARITY_MIN
        ):
            return key, "title+year+first author"
    return None


def _comparable(name: str, value: str) -> str:
    if name == "doi":
        return normalise_doi(value)
    if name == "pages":
        return re.sub(r"\s*(?:--|-|–)\s*", "-", value)
    if name == "url":
        return value.rstrip("/").lower()
    return _fold_title(value)


def _conflicts(key: str, ours: Source | IncomingSource, theirs: IncomingSource) -> list[tuple]:
    found = []
    for name in COMPARED_FIELDS:
        mine, other = ours.fields.get(name), theirs.fields.get(name)
        if other and (not mine or _comparable(name, mine) != _comparable(name, other)):
            found.append((key, name, mine, other))
    mine_names = [_fold_name(p.literal or p.family) for p in ours.authors]
    other_names = [_fold_name(p.literal or p.family) for p in theirs.authors]
    if other_names and mine_names != other_names:
        found.append(
            (
                key,
                "author",
                " and ".join(p.display for p in ours.authors),
                " and ".join(p.display for p in theirs.authors),
            )
        )
    return found


def _key_base(item: IncomingSource) -> str:
    person = item.authors[0] if item.authors else item.editors[0] if item.editors else None
    name = (person.literal or person.family) if person else item.fields.get("institution", "")
    words = [w for w in re.split(r"[\s\-–—/:]+", item.fields.get("title", "")) if w]
    first = next((w for w in words if _fold_name(w) and _fold_name(w) not in KEY_SKIPWORDS), "")
    return f"{_fold_name(name)}{item.fields.get('year', '')}{_fold_name(first)}" or "source"


def _new_key(item: IncomingSource, taken: set[str]) -> str:
    base = _key_base(item)
    if base not in taken:
        return base
    for suffix in "abcdefghijklmnopqrstuvwxyz":
        if base + suffix not in taken:
            return base + suffix
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


_LATEX_SPECIAL = re.compile(r"(?<!\\)([&%#$_])")


def _bib_value(name: str, value: str) -> str:
    if name == "month":
        return value  # a month macro, written bare like the rest of citations.bib
    # parse_bibliography decodes LaTeX in every field, so a bare % would start a comment and & a table cell.
    value = _LATEX_SPECIAL.sub(r"\\\1", value) if name not in ("url", "doi") else value.replace("%", r"\%")
    value = value.replace("{", "").replace("}", "")
    return "{" + value + "}"


def _bib_person(person: Person) -> str:
    if person.literal:
        return "{" + person.literal + "}"
    return f"{person.family}, {person.given}" if person.given else (person.family or "")


def format_entry(key: str, item: IncomingSource, verified: bool) -> str:
    values = dict(item.fields)
    if item.authors:
        values["author"] = " and ".join(_bib_person(p) for p in item.authors)
    if item.editors:
        values["editor"] = " and ".join(_bib_person(p) for p in item.editors)
    values["verified"] = "yes" if verified else "no"
    names = [name for name in FIELD_ORDER if name in values]
    width = max(len(name) for name in names)
    lines = []
    for name in names:
        value = "{" + values[name] + "}" if name in ("author", "editor", "verified") else _bib_value(name, values[name])
        lines.append(f"  {name.ljust(width)} = {value}")
    return f"@{item.entry_type}{{{key},\n" + ",\n".join(lines) + "\n}\n"


def plan_import(existing_bib_text: str, incoming: list[IncomingSource], *, verified: bool = False) -> ImportPlan:
    existing, _ = _parse_existing(existing_bib_text)
    known: dict[str, Source | IncomingSource] = dict(existing)
    taken = set(existing) | {k.lower() for k in existing}
    added, duplicates, conflicts = [], [], []
    made_from: dict[str, IncomingSource] = {}
    for item in incoming:
        duplicate = _duplicate_of(item, known)
        if duplicate:
            key, how = duplicate
            duplicates.append((item.label, key, how))
            conflicts.extend(_conflicts(key, known[key], item))
            continue
        key = _new_key(item, taken)
        taken.add(key)
        known[key] = item
        made_from[key] = item
        added.append((key, format_entry(key, item, verified)))
    new_text = existing_bib_text
    if added:
        if new_text and not new_text.endswith("\n"):
            new_text += "\n"
        new_text += "".join("\n" + entry for _, entry in added)
    return ImportPlan(added, duplicates, conflicts, new_text, made_from)


def import_sources(
    bib_path: Path | str, file: Path | str, *, verified: bool = False, dry_run: bool = False
) -> ImportPlan:
    bib_path = Path(bib_path)
    incoming = read_sources(file)
    try:
        existing_text = bib_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceImportError(bib_path, None, None, f"cannot read the bibliography: {error}") from None
    plan = plan_import(existing_text, incoming, verified=verified)
    if not plan.added:
        return plan
    sources, problems = _parse_existing(plan.new_text)
    _, problems_before = _parse_existing(existing_text)
    new_problems = [p for p in problems if p not in problems_before]
    if new_problems:
        first = new_problems[0]
        raise SourceImportError(file, None, first.field, f"the merged bibliography would not pass: {first}")
    for key, item in plan.made_from.items():
        written = sources.get(key)
        if written is None:
            raise SourceImportError(
                file, item.line, None, f"entry {key} did not read back from the merged bibliography"
            )
        for name, value in item.fields.items():
            if name != "month" and _comparable(name, written.fields.get(name, "")) != _comparable(name, value):
                raise SourceImportError(
                    file, item.line, name, f"{item.label}: {value!r} would read back as {written.fields.get(name)!r}"
                )
    if dry_run:
        return plan
    handle, temp = tempfile.mkstemp(dir=bib_path.parent, prefix=f".{bib_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(plan.new_text)
        os.replace(temp, bib_path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return plan

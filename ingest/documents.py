"""Source documents: the verbatim text, its checksum, and where its slides begin."""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problems
from .paths import documents_dir, outside_root
from .readers.base import line_starts
from .text_files import TextFileError, read_text_exactly
from .vocabulary import DOCUMENT_KINDS
from .yaml_lines import LineDict, YamlSyntaxError, load_yaml


@dataclass
class Slide:
    number: int
    heading: str
    line_start: int
    line_end: int = 0
    char_start: int = 0
    char_end: int = 0


@dataclass
class Document:
    id: str
    title: str
    author: str | None
    kind: str
    path: Path
    sha256: str
    text: str
    year: int | None = None
    url: str | None = None
    note: str | None = None
    slides: list[Slide] = field(default_factory=list)
    meta_file: Path | None = None
    line_starts: list[int] = field(default_factory=list)

    @property
    def n_lines(self) -> int:
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        """1-based line holding character `offset`."""
        return bisect.bisect_right(self.line_starts, offset)

    def slide_at_line(self, line: int) -> Slide | None:
        for slide in self.slides:
            if slide.line_start <= line <= slide.line_end:
                return slide
        return None


# An ingested document may state no author (its file said none, and none is guessed): `author: null`.
REQUIRED = ("id", "title", "kind", "sha256", "slides")
# What `kb ingest` adds: the original file's hash, format and name, and the day it was ingested.
INGEST_FIELDS = {"file_sha256", "format", "source_file", "ingested"}
ALLOWED = set(REQUIRED) | {"author", "year", "url", "note", "text_file"} | INGEST_FIELDS


def load_documents(root: Path, problems: Problems) -> dict[str, Document]:
    documents: dict[str, Document] = {}
    for meta_file in sorted(documents_dir(root).glob("*.yaml")):
        escape = outside_root(meta_file, root)
        if escape:
            problems.add(meta_file, None, None, escape)
            continue
        doc = _load_document(meta_file, problems)
        if doc is None:
            continue
        if doc.id in documents:
            first = documents[doc.id].meta_file
            problems.add(meta_file, 1, "id", f"duplicate document id {doc.id!r} (also in {problems.rel(first)})")
            continue
        documents[doc.id] = doc
    return documents


def _load_document(meta_file: Path, problems: Problems) -> Document | None:
    try:
        meta = load_yaml(meta_file)
    except YamlSyntaxError as exc:
        problems.add(meta_file, exc.line, None, exc.message)
        return None
    if not isinstance(meta, LineDict):
        problems.add(meta_file, 1, None, "expected a mapping of document metadata")
        return None
    ok = True
    for key in REQUIRED:
        if key not in meta or meta[key] in (None, ""):
            problems.add(meta_file, meta.line, key, "required field is missing")
            ok = False
    for key in meta:
        if key not in ALLOWED:
            problems.add(meta_file, meta.line_of(key), key, f"unknown field (allowed: {', '.join(sorted(ALLOWED))})")
    for key in ("id", "title", "author", "kind", "sha256", "file_sha256", "format", "source_file"):
        if key in meta and meta[key] is not None and not isinstance(meta[key], str):
            problems.add(meta_file, meta.line_of(key), key, f"must be a string, got {type(meta[key]).__name__}")
            ok = False
    if not ok:
        return None
    if meta["kind"] not in DOCUMENT_KINDS:
        problems.add(
            meta_file, meta.line_of("kind"), "kind", f"{meta['kind']!r} is not one of {', '.join(DOCUMENT_KINDS)}"
        )

    year = meta.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 2999):
        problems.add(meta_file, meta.line_of("year"), "year", f"must be a four-digit year or null, got {year!r}")
    url = meta.get("url")
    if url is not None and not (isinstance(url, str) and re.fullmatch(r"https?://[^\s<>\"]+", url)):
        problems.add(meta_file, meta.line_of("url"), "url", f"must be an http(s) URL or null, got {url!r}")
    if meta.get("note") is not None and not isinstance(meta.get("note"), str):
        problems.add(meta_file, meta.line_of("note"), "note", "must be text")
    text_file = meta.get("text_file")
    if text_file is not None and (
        not isinstance(text_file, str) or Path(text_file).name != text_file or text_file in ("", ".", "..")
    ):
        problems.add(
            meta_file,
            meta.line_of("text_file"),
            "text_file",
            f"must be a file name beside {meta_file.name}, got {text_file!r}",
        )
        return None
    text_path = meta_file.with_name(text_file or (meta_file.stem + ".txt"))
    if not text_path.exists() and not text_path.is_symlink():
        problems.add(meta_file, meta.line, "text_file", f"document text {problems.rel(text_path)} not found")
        return None
    escape = outside_root(text_path, problems.root)
    if escape:
        problems.add(
            meta_file, meta.line_of("text_file"), "text_file", f"document text {problems.rel(text_path)} {escape}"
        )
        return None
    try:
        text = read_text_exactly(text_path)
    except TextFileError as exc:
        if exc.line is None:  # not a readable file at all: the metadata's text_file is what to fix
            problems.add(meta_file, meta.line_of("text_file"), "text_file", f"{problems.rel(text_path)} {exc.message}")
        else:
            problems.add(text_path, exc.line, None, exc.message)
        return None
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if actual != meta["sha256"]:
        problems.add(
            meta_file,
            meta.line_of("sha256"),
            "sha256",
            f"{problems.rel(text_path)} has changed: its sha256 is {actual}, expected {meta['sha256']}. "
            "Quotes are checked against the exact bytes; if the change is intended, update sha256 "
            "and re-check every quote.",
        )
    if "\r" in text:
        problems.add(text_path, None, None, "contains carriage returns; store the text with \\n line endings")

    doc = Document(
        id=meta["id"],
        title=meta["title"],
        author=meta.get("author"),
        kind=meta["kind"],
        path=text_path,
        sha256=actual,
        text=text,
        year=meta.get("year"),
        url=meta.get("url"),
        note=meta.get("note"),
        meta_file=meta_file,
        line_starts=line_starts(text),
    )
    doc.slides = _load_slides(meta, doc, meta_file, problems)
    return doc


def _load_slides(meta: LineDict, doc: Document, meta_file: Path, problems: Problems) -> list[Slide]:
    raw = meta.get("slides")
    if not isinstance(raw, list):
        problems.add(meta_file, meta.line_of("slides"), "slides", "must be a list of {number, heading, line}")
        return []
    slides: list[Slide] = []
    for entry in raw:
        line = getattr(entry, "line", meta.line_of("slides"))
        if not isinstance(entry, dict):
            problems.add(meta_file, line, "slides", "each slide must be a mapping")
            continue
        number, heading, start = entry.get("number"), entry.get("heading"), entry.get("line")
        if not isinstance(number, int) or not isinstance(heading, str) or not isinstance(start, int):
            problems.add(meta_file, line, "slides", "each slide needs integer number, string heading and integer line")
            continue
        if not 1 <= start <= doc.n_lines:
            problems.add(meta_file, entry.line_of("line"), "slides.line", f"line {start} is outside 1..{doc.n_lines}")
            continue
        if slides and (number <= slides[-1].number or start <= slides[-1].line_start):
            problems.add(meta_file, line, "slides", "slides must be in increasing order of number and line")
            continue
        slides.append(Slide(number, heading, start))
    for i, slide in enumerate(slides):
        slide.line_end = slides[i + 1].line_start - 1 if i + 1 < len(slides) else doc.n_lines
        slide.char_start = doc.line_starts[slide.line_start - 1]
        slide.char_end = doc.line_starts[slide.line_end] if slide.line_end < doc.n_lines else len(doc.text)
    return slides

"""Ingest a user's document: read it, propose candidate claims, and write the three files that record it.

`plan_ingest` reads and checks everything and writes nothing; `write_ingest`
then writes the document text, its metadata and its candidate file. Every
check that can refuse the document (format, size, no text, already ingested,
an id that is taken) runs before the first byte is written, and the three
files are written to temporary names and renamed at the end, so a refused or
failed ingest leaves the curated folder exactly as it was.

Candidates are linked to `citations.bib` here (data layer); their
similar claims in the built KB are found by the search layer (kb.ingest_cmd).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .bibliography import parse_bibliography
from .candidate_files import candidate_file_path, dump_yaml, write_atomically, write_candidate_file
from .candidates import Candidate, extract_candidates
from .citation_strings import find_citations, find_reference_list
from .errors import Problems
from .load import load_topics
from .paths import bibliography_path, documents_dir
from .readers import MAX_BYTES, ExtractedDocument, ReaderError, read_document
from .reference_match import ReferenceMatcher

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID_CHARS = 80


class IngestError(Exception):
    """The document cannot be ingested; the message names the file (and page) and says why."""


@dataclass
class IngestPlan:
    document_id: str
    source: Path
    doc: ExtractedDocument
    metadata: dict
    candidates: list[Candidate]
    root: Path
    notices: list[str] = field(default_factory=list)

    @property
    def text_path(self) -> Path:
        return documents_dir(self.root) / f"{self.document_id}.txt"

    @property
    def metadata_path(self) -> Path:
        return documents_dir(self.root) / f"{self.document_id}.yaml"

    @property
    def candidates_path(self) -> Path:
        return candidate_file_path(self.root, self.document_id)

    def summary(self) -> dict:
        by_kind: dict[str, int] = {}
        for c in self.candidates:
            by_kind[c.kind] = by_kind.get(c.kind, 0) + 1
        citations = [cite for c in self.candidates for cite in c.citations]
        return {
            "document": self.document_id,
            "candidates": len(self.candidates),
            "by_kind": dict(sorted(by_kind.items(), key=lambda kv: -kv[1])),
            "effects_parsed": sum(1 for c in self.candidates if c.effect),
            "statistics": sum(len(c.statistics) for c in self.candidates),
            "citations_matched": sum(1 for cite in citations if cite["key"]),
            "citations_unresolved": sum(1 for cite in citations if not cite["key"]),
            "with_similar_claims": sum(1 for c in self.candidates if c.similar_claims),
        }


def plan_ingest(
    path: str | os.PathLike,
    root: Path,
    *,
    document_id: str | None = None,
    title: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> IngestPlan:
    """Read `path` and propose its candidates; raises IngestError (nothing is written)."""
    path = Path(path)
    root = Path(root)
    try:
        doc = read_document(path, max_bytes=max_bytes)
    except ReaderError as exc:
        raise IngestError(str(exc)) from None
    text_sha = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    existing = _existing_documents(root)
    for other_id, meta in existing.items():
        if text_sha == meta.get("sha256") or doc.file_sha256 == meta.get("file_sha256"):
            raise IngestError(f"{path}: already ingested as document {other_id!r} (same sha256); nothing written")
    document_id = _document_id(document_id, title or doc.title, path, existing)
    problems = Problems(root)
    sources = parse_bibliography(bibliography_path(root), problems)
    topics = load_topics(root, problems)
    if problems:
        raise IngestError(
            "the curated folder has problems; run `kb check` first:\n" + "\n".join(map(str, problems.items))
        )
    matcher = ReferenceMatcher(sources.values())
    reference_list = find_reference_list(doc.text)

    def match(citation):
        return matcher.match(citation, reference_list=reference_list)

    candidates = extract_candidates(
        doc,
        document_id=document_id,
        topics={t.id: (t.label, t.description) for t in topics.values()},
        match_citation=match,
    )
    _attach_section_citations(doc, candidates, match)
    metadata = _metadata(doc, document_id, title, path, text_sha)
    notices = [] if candidates else ["no statement in the document carries evidence that the rules recognise"]
    return IngestPlan(document_id, path, doc, metadata, candidates, root, notices)


def write_ingest(plan: IngestPlan) -> None:
    """Write the document text, its metadata and its candidate file; all three or none."""
    targets = (plan.text_path, plan.metadata_path, plan.candidates_path)
    taken = [p for p in targets if p.exists()]
    if taken:
        raise IngestError(f"{taken[0]} already exists; choose another --id")
    written: list[Path] = []
    try:
        write_atomically(plan.text_path, plan.doc.text)
        written.append(plan.text_path)
        header = (
            f"# Ingested by `kb ingest` from {plan.source.name}; the text is byte-identical to {plan.text_path.name}.\n"
        )
        write_atomically(plan.metadata_path, header + dump_yaml(plan.metadata))
        written.append(plan.metadata_path)
        write_candidate_file(
            plan.candidates_path, plan.document_id, plan.source.name, [c.to_dict() for c in plan.candidates]
        )
        written.append(plan.candidates_path)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise


def _existing_documents(root: Path) -> dict[str, dict]:
    found = {}
    folder = documents_dir(root)
    for meta_file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            meta = yaml.safe_load(meta_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            meta = None  # kb check reports broken metadata; here it only cannot match
        if isinstance(meta, dict):
            found[str(meta.get("id") or meta_file.stem)] = meta
        else:
            found[meta_file.stem] = {}
    return found


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_ID_CHARS].rstrip("-")


def _document_id(given: str | None, title: str | None, path: Path, existing: dict) -> str:
    if given is not None:
        if not SLUG_RE.match(given) or len(given) > MAX_ID_CHARS:
            raise IngestError(f"--id {given!r} is not a slug (lowercase letters, digits and single hyphens, ≤ 80)")
        if given in existing:
            raise IngestError(f"--id {given!r} is already a document; choose another")
        return given
    base = slugify(path.stem) or slugify(title or "") or "document"
    candidate, n = base, 2
    while candidate in existing:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _metadata(doc: ExtractedDocument, document_id: str, title: str | None, path: Path, text_sha: str) -> dict:
    # Title: the user's, else what the file says, else its name (said so in `note`); author and year only
    # from the file itself, never guessed.
    note = None
    if not (title or doc.title):
        note = "The file states no title; the title is its file name."
    return {
        "id": document_id,
        "title": title or doc.title or path.stem,
        "author": doc.author,
        "kind": doc.kind,
        "year": doc.year,
        "url": None,
        "note": note,
        "sha256": text_sha,
        "file_sha256": doc.file_sha256,
        "format": doc.format,
        "source_file": path.name,
        "ingested": datetime.date.today().isoformat(),
        "slides": section_entries(doc),
    }


def section_entries(doc: ExtractedDocument) -> list[dict]:
    """The document's pages, slides or headings as the `slides` list every document yaml has.

    Numbers and lines must both increase (ingest/documents.py checks it), so
    notes (which share their slide's number) and any section starting on the
    line of the one before are left out: the earlier one already covers it.
    """
    entries: list[dict] = []
    numbered = [s for s in doc.sections if s.kind in ("page", "slide")]
    sections = numbered or [s for s in doc.sections if s.kind == "heading"]
    for position, section in enumerate(sections, 1):
        line = doc.line_of(section.char_start)
        number = section.number if numbered else position
        if entries and (number <= entries[-1]["number"] or line <= entries[-1]["line"]):
            continue
        label = (section.label or "").strip()
        heading = label or (f"Page {number}" if section.kind == "page" else f"Slide {number}")
        entries.append({"number": number, "heading": " ".join(heading.split()), "line": line})
    return entries


def _attach_section_citations(doc: ExtractedDocument, candidates: list[Candidate], match) -> None:
    """Slides cite their sources on a line of their own, below the bullets: give those to the slide's candidates.

    A citation inside a candidate's quote is already attached; one that stands
    outside every quote in the same page or slide is attached to that section's
    candidates with `where: section` and a lower score (it may back only some of them).
    """
    if not candidates:
        return
    quoted = [(c.char_start, c.char_end) for c in candidates]
    for citation in find_citations(doc.text):
        if any(start <= citation.start < end for start, end in quoted):
            continue
        section = _numbered_section(doc, citation.start)
        if section is None:
            continue
        found = match(citation)
        for candidate in candidates:
            if section.char_start <= candidate.char_start < section.char_end:
                candidate.citations.append(
                    {"text": citation.text, "key": found.key, "score": round(found.score * 0.9, 3), "where": "section"}
                )
    for candidate in candidates:
        for cite in candidate.citations:
            cite.setdefault("where", "quote")


def _numbered_section(doc: ExtractedDocument, offset: int):
    for section in doc.sections:
        if section.kind in ("page", "slide") and section.char_start <= offset < section.char_end:
            return section
    return None

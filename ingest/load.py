"""Load every curated input and check that it hangs together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .bibliography import Source, parse_bibliography
from .candidate_files import load_candidate_files
from .claims import SLUG_RE, Claim, load_claim_files, parse_claim
from .documents import Document, load_documents
from .errors import Problems
from .paths import bibliography_path, topics_path
from .yaml_lines import LineDict, YamlSyntaxError, load_yaml


@dataclass
class Topic:
    id: str
    label: str
    description: str | None


@dataclass
class KnowledgeBase:
    root: Path
    documents: dict[str, Document]
    topics: dict[str, Topic]
    sources: dict[str, Source]
    claims: list[Claim]
    candidate_files: list = field(default_factory=list)


def load_all(root: Path | str) -> KnowledgeBase:
    """Load and validate; raises ValidationFailed listing every problem."""
    root = Path(root)
    problems = Problems(root)
    topics = load_topics(root, problems)
    documents = load_documents(root, problems)
    sources = parse_bibliography(bibliography_path(root), problems)
    claims = _load_claims(root, documents, problems)
    _cross_check(claims, documents, topics, sources, problems)
    candidate_files = load_candidate_files(root, problems, documents)
    _check_decisions(candidate_files, claims, problems)
    problems.raise_if_any()
    return KnowledgeBase(root, documents, topics, sources, claims, candidate_files)


def _check_decisions(candidate_files, claims, problems: Problems) -> None:
    """An accepted candidate and the claim it became point at each other."""
    by_id = {c.id: c for c in claims}
    for candidate_file in candidate_files:
        for record in candidate_file.candidates:
            if record.status != "accepted" or not isinstance(record.data.get("claim"), str):
                continue
            claim = by_id.get(record.data["claim"])
            if claim is None:
                problems.add(
                    record.file,
                    record.line,
                    "claim",
                    f"accepted as {record.data['claim']!r}, but no claim has that id",
                    record=record.id,
                )
            elif not claim.provenance or claim.provenance["candidate"] != record.id:
                problems.add(
                    record.file,
                    record.line,
                    "claim",
                    f"claim {claim.id!r} does not record this candidate in its provenance",
                    record=record.id,
                )


def load_topics(root: Path, problems: Problems) -> dict[str, Topic]:
    path = topics_path(root)
    if not path.exists():
        problems.add(path, None, None, "topic vocabulary not found")
        return {}
    try:
        data = load_yaml(path)
    except YamlSyntaxError as exc:
        problems.add(path, exc.line, None, exc.message)
        return {}
    entries = data.get("topics") if isinstance(data, LineDict) else data
    if not isinstance(entries, list):
        problems.add(path, 1, "topics", "expected a list of {id, label, description}")
        return {}
    if isinstance(data, LineDict):
        for key in data:
            if key != "topics":
                problems.add(path, data.line_of(key), str(key), "unknown field (allowed: topics)")
    topics: dict[str, Topic] = {}
    for entry in entries:
        if isinstance(entry, LineDict):
            for key in entry:
                if key not in ("id", "label", "description"):
                    problems.add(path, entry.line_of(key), str(key), "unknown field (allowed: description, id, label)")
            if isinstance(entry.get("id"), str) and not SLUG_RE.match(entry["id"]):
                problems.add(
                    path,
                    entry.line_of("id"),
                    "id",
                    f"{entry['id']!r} is not a slug (lowercase letters, digits and single hyphens)",
                )
                continue
        if (
            not isinstance(entry, LineDict)
            or not isinstance(entry.get("id"), str)
            or not isinstance(entry.get("label"), str)
        ):
            problems.add(path, getattr(entry, "line", None), "topics", "each topic needs a string id and label")
            continue
        if entry["id"] in topics:
            problems.add(path, entry.line_of("id"), "id", f"duplicate topic id {entry['id']!r}", record=entry["id"])
            continue
        topics[entry["id"]] = Topic(entry["id"], entry["label"], entry.get("description"))
    return topics


def _load_claims(root: Path, documents: dict[str, Document], problems: Problems) -> list[Claim]:
    claims: list[Claim] = []
    seen: dict[str, tuple[Path, int]] = {}
    for path, document_id, records in load_claim_files(root, problems):
        if document_id is not None and document_id not in documents:
            problems.add(
                path,
                1,
                "document",
                f"unknown document {document_id!r} (known: {', '.join(sorted(documents)) or 'none'})",
            )
        for raw in records:
            raw_id = raw.get("id")
            if isinstance(raw_id, str):
                if raw_id in seen:
                    first_file, first_line = seen[raw_id]
                    problems.add(
                        path,
                        raw.line_of("id"),
                        "id",
                        f"duplicate claim id {raw_id!r} (first defined at {problems.rel(first_file)}:{first_line})",
                        record=raw_id,
                    )
                    continue
                seen[raw_id] = (path, raw.line_of("id"))
            claim = parse_claim(raw, path, document_id, problems)
            if claim is not None:
                claims.append(claim)
    return claims


def _cross_check(claims, documents, topics, sources, problems: Problems) -> None:
    ids = {c.id for c in claims}
    for claim in claims:
        raw = claim.raw

        def add(line, field, msg, claim=claim):
            problems.add(claim.file, line, field, msg, record=claim.id)

        doc = documents.get(claim.document_id)
        if doc is not None:
            _check_quote(claim, doc, raw, add)
        for topic in claim.topics:
            if topic not in topics:
                add(
                    raw.line_of("topics"),
                    "topics",
                    f"unknown topic {topic!r}; add it to evidence/topics.yaml or use one of: {', '.join(sorted(topics))}",
                )
        keys_seen = set()
        for link in claim.sources:
            if link.key not in sources:
                add(link.line, "sources.key", f"unknown citation key {link.key!r}: not in citations.bib")
            if link.key in keys_seen:
                add(link.line, "sources.key", f"source {link.key!r} is linked twice")
            keys_seen.add(link.key)
        if claim.source_effect is not None:
            se = claim.source_effect
            line = raw["source_effect"].line
            if se.source and se.source not in sources:
                add(line, "source_effect.source", f"unknown citation key {se.source!r}: not in citations.bib")
            if se.source and se.source not in keys_seen:
                add(line, "source_effect.source", f"{se.source!r} is not among this claim's sources")
            if claim.effect is not None and not claim.discrepancy and _effects_differ(claim.effect, se):
                add(
                    line,
                    "discrepancy",
                    (
                        f"the deck says {claim.effect.metric} {claim.effect.value:g} ({claim.effect.direction}) but the source "
                        f"reports {se.metric} {se.value:g} ({se.direction}); explain the difference in `discrepancy`"
                    ),
                )
        for rel in claim.relations:
            if rel.target not in ids:
                add(rel.line, "relations.target", f"unknown claim id {rel.target!r}")
            if rel.target == claim.id:
                add(rel.line, "relations.target", "a claim cannot relate to itself")


def _effects_differ(deck, source) -> bool:
    return (deck.metric, round(deck.value, 6), deck.direction) != (
        source.metric,
        round(source.value, 6),
        source.direction,
    )


def _check_quote(claim: Claim, doc: Document, raw: LineDict, add) -> None:
    quote_map = raw["quote"]
    text, start, end = claim.quote, claim.char_start, claim.char_end
    if doc.text[start:end] != text:
        found = doc.text.find(text)
        if found == -1:
            add(
                quote_map.line_of("text"),
                "quote.text",
                f"quote not found verbatim in document {doc.id!r}: {_preview(text)}",
            )
        else:
            add(
                quote_map.line_of("start"),
                "quote.start",
                (f"quote is at offsets {found}-{found + len(text)} (line {doc.line_of(found)}), not {start}-{end}"),
            )
        return
    line = doc.line_of(start)
    if line != claim.line_start:
        add(quote_map.line_of("line"), "quote.line", f"the quote starts on line {line}, not {claim.line_start}")
    slide = doc.slide_at_line(line)
    if slide is not None and slide.heading != claim.slide_heading:
        add(
            quote_map.line_of("slide"),
            "quote.slide",
            f"the quote is on slide {slide.number} {slide.heading!r}, not {claim.slide_heading!r}",
        )


def _preview(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")

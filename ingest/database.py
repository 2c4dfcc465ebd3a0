"""Write a validated knowledge base into a new SQLite file, and check what was written.

This is the data layer's only writer. It knows the schema (ingest/schema.py)
and the curated records; it does not format citations (the application hands
them in as a `Citations`) and it does not know about search or atomic renames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from .bibliography import csl_json
from .db import open_database
from .load import KnowledgeBase
from .schema import create_fts, create_schema, create_views

# The sources a claim rests on; background reading is listed but never cited for it.
BACKING_ROLES = ("cited_in_deck", "attributed")


class DatabaseError(Exception):
    """The written database failed its integrity checks."""


class Citations(Protocol):
    """In-text citation text for sources, made by the application so every surface agrees."""

    def cite(self, keys: list[str]) -> str:
        """'(Redelmeier et al., 1995)' for one or more keys; '' for none."""

    def narrative(self, key: str) -> str:
        """'Redelmeier et al. (1995)'."""


def verify_database(path: Path) -> None:
    """Foreign keys and SQLite's own integrity check; raises DatabaseError."""
    db = open_database(path, read_only=True)
    try:
        bad = db.execute("pragma foreign_key_check").fetchall()
        if bad:
            raise DatabaseError(f"foreign key violations in the built database: {bad[:5]}")
        status = db.execute("pragma integrity_check").fetchone()[0]
        if status != "ok":
            raise DatabaseError(f"integrity check failed: {status}")
    finally:
        db.close()


def write_database(kb: KnowledgeBase, path: Path, citations: Citations) -> dict[str, int]:
    """Write the validated KB to a new SQLite file at path; returns row counts per table.

    The caller owns atomicity (kb.build writes to a temporary file and renames
    it) and hands in the citation text, which the application layer formats.
    """
    db = open_database(path, read_only=False)
    try:
        with db.conn:
            create_schema(db)
            _insert_documents(db, kb)
            _insert_topics(db, kb)
            _insert_sources(db, kb, citations)
            _insert_claims(db, kb, citations)
            _update_counts(db)
            create_fts(db)
            create_views(db)
        db.execute("insert into claims_fts(claims_fts) values('optimize')")
        db.conn.commit()
        counts = {name: db[name].count for name in db.table_names() if not name.startswith("claims_fts")}
    finally:
        db.close()
    return counts


def _insert_documents(db, kb: KnowledgeBase) -> None:
    for doc in kb.documents.values():
        db["documents"].insert(
            {
                "id": doc.id,
                "title": doc.title,
                "author": doc.author,
                "kind": doc.kind,
                "year": doc.year,
                "url": doc.url,
                "path": str(doc.path.relative_to(kb.root)) if doc.path.is_relative_to(kb.root) else str(doc.path),
                "sha256": doc.sha256,
                "text": doc.text,
                "n_chars": len(doc.text),
                "n_lines": doc.n_lines,
                "note": doc.note,
            }
        )
        db["slides"].insert_all(
            {
                "document_id": doc.id,
                "number": s.number,
                "heading": s.heading,
                "line_start": s.line_start,
                "line_end": s.line_end,
                "char_start": s.char_start,
                "char_end": s.char_end,
            }
            for s in doc.slides
        )


def _insert_topics(db, kb: KnowledgeBase) -> None:
    db["topics"].insert_all({"id": t.id, "label": t.label, "description": t.description} for t in kb.topics.values())


def _people_display(people) -> str | None:
    return "; ".join(p.display for p in people) or None


def _insert_sources(db, kb: KnowledgeBase, citations: Citations) -> None:
    authors: dict[str, dict] = {}
    links = []
    for source in kb.sources.values():
        f = source.fields
        db["sources"].insert(
            {
                "key": source.key,
                "entry_type": source.entry_type,
                "csl_type": source.csl_type,
                "title": f.get("title"),
                "container_title": f.get("journal") or f.get("booktitle"),
                "year": source.year,
                "volume": f.get("volume"),
                "issue": f.get("number"),
                "pages": f.get("pages"),
                "publisher": f.get("publisher"),
                "publisher_place": f.get("address"),
                "edition": f.get("edition"),
                "doi": f.get("doi"),
                "url": f.get("url"),
                "isbn": f.get("isbn"),
                "institution": f.get("institution"),
                "note": f.get("note"),
                "authors_display": _people_display(source.authors),
                "editors_display": _people_display(source.editors),
                "citation_short": citations.cite([source.key]),
                "citation_narrative": citations.narrative(source.key),
                "bibtex": source.raw_bibtex,
                "csl_json": csl_json(source),
                "missing_fields": json.dumps(source.missing),
                "bib_line": source.line,
                "verified": int(source.verified),
            }
        )
        for role, people in (("author", source.authors), ("editor", source.editors)):
            for position, person in enumerate(people, 1):
                known = authors.get(person.slug)
                if known is None or len(person.given or "") > len(known["given"] or ""):
                    authors[person.slug] = {
                        "slug": person.slug,
                        "family": person.family,
                        "given": person.given,
                        "literal": person.literal,
                        "display": person.display,
                    }
                links.append((source.key, person.slug, role, position))
    for i, (_slug, author) in enumerate(sorted(authors.items()), 1):
        author["id"] = i
        db["authors"].insert(author)
    db["source_authors"].insert_all(
        {"source_key": key, "author_id": authors[slug]["id"], "role": role, "position": position}
        for key, slug, role, position in links
    )


def _insert_claims(db, kb: KnowledgeBase, citations: Citations) -> None:
    for claim in kb.claims:
        backing = [kb.sources[link.key] for link in claim.sources if link.role in BACKING_ROLES]
        topic_labels = [kb.topics[t].label for t in claim.topics]
        db["claims"].insert(
            claim.to_row(
                kb.documents[claim.document_id],
                backing,
                topic_labels,
                citations.cite([s.key for s in backing]) or None,
                kb.root,
            )
        )
    for claim in kb.claims:
        db["claim_items"].insert_all(
            {"claim_id": claim.id, "position": i, "label": item["label"], "detail": item.get("detail")}
            for i, item in enumerate(claim.items, 1)
        )
        db["claim_topics"].insert_all({"claim_id": claim.id, "topic_id": t} for t in claim.topics)
        db["claim_sources"].insert_all(
            {
                "claim_id": claim.id,
                "source_key": link.key,
                "role": link.role,
                "confidence": link.confidence,
                "locator": link.locator,
                "note": link.note,
            }
            for link in claim.sources
        )
        db["claim_relations"].insert_all(
            {"from_claim": claim.id, "relation": rel.relation, "to_claim": rel.target, "note": rel.note}
            for rel in claim.relations
        )


def _update_counts(db) -> None:
    db.execute("update topics set n_claims = (select count(*) from claim_topics where topic_id = topics.id)")
    db.execute("update sources set n_claims = (select count(*) from claim_sources where source_key = sources.key)")
    db.execute(
        "update authors set n_works = (select count(distinct source_key) from source_authors where author_id = authors.id)"
    )

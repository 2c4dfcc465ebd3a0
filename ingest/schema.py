"""The SQLite schema, written with sqlite-utils. docs/architecture.md and the README
describe every table; metadata.json describes every column for Datasette."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the search path imports json_list; it must not pay for sqlite-utils
    import sqlite_utils

TABLES = {
    "documents": (
        {
            "id": str,
            "title": str,
            "author": str,
            "kind": str,
            "year": int,
            "url": str,
            "path": str,
            "sha256": str,
            "text": str,
            "n_chars": int,
            "n_lines": int,
            "note": str,
        },
        {"pk": "id"},
    ),
    "slides": (
        {
            "document_id": str,
            "number": int,
            "heading": str,
            "line_start": int,
            "line_end": int,
            "char_start": int,
            "char_end": int,
        },
        {"pk": ("document_id", "number"), "foreign_keys": [("document_id", "documents", "id")]},
    ),
    "topics": (
        {"id": str, "label": str, "description": str, "n_claims": int},
        {"pk": "id"},
    ),
    "sources": (
        {
            "key": str,
            "entry_type": str,
            "csl_type": str,
            "title": str,
            "container_title": str,
            "year": int,
            "volume": str,
            "issue": str,
            "pages": str,
            "publisher": str,
            "publisher_place": str,
            "edition": str,
            "doi": str,
            "url": str,
            "isbn": str,
            "institution": str,
            "note": str,
            "authors_display": str,
            "editors_display": str,
            "citation_short": str,
            "citation_narrative": str,
            "bibtex": str,
            "csl_json": str,
            "missing_fields": str,
            "n_claims": int,
            "bib_line": int,
            # 1 when a curator checked every field against the work (citations.bib `verified = {yes}`).
            "verified": int,
        },
        {"pk": "key"},
    ),
    "authors": (
        {"id": int, "slug": str, "family": str, "given": str, "literal": str, "display": str, "n_works": int},
        {"pk": "id"},
    ),
    "source_authors": (
        {"source_key": str, "author_id": int, "role": str, "position": int},
        {
            "pk": ("source_key", "role", "position"),
            "foreign_keys": [("source_key", "sources", "key"), ("author_id", "authors", "id")],
        },
    ),
    "claims": (
        {
            "id": str,
            "kind": str,
            "statement": str,
            "quote": str,
            "document_id": str,
            "char_start": int,
            "char_end": int,
            "line_start": int,
            "line_end": int,
            "slide_number": int,
            "slide_heading": str,
            "population": str,
            "setting": str,
            "intervention": str,
            "comparator": str,
            "outcome": str,
            "effect_text": str,
            "effect_metric": str,
            "effect_value": float,
            "effect_direction": str,
            "source_effect_text": str,
            "source_effect_metric": str,
            "source_effect_value": float,
            "source_effect_direction": str,
            "source_effect_source": str,
            "source_effect_location": str,
            "source_effect_summary": str,
            "effect_status": str,
            "discrepancy": str,
            "study_design": str,
            "n_studies": int,
            "n_participants": int,
            "country": str,
            "certainty": str,
            "certainty_note": str,
            "year": int,
            "topics": str,
            "keywords": str,
            "items_text": str,
            "context": str,
            "citations": str,
            "source_keys": str,
            "notes": str,
            "record_file": str,
            "record_line": int,
            # Set when `kb accept` made the record from an ingested candidate.
            "candidate_id": str,
            "accepted_on": str,
        },
        {"pk": "id", "foreign_keys": [("document_id", "documents", "id"), ("source_effect_source", "sources", "key")]},
    ),
    "claim_items": (
        {"claim_id": str, "position": int, "label": str, "detail": str},
        {"pk": ("claim_id", "position"), "foreign_keys": [("claim_id", "claims", "id")]},
    ),
    "claim_topics": (
        {"claim_id": str, "topic_id": str},
        {"pk": ("claim_id", "topic_id"), "foreign_keys": [("claim_id", "claims", "id"), ("topic_id", "topics", "id")]},
    ),
    "claim_sources": (
        {"claim_id": str, "source_key": str, "role": str, "confidence": str, "locator": str, "note": str},
        {
            "pk": ("claim_id", "source_key"),
            "foreign_keys": [("claim_id", "claims", "id"), ("source_key", "sources", "key")],
        },
    ),
    "claim_relations": (
        {"from_claim": str, "relation": str, "to_claim": str, "note": str},
        {
            "pk": ("from_claim", "relation", "to_claim"),
            "foreign_keys": [("from_claim", "claims", "id"), ("to_claim", "claims", "id")],
        },
    ),
}

NOT_NULL = {
    "documents": {"title", "sha256", "text"},
    "sources": {"entry_type", "title", "citation_short", "bibtex", "csl_json"},
    "claims": {"kind", "statement", "quote", "document_id", "char_start", "char_end", "certainty"},
    "claim_sources": {"role", "confidence"},
}

# Columns that hold a JSON array as text (SQLite has no array type; Datasette's
# _facet_array and json_each read them). Read them back with json_list().
JSON_LIST_COLUMNS = {
    "claims": ("topics", "keywords", "source_keys"),
    "sources": ("missing_fields",),
}


def json_list(value) -> list:
    """A JSON-array column's value as a list: [] for NULL, empty or malformed text; a list passes through."""
    if isinstance(value, list):
        return value
    if not value:
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return []
    return parsed if isinstance(parsed, list) else []


FTS_COLUMNS = ["statement", "quote", "items_text", "keywords", "context"]

VIEWS = {
    # The in-text citation for a claim counts only sources the claim rests on;
    # background reading is listed separately.
    "claims_with_citations": """
        select c.id, c.kind, c.statement, c.effect_text, c.effect_metric, c.effect_value,
               c.effect_direction, c.effect_status, c.certainty, c.study_design, c.year,
               c.citations, c.source_keys, c.topics, c.slide_heading, c.line_start,
               c.rowid as claim_rowid
        from claims c
    """,
    "claim_sources_detailed": """
        select cs.claim_id, c.statement, cs.source_key, cs.role, cs.confidence,
               s.citation_short, s.citation_narrative, s.title, s.container_title,
               s.year, s.doi, s.url, cs.locator, cs.note
        from claim_sources cs
        join claims c on c.id = cs.claim_id
        join sources s on s.key = cs.source_key
    """,
    "effect_sizes": """
        select c.id, c.statement, c.effect_text, c.effect_metric, c.effect_value, c.effect_direction,
               c.source_effect_text, c.source_effect_metric, c.source_effect_value,
               c.source_effect_direction, c.effect_status, c.discrepancy, c.study_design,
               c.n_studies, c.n_participants, c.country, c.certainty, c.citations, c.topics
        from claims c
        where c.effect_metric is not null
    """,
    "discrepancies": """
        select c.id, c.statement, c.source_effect_summary as source_figure, c.effect_text as deck_says,
               c.source_effect_text as source_says,
               c.discrepancy, c.source_effect_source, s.citation_short
        from claims c
        left join sources s on s.key = c.source_effect_source
        where c.effect_status = 'discrepant'
    """,
    "sources_with_authors": """
        select s.key, s.citation_short, s.title, s.container_title, s.year, s.csl_type, s.doi, s.url,
               (select group_concat(a.display, '; ') from
                   (select a.display from source_authors sa join authors a on a.id = sa.author_id
                    where sa.source_key = s.key and sa.role = 'author' order by sa.position) a
               ) as authors,
               s.n_claims
        from sources s
    """,
    "value_chain": """
        select r.from_claim, f.statement as from_statement, r.relation, r.to_claim,
               t.statement as to_statement, f.intervention as cause, f.outcome as effect
        from claim_relations r
        join claims f on f.id = r.from_claim
        join claims t on t.id = r.to_claim
    """,
}


def create_schema(db: sqlite_utils.Database) -> None:
    db.execute("pragma foreign_keys = on")
    for name, (columns, options) in TABLES.items():
        db[name].create(columns, not_null=NOT_NULL.get(name), **options)
    db["authors"].create_index(["slug"], unique=True)
    db["claims"].create_index(["kind"])
    db["claims"].create_index(["document_id"])
    db["claim_sources"].create_index(["source_key"])
    db["claim_topics"].create_index(["topic_id"])
    db["source_authors"].create_index(["author_id"])
    db["claim_relations"].create_index(["to_claim"])


def create_views(db: sqlite_utils.Database) -> None:
    for name, sql in VIEWS.items():
        db.create_view(name, sql.strip(), replace=True)


def create_fts(db: sqlite_utils.Database) -> None:
    # Porter stemming lets "survive" match "survived"; the external-content
    # table keeps the index small and rebuildable from claims.
    db["claims"].enable_fts(FTS_COLUMNS, tokenize="porter", create_triggers=False)

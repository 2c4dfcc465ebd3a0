"""Build the SQLite knowledge base atomically.

Everything is written to a temporary file beside the target and renamed into
place only after it is complete and passes its integrity checks, so a failed
build leaves the previous database (and index) byte-identical.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from kb.config import fingerprint_path_for, index_path_for, project_root

from .bibliography import csl_json
from .load import KnowledgeBase, load_all
from .schema import create_fts, create_schema, create_views


class BuildError(Exception):
    pass


@dataclass
class BuildReport:
    db_path: Path
    counts: dict[str, int]
    search: dict = field(default_factory=dict)


def build(
    db_path: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    embed: bool = True,
    model: str | None = None,
    progress: bool = True,
    index_type: str | None = None,
) -> BuildReport:
    kb = load_all(Path(root) if root else project_root())
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=db_path.parent, prefix=f".{db_path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp_index, tmp_fingerprint = index_path_for(tmp), fingerprint_path_for(tmp)
    try:
        counts = write_database(kb, tmp)
        search_stats: dict = {}
        if embed:
            from search.build import build_search_artifacts

            try:
                search_stats = build_search_artifacts(
                    tmp,
                    tmp_index,
                    previous_db=db_path if db_path.exists() else None,
                    model=model,
                    progress=progress,
                    index_type=index_type,
                )
            except Exception as exc:  # model or index failures: report, keep the old files
                raise BuildError(f"embedding or indexing failed: {type(exc).__name__}: {exc}") from exc
        _verify(tmp)
        # mkstemp makes the file owner-only; a database is meant to be shared.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if embed:
            os.replace(tmp_index, index_path_for(db_path))
            os.replace(tmp_fingerprint, fingerprint_path_for(db_path))
        os.replace(tmp, db_path)
    finally:
        for leftover in (tmp, tmp_index, tmp_fingerprint, Path(str(tmp) + "-journal")):
            if leftover.exists():
                leftover.unlink()
    return BuildReport(db_path, counts, search_stats)


def _verify(path: Path) -> None:
    db = sqlite_utils.Database(path)
    try:
        bad = db.execute("pragma foreign_key_check").fetchall()
        if bad:
            raise BuildError(f"foreign key violations in the built database: {bad[:5]}")
        status = db.execute("pragma integrity_check").fetchone()[0]
        if status != "ok":
            raise BuildError(f"integrity check failed: {status}")
    finally:
        db.close()


def write_database(kb: KnowledgeBase, path: Path) -> dict[str, int]:
    db = sqlite_utils.Database(path)
    try:
        with db.conn:
            create_schema(db)
            _insert_documents(db, kb)
            _insert_topics(db, kb)
            in_text = in_text_citations(kb)
            _insert_sources(db, kb, in_text)
            _insert_claims(db, kb, in_text)
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


def in_text_citations(kb: KnowledgeBase):
    """APA in-text citations over the whole KB, made by the same code as `kb cite`
    so Datasette, the views and the exports agree (year suffixes, group authors)."""
    from kb.cite.apa import apa_ready
    from kb.cite.intext import InText
    from kb.cite.ordering import apa_order, assign_year_suffixes

    items = assign_year_suffixes(apa_order(apa_ready(s.to_csl()) for s in kb.sources.values()))
    return InText(items)


def _insert_sources(db, kb: KnowledgeBase, in_text) -> None:
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
                "citation_short": in_text.cite([source.key]),
                "citation_narrative": "{} ({})".format(*in_text.parts(source.key)).replace(" & ", " and "),
                "bibtex": source.raw_bibtex,
                "csl_json": csl_json(source),
                "missing_fields": json.dumps(source.missing),
                "bib_line": source.line,
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


def _effect_status(claim) -> str | None:
    # A discrepancy can concern a claim with no figure in the deck ("large
    # improvements" where the source reports moderate ones), so it wins.
    if claim.discrepancy:
        return "discrepant"
    if claim.effect is None:
        return None
    if claim.source_effect is None:
        return "unchecked"
    return "consistent"


def _insert_claims(db, kb: KnowledgeBase, in_text) -> None:
    for claim in kb.claims:
        doc = kb.documents[claim.document_id]
        slide = doc.slide_at_line(claim.line_start)
        backing = [kb.sources[link.key] for link in claim.sources if link.role in ("cited_in_deck", "attributed")]
        years = [s.year for s in backing if s.year]
        effect, source_effect = claim.effect, claim.source_effect
        topic_labels = [kb.topics[t].label for t in claim.topics]
        items_text = "\n".join(f"{i['label']}: {i['detail']}" if i.get("detail") else i["label"] for i in claim.items)
        context = " | ".join(
            filter(
                None,
                [
                    *(claim.pico.get(k) for k in ("population", "setting", "intervention", "comparator", "outcome")),
                    claim.slide_heading,
                    ", ".join(topic_labels),
                    effect.text if effect else None,
                ],
            )
        )
        db["claims"].insert(
            {
                "id": claim.id,
                "kind": claim.kind,
                "statement": claim.statement,
                "quote": claim.quote,
                "document_id": claim.document_id,
                "char_start": claim.char_start,
                "char_end": claim.char_end,
                "line_start": claim.line_start,
                "line_end": doc.line_of(max(claim.char_end - 1, claim.char_start)),
                "slide_number": slide.number if slide else None,
                "slide_heading": claim.slide_heading,
                **{k: claim.pico.get(k) for k in ("population", "setting", "intervention", "comparator", "outcome")},
                "effect_text": effect.text if effect else None,
                "effect_metric": effect.metric if effect else None,
                "effect_value": effect.value if effect else None,
                "effect_direction": effect.direction if effect else None,
                "source_effect_text": source_effect.text if source_effect else None,
                "source_effect_metric": source_effect.metric if source_effect else None,
                "source_effect_value": source_effect.value if source_effect else None,
                "source_effect_direction": source_effect.direction if source_effect else None,
                "source_effect_source": source_effect.source if source_effect else None,
                "source_effect_location": source_effect.location if source_effect else None,
                "effect_status": _effect_status(claim),
                "discrepancy": claim.discrepancy,
                "study_design": claim.study.get("design"),
                "n_studies": claim.study.get("n_studies"),
                "n_participants": claim.study.get("n_participants"),
                "country": claim.study.get("country"),
                "certainty": claim.certainty,
                "certainty_note": claim.certainty_note,
                "year": min(years) if years else None,
                "topics": json.dumps(claim.topics),
                "keywords": json.dumps(claim.keywords, ensure_ascii=False),
                "items_text": items_text or None,
                "context": context,
                "citations": in_text.cite([s.key for s in backing]) or None,
                "source_keys": json.dumps([s.key for s in backing]),
                "notes": claim.notes,
                "record_file": str(Path(claim.file).resolve().relative_to(kb.root.resolve())),
                "record_line": claim.line,
            }
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
